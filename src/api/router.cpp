#include "api/router.hpp"

#include <chrono>
#include <memory>

#include "api/responses.hpp"
#include "obs/metrics.hpp"

namespace repute::api {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  // "/v1/webhooks/" means the same as "/v1/webhooks".
  if (segments.size() > 1 && segments.back().empty()) segments.pop_back();
  return segments;
}

// A path segment with its %XX escapes decoded; a malformed escape is kept as it is.
std::string percent_decoded(const std::string& segment) {
  std::string out;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && std::isxdigit(static_cast<unsigned char>(segment[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(segment[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(segment.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path, PathParams& params) {
  if (pattern.size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].size() > 2 && pattern[i].front() == '{') {
      if (path[i].empty()) return false;
      params.push_back(percent_decoded(path[i]));
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

// Method labels come from clients: only the standard ones are kept, so the label set stays small.
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == known) return method;
  }
  return "other";
}

// Wraps respond so that every answer is counted under its route and timed.
Respond measured(std::string route, std::string method, Respond respond) {
  const auto started = std::chrono::steady_clock::now();
  return [route = std::move(route), method = std::move(method), started, respond = std::move(respond)](
             HttpResponse response) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto& metrics = obs::metrics();
    const obs::Labels labels = {{"method", method}, {"route", route}, {"status", std::to_string(response.status)}};
    metrics.add("repute_http_requests_total", labels);
    metrics.observe("repute_http_request_duration_seconds", {{"method", method}, {"route", route}}, seconds);
    respond(std::move(response));
  };
}

}  // namespace

void Router::add(std::string method, std::string pattern, RouteHandler handler) {
  auto segments = split_path(pattern);
  routes_.push_back({std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

void Router::dispatch(HttpRequest request, Respond respond) const {
  const auto path = split_path(request.path);
  PathParams params;
  std::string allowed;
  for (const Route& route : routes_) {
    if (!matches(route.segments, path, params)) continue;
    if (route.method == request.method) {
      route.handler(request, params, measured(route.pattern, request.method, std::move(respond)));
      return;
    }
    allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (!allowed.empty()) {
    HttpResponse response = detail_response(405, "Method \"" + request.method + "\" not allowed.");
    response.headers.emplace_back("Allow", allowed);
    measured("unmatched", method_label(request.method), std::move(respond))(std::move(response));
    return;
  }
  measured("unmatched", method_label(request.method), std::move(respond))(detail_response(404, "Not found."));
}

}  // namespace repute::api
