#pragma once
// List pages over HTTP: ?limit= and ?cursor= in, {"next", "previous", "results"} out.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <variant>

#include "api/http.hpp"
#include "store/store.hpp"

namespace repute::api {

inline constexpr int kDefaultPageSize = 10;
inline constexpr int kMaxPageSize = 200;

// The opaque text form of a cursor.
std::string encode_cursor(const store::Cursor& cursor);
// nullopt when text is not a cursor this server made.
std::optional<store::Cursor> decode_cursor(std::string_view text);

// The page asked for, or a 400 naming the bad parameter.
std::variant<store::PageRequest, HttpResponse> read_page_request(const HttpRequest& request);

// The response body for a page whose items are already JSON.
boost::json::object page_body(const HttpRequest& request, const store::PageRequest& asked,
                              const std::optional<store::Cursor>& next, const std::optional<store::Cursor>& previous,
                              boost::json::array results);

// page_body for a typed page, turning each item into JSON with to_json.
template <class T, class ToJson>
boost::json::object page_body(const HttpRequest& request, const store::PageRequest& asked, const store::Page<T>& page,
                              ToJson&& to_json) {
  boost::json::array results;
  results.reserve(page.items.size());
  for (const T& item : page.items) results.emplace_back(to_json(item));
  return page_body(request, asked, page.next, page.previous, std::move(results));
}

}  // namespace repute::api
