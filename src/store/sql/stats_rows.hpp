#pragma once
// Delivery statistics for the console: one subscription's health and a tenant's overview, read from the
// deliveries by creation time (index deliveries_by_tenant_created), never by walking every row.
#include <string>

#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

Result<WebhookStats> webhook_stats(Connection& db, const std::string& tenant_id, const std::string& webhook_id,
                                   core::Micros now);
Result<DeliveryOverview> delivery_overview(Connection& db, const std::string& tenant_id, core::Micros since);

}  // namespace repute::store::sql
