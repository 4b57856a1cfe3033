#pragma once
// The route groups, each registered by its own file.
#include "api/api.hpp"
#include "api/router.hpp"

namespace repute::api {

// /healthz, /readyz, /metrics.
void add_health_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// /v1/webhooks.
void add_webhook_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// /v1/users.
void add_user_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// /v1/accounts, their periodic scans and pushed scan results.
void add_account_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// /v1/reputations and /v1/events.
void add_reputation_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// The delivery log: /v1/webhooks/{id}/deliveries, /v1/deliveries/{id}, retry and recover.
void add_delivery_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// Rotating a subscription's secret and sending it a test event.
void add_webhook_action_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// Delivery statistics: /v1/webhooks/{id}/stats and /v1/overview.
void add_stats_routes(Router& router, const std::shared_ptr<ApiContext>& context);
// The operator console's pages and assets under /console/.
void add_console_routes(Router& router);

}  // namespace repute::api
