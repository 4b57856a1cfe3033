#pragma once
// Plain HTTP request and response values, so that only the server itself sees Boost.Beast.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repute::api {

// One parsed request.
struct HttpRequest {
  std::string method;  // "GET", "POST"...
  std::string path;    // without the query string, percent-decoding left to the router
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string host;
  std::string authorization;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // every header field, names as sent, in order
  std::string body;

  // The first value of a header field (name compared ASCII case-insensitively), or nullptr.
  const std::string* header(std::string_view name) const {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    for (const auto& [key, value] : headers) {
      if (key.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; same && i < key.size(); ++i) same = lower(key[i]) == lower(name[i]);
      if (same) return &value;
    }
    return nullptr;
  }

  // The first value of a query parameter, or nullptr.
  const std::string* query_param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

// One response; JSON unless content_type says otherwise.
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response; called exactly once per request, from any thread.
using Respond = std::function<void(HttpResponse)>;
// Serves one request.
using Handler = std::function<void(HttpRequest, Respond)>;

}  // namespace repute::api
