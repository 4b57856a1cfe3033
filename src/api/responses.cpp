#include "api/responses.hpp"

#include <boost/json/serialize.hpp>

#include "core/utf8.hpp"
#include "obs/log.hpp"

namespace repute::api {

HttpResponse json_response(int status, const boost::json::value& body) {
  return {status, boost::json::serialize(body), "application/json", {}};
}

// Messages may quote what a client sent; they are made valid UTF-8 so the answer stays valid JSON.
HttpResponse detail_response(int status, std::string_view detail) {
  return json_response(status, boost::json::object{{"detail", core::valid_utf8(detail)}});
}

HttpResponse field_errors_response(const FieldErrors& errors) {
  boost::json::object body;
  for (const auto& [field, messages] : errors) {
    boost::json::array list;
    for (const auto& message : messages) list.emplace_back(core::valid_utf8(message));
    body[core::valid_utf8(field)] = std::move(list);
  }
  return json_response(400, body);
}

HttpResponse error_response(const core::Error& error) {
  switch (error.code) {
    case core::ErrorCode::kInvalid:
      return detail_response(400, error.message);
    case core::ErrorCode::kNotFound:
      return detail_response(404, "Not found.");
    case core::ErrorCode::kConflict:
      return detail_response(409, error.message);
    case core::ErrorCode::kUnavailable:
    case core::ErrorCode::kStorageFull: {
      obs::log_warn("request refused: store unavailable", {{"error", error.message}});
      HttpResponse response = detail_response(503, "Service temporarily unavailable: " + error.message);
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    case core::ErrorCode::kInternal:
      break;
  }
  obs::log_error("request failed", {{"error", error.message}});
  return detail_response(500, "Internal server error.");
}

}  // namespace repute::api
