#pragma once
// Reading a request's JSON body strictly: valid JSON, one object, no duplicate keys, bounded depth.
#include <boost/json/object.hpp>
#include <variant>

#include "api/http.hpp"

namespace repute::api {

// The body as a JSON object, or the error response to send.
std::variant<boost::json::object, HttpResponse> parse_json_object(const HttpRequest& request);

}  // namespace repute::api
