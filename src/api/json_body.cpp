#include "api/json_body.hpp"

#include "api/responses.hpp"
#include "core/strict_json.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

bool is_json_content_type(const std::string& content_type) {
  if (content_type.empty()) return true;
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
}

}  // namespace

std::variant<json::object, HttpResponse> parse_json_object(const HttpRequest& request) {
  if (!is_json_content_type(request.content_type)) {
    return detail_response(415, "Unsupported media type \"" + request.content_type + "\" in request.");
  }
  // An empty body means an empty object: POST /v1/users needs no fields at all.
  if (request.body.empty()) return json::object();
  auto parsed = core::parse_strict_json(request.body);
  if (!parsed) return detail_response(400, "JSON parse error - " + parsed.error().message + ".");
  json::value& value = *parsed;
  if (!value.is_object()) {
    return json_response(400, json::object{{"non_field_errors", json::array{"Invalid data. Expected a dictionary, but got " +
                                                                            std::string(json::to_string(value.kind())) + "."}}});
  }
  return std::move(value.as_object());
}

}  // namespace repute::api
