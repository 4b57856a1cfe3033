#pragma once
// Events, deliveries and delivery attempts: the outbox and the delivery log.
#include <optional>
#include <string>
#include <vector>

#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

Status insert_event(Connection& db, const core::Event& event);
Result<std::optional<core::Event>> find_event(Connection& db, const std::string& tenant_id, const std::string& id);
Result<Page<core::Event>> list_events(Connection& db, const std::string& tenant_id, const EventFilter& filter,
                                      const PageRequest& page);
Result<std::vector<core::Delivery>> list_event_deliveries(Connection& db, const std::string& tenant_id,
                                                          const std::string& event_id);
Result<DeliveryCounts> count_deliveries(Connection& db, const std::string& event_id);

// Stores the delivery (leased to leased_by, when given) and sets its seq.
Status insert_delivery(Connection& db, core::Delivery& delivery, const std::optional<std::string>& leased_by);
Status update_delivery(Connection& db, const core::Delivery& delivery);
Result<std::optional<core::Delivery>> find_delivery(Connection& db, const std::string& tenant_id,
                                                    const std::string& id);
Result<Page<core::Delivery>> list_deliveries(Connection& db, const std::string& tenant_id,
                                             const std::string& webhook_id, const DeliveryFilter& filter,
                                             const PageRequest& page);
Result<std::vector<core::Delivery>> claim_due_deliveries(Connection& db, core::Micros now, core::Micros lease_until,
                                                         int limit, const std::vector<std::string>& skip_webhooks,
                                                         const std::string& node_id);
Result<std::optional<core::Micros>> next_delivery_due(Connection& db);
Result<std::int64_t> requeue_failed_deliveries(Connection& db, const std::string& tenant_id,
                                               const std::string& webhook_id, core::Micros since, core::Micros now);

Status insert_attempt(Connection& db, const core::DeliveryAttempt& attempt);
Result<std::vector<core::DeliveryAttempt>> list_attempts(Connection& db, const std::string& delivery_id);

}  // namespace repute::store::sql
