#include "api/pagination.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>

#include "api/responses.hpp"
#include "core/base64.hpp"

namespace repute::api {
namespace {

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string encode_query_value(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

std::string page_url(const HttpRequest& request, int limit, const store::Cursor& cursor) {
  std::string url = "http://" + (request.host.empty() ? std::string("localhost") : request.host) + request.path + "?";
  for (const auto& [key, value] : request.query) {
    if (key == "cursor" || key == "limit") continue;
    url += encode_query_value(key) + "=" + encode_query_value(value) + "&";
  }
  return url + "limit=" + std::to_string(limit) + "&cursor=" + encode_cursor(cursor);
}

}  // namespace

std::string encode_cursor(const store::Cursor& cursor) {
  const char direction = cursor.direction == store::Cursor::Direction::kAfter ? 'a' : 'b';
  return core::base64url_encode(std::string(1, direction) + ":" + std::to_string(cursor.position));
}

std::optional<store::Cursor> decode_cursor(std::string_view text) {
  auto decoded = core::base64url_decode(text);
  if (!decoded || decoded->size() < 3 || (*decoded)[1] != ':') return std::nullopt;
  const char direction = (*decoded)[0];
  if (direction != 'a' && direction != 'b') return std::nullopt;
  auto position = parse_integer(std::string_view(*decoded).substr(2));
  if (!position || *position < 0) return std::nullopt;
  return store::Cursor{direction == 'a' ? store::Cursor::Direction::kAfter : store::Cursor::Direction::kBefore,
                       *position};
}

std::variant<store::PageRequest, HttpResponse> read_page_request(const HttpRequest& request) {
  store::PageRequest page;
  FieldErrors errors;
  if (const std::string* limit = request.query_param("limit")) {
    auto value = parse_integer(*limit);
    if (!value) {
      errors["limit"].push_back("A valid integer is required.");
    } else if (*value < 1) {
      errors["limit"].push_back("Ensure this value is greater than or equal to 1.");
    } else if (*value > kMaxPageSize) {
      errors["limit"].push_back("Ensure this value is less than or equal to " + std::to_string(kMaxPageSize) + ".");
    } else {
      page.limit = static_cast<int>(*value);
    }
  }
  if (const std::string* cursor = request.query_param("cursor")) {
    page.cursor = decode_cursor(*cursor);
    if (!page.cursor) errors["cursor"].push_back("Invalid cursor.");
  }
  if (!errors.empty()) return field_errors_response(errors);
  return page;
}

boost::json::object page_body(const HttpRequest& request, const store::PageRequest& asked,
                              const std::optional<store::Cursor>& next, const std::optional<store::Cursor>& previous,
                              boost::json::array results) {
  boost::json::object body;
  body["next"] = next ? boost::json::value(page_url(request, asked.limit, *next)) : boost::json::value(nullptr);
  body["previous"] =
      previous ? boost::json::value(page_url(request, asked.limit, *previous)) : boost::json::value(nullptr);
  body["results"] = std::move(results);
  return body;
}

}  // namespace repute::api
