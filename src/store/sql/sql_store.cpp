#include "store/sql/sql_store.hpp"

#include "store/sql/delivery_rows.hpp"
#include "store/sql/resource_rows.hpp"
#include "store/sql/stats_rows.hpp"
#include "store/sql/tenant_rows.hpp"
#include "store/sql/webhook_rows.hpp"

namespace repute::store::sql {

SqlStore::~SqlStore() { SqlStore::close(); }

Result<std::optional<core::ApiKey>> SqlStore::find_api_key(const std::string& key_id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_api_key(db, key_id); });
}

Result<std::vector<core::ApiKey>> SqlStore::list_api_keys() {
  return readers_->with_reader([&](Connection& db) { return sql::list_api_keys(db); });
}

Result<std::optional<core::Tenant>> SqlStore::find_tenant(const std::string& tenant_id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_tenant(db, tenant_id); });
}

Result<std::optional<core::Webhook>> SqlStore::find_webhook(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_webhook(db, tenant_id, id); });
}

Result<Page<core::Webhook>> SqlStore::list_webhooks(const std::string& tenant_id, const PageRequest& page) {
  return readers_->with_reader([&](Connection& db) { return sql::list_webhooks(db, tenant_id, page); });
}

Result<std::optional<core::User>> SqlStore::find_user(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_user(db, tenant_id, id); });
}

Result<Page<core::User>> SqlStore::list_users(const std::string& tenant_id, const PageRequest& page) {
  return readers_->with_reader([&](Connection& db) { return sql::list_users(db, tenant_id, page); });
}

Result<std::optional<core::Account>> SqlStore::find_account(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_account(db, tenant_id, id); });
}

Result<Page<core::Account>> SqlStore::list_accounts(const std::string& tenant_id, const std::optional<std::string>& user_id, const PageRequest& page) {
  return readers_->with_reader([&](Connection& db) { return sql::list_accounts(db, tenant_id, user_id, page); });
}

Result<std::optional<core::Reputation>> SqlStore::find_reputation(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_reputation(db, tenant_id, id); });
}

Result<Page<core::Reputation>> SqlStore::list_reputations(const std::string& tenant_id, const ReputationFilter& filter, const PageRequest& page) {
  return readers_->with_reader([&](Connection& db) { return sql::list_reputations(db, tenant_id, filter, page); });
}

Result<std::optional<core::Event>> SqlStore::find_event(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_event(db, tenant_id, id); });
}

Result<Page<core::Event>> SqlStore::list_events(const std::string& tenant_id, const EventFilter& filter,
                                                const PageRequest& page) {
  return readers_->with_reader([&](Connection& db) { return sql::list_events(db, tenant_id, filter, page); });
}

Result<std::vector<core::Delivery>> SqlStore::list_event_deliveries(const std::string& tenant_id,
                                                                    const std::string& event_id) {
  return readers_->with_reader([&](Connection& db) { return sql::list_event_deliveries(db, tenant_id, event_id); });
}

Result<DeliveryCounts> SqlStore::count_deliveries(const std::string& event_id) {
  return readers_->with_reader([&](Connection& db) { return sql::count_deliveries(db, event_id); });
}

Result<std::optional<core::Delivery>> SqlStore::find_delivery(const std::string& tenant_id, const std::string& id) {
  return readers_->with_reader([&](Connection& db) { return sql::find_delivery(db, tenant_id, id); });
}

Result<Page<core::Delivery>> SqlStore::list_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                                       const DeliveryFilter& filter, const PageRequest& page) {
  return readers_->with_reader(
      [&](Connection& db) { return sql::list_deliveries(db, tenant_id, webhook_id, filter, page); });
}

Result<std::vector<core::DeliveryAttempt>> SqlStore::list_attempts(const std::string& delivery_id) {
  return readers_->with_reader([&](Connection& db) { return sql::list_attempts(db, delivery_id); });
}

Result<WebhookStats> SqlStore::webhook_stats(const std::string& tenant_id, const std::string& webhook_id,
                                             core::Micros now) {
  return readers_->with_reader([&](Connection& db) { return sql::webhook_stats(db, tenant_id, webhook_id, now); });
}

Result<DeliveryOverview> SqlStore::delivery_overview(const std::string& tenant_id, core::Micros since) {
  return readers_->with_reader([&](Connection& db) { return sql::delivery_overview(db, tenant_id, since); });
}

Result<std::optional<core::Micros>> SqlStore::next_scan_due() {
  return readers_->with_reader([&](Connection& db) { return sql::next_scan_due(db); });
}

Result<std::optional<core::Micros>> SqlStore::next_delivery_due() {
  return readers_->with_reader([&](Connection& db) { return sql::next_delivery_due(db); });
}

Status SqlStore::ping() {
  return readers_->with_reader([](Connection& db) -> Status {
    auto statement = db.prepare("SELECT 1");
    if (!statement) return statement.error();
    return statement->run();
  });
}

void SqlStore::close() {
  writer_->close();
  readers_->clear();
}

}  // namespace repute::store::sql
