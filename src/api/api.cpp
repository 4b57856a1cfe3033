#include "api/api.hpp"

#include "api/routes.hpp"
#include "obs/metrics.hpp"

namespace repute::api {

Handler make_api_handler(ApiContext context) {
  obs::metrics().describe_counter("repute_http_requests_total", "HTTP requests answered, by method, route and status");
  obs::metrics().describe_histogram("repute_http_request_duration_seconds",
                                    "Time from a request's arrival to its answer, by method and route");
  auto shared_context = std::make_shared<ApiContext>(std::move(context));
  auto router = std::make_shared<Router>();
  add_health_routes(*router, shared_context);
  add_webhook_routes(*router, shared_context);
  add_user_routes(*router, shared_context);
  add_account_routes(*router, shared_context);
  add_reputation_routes(*router, shared_context);
  add_delivery_routes(*router, shared_context);
  add_webhook_action_routes(*router, shared_context);
  add_stats_routes(*router, shared_context);
  add_console_routes(*router);
  return [router, shared_context](HttpRequest request, Respond respond) {
    router->dispatch(std::move(request), std::move(respond));
  };
}

}  // namespace repute::api
