#pragma once
// JSON responses and the error shapes of the API (DESIGN §2): {"detail": "..."} and field-keyed arrays.
#include <boost/json/value.hpp>
#include <map>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "core/field_errors.hpp"
#include "core/result.hpp"

namespace repute::api {

using core::FieldErrors;

HttpResponse json_response(int status, const boost::json::value& body);
// {"detail": detail}
HttpResponse detail_response(int status, std::string_view detail);
// 400 with {"field": ["message", ...], ...}
HttpResponse field_errors_response(const FieldErrors& errors);
// The answer for a failure from below: 400, 404, 409, 503 or 500 (logged).
HttpResponse error_response(const core::Error& error);

}  // namespace repute::api
