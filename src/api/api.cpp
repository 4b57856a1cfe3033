#include "api/api.hpp"

#include "api/routes.hpp"

namespace repute::api {

Handler make_api_handler(ApiContext context) {
  auto shared_context = std::make_shared<ApiContext>(std::move(context));
  auto router = std::make_shared<Router>();
  add_health_routes(*router, shared_context);
  add_webhook_routes(*router, shared_context);
  add_user_routes(*router, shared_context);
  add_account_routes(*router, shared_context);
  add_reputation_routes(*router, shared_context);
  return [router, shared_context](HttpRequest request, Respond respond) {
    router->dispatch(std::move(request), std::move(respond));
  };
}

}  // namespace repute::api
