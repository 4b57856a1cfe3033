#include "api/route_helpers.hpp"

namespace repute::api {
namespace {

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TenantHandler with_id(IdHandler handler) {
  return [handler = std::move(handler)](const HttpRequest& request, const Caller& caller, const PathParams& params,
                                        Respond respond) {
    if (!core::is_uuid(params.at(0))) return respond(detail_response(404, "Not found."));
    handler(request, lowercase(params.at(0)), caller, std::move(respond));
  };
}

std::variant<std::optional<std::string>, HttpResponse> uuid_filter(const HttpRequest& request, const char* name) {
  const std::string* value = request.query_param(name);
  if (!value) return std::optional<std::string>();
  if (!core::is_uuid(*value)) return field_errors_response({{name, {"\"" + *value + "\" is not a valid UUID."}}});
  return std::optional<std::string>(lowercase(*value));
}

}  // namespace repute::api
