#include "api/responses.hpp"
#include "api/routes.hpp"
#include "obs/metrics.hpp"

namespace repute::api {

void add_health_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  router.add("GET", "/healthz", [](const HttpRequest&, const PathParams&, Respond respond) {
    respond(json_response(200, boost::json::object{{"status", "ok"}}));
  });
  router.add("GET", "/readyz", [context](const HttpRequest&, const PathParams&, Respond respond) {
    if (auto ping = context->store.ping(); !ping) {
      return respond(json_response(503, boost::json::object{{"status", "unavailable"}, {"detail", ping.error().message}}));
    }
    respond(json_response(200, boost::json::object{{"status", "ready"}}));
  });
  router.add("GET", "/metrics", [](const HttpRequest&, const PathParams&, Respond respond) {
    respond({200, obs::metrics().render(), "text/plain; version=0.0.4; charset=utf-8", {}});
  });
}

}  // namespace repute::api
