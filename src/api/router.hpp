#pragma once
// Routing: method and path pattern ("/v1/webhooks/{id}") to a handler; 404 and 405 for the rest;
// request metrics by route and status.
#include <string>
#include <vector>

#include "api/http.hpp"

namespace repute::api {

// The values of a route's {placeholders}, in order.
using PathParams = std::vector<std::string>;
// Serves one matched request.
using RouteHandler = std::function<void(const HttpRequest&, const PathParams&, Respond)>;

// Matches requests to routes.
class Router {
 public:
  // Adds a route; pattern segments in braces match any one non-empty segment.
  void add(std::string method, std::string pattern, RouteHandler handler);
  // Serves request with its route's handler, or answers 404/405.
  void dispatch(HttpRequest request, Respond respond) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace repute::api
