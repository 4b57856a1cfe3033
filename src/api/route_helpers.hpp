#pragma once
// Small pieces every route group shares: id checks, "found or 404", "written or error".
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/auth.hpp"
#include "api/pagination.hpp"
#include "api/responses.hpp"
#include "core/ids.hpp"

namespace repute::api {

// Serves a request for one object by its id.
using IdHandler = std::function<void(const HttpRequest&, const std::string& id, const Caller&, Respond)>;

// Ids that are not UUIDs cannot name anything: 404 without asking the store. Ids are compared lowercase.
TenantHandler with_id(IdHandler handler);

// 200 with to_json(object), 404 when absent, or the error.
template <class T, class ToJson>
void respond_found(const Respond& respond, const core::Result<std::optional<T>>& found, ToJson&& to_json) {
  if (!found) return respond(error_response(found.error()));
  if (!*found) return respond(detail_response(404, "Not found."));
  respond(json_response(200, to_json(**found)));
}

// Reads the page a list request asks for and answers with list(page) rendered by to_json.
template <class List, class ToJson>
void respond_page(const HttpRequest& request, const Respond& respond, List&& list, ToJson&& to_json) {
  auto asked = read_page_request(request);
  if (auto* refused = std::get_if<HttpResponse>(&asked)) return respond(std::move(*refused));
  const auto& page_request = std::get<store::PageRequest>(asked);
  auto page = list(page_request);
  if (!page) return respond(error_response(page.error()));
  respond(json_response(200, page_body(request, page_request, *page, to_json)));
}

// An optional UUID query filter (?user=...): nullopt when absent; a 400 when present but not a UUID.
std::variant<std::optional<std::string>, HttpResponse> uuid_filter(const HttpRequest& request, const char* name);

}  // namespace repute::api
