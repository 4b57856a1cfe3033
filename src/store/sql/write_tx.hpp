#pragma once
// WriteTx on a writer connection of either back end, inside the batch's transaction.
#include <string>
#include <vector>

#include "store/sql/connection.hpp"

#include "store/store.hpp"

namespace repute::store::sql {

// Runs each WriteTx operation on the writer connection, inside the batch's transaction; leases taken are owned by
// node_id.
class SqlWriteTx final : public WriteTx {
 public:
  SqlWriteTx(Connection& db, std::string node_id) : db_(db), node_id_(std::move(node_id)) {}

  // Whether the work so far made deliveries or scans due; reset by the writer for each batch.
  bool made_deliveries_due = false;
  bool made_scans_due = false;
  // Where new deliveries go (may be null), the deliveries stored leased to it, and how many reservations the
  // batch took (the writer hands both over after the commit, minus what units that rolled back made).
  DeliveryHandoff* handoff = nullptr;
  bool changed_webhooks = false;
  std::vector<core::Delivery> handed;
  std::vector<std::string> reserved_for;  // the subscription of each reservation taken

  Result<core::Tenant> ensure_tenant(const std::string& name, core::Micros now) override;
  Status insert_api_key(const core::ApiKey& key) override;
  Result<bool> revoke_api_key(const std::string& key_id, core::Micros now) override;
  Result<std::optional<std::string>> get_setting(const std::string& key) override;
  Status put_setting(const std::string& key, const std::string& value) override;
  Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) override;
  Status insert_webhook(const core::Webhook& webhook) override;
  Status update_webhook(const core::Webhook& webhook) override;
  Result<bool> delete_webhook(const std::string& tenant_id, const std::string& id) override;
  Result<std::vector<core::Webhook>> list_enabled_webhooks(const std::string& tenant_id) override;
  Result<std::optional<core::User>> find_user(const std::string& tenant_id, const std::string& id) override;
  Status insert_user(const core::User& user) override;
  Result<bool> delete_user(const std::string& tenant_id, const std::string& id) override;
  Result<std::optional<core::Account>> find_account(const std::string& tenant_id, const std::string& id) override;
  Status insert_account(const core::Account& account) override;
  Status update_account(const core::Account& account) override;
  Result<bool> delete_account(const std::string& tenant_id, const std::string& id) override;
  Result<std::vector<core::Account>> claim_due_scans(core::Micros now, core::Micros lease_until, int limit) override;
  Result<std::vector<core::Account>> find_due_scans(core::Micros now, int limit) override;
  Status lease_scan(const core::Account& account, core::Micros lease_until) override;
  Status record_scan(const core::Account& account) override;
  Result<std::optional<core::Reputation>> find_reputation_by_account(const std::string& account_id) override;
  Status insert_reputation(const core::Reputation& reputation) override;
  Status update_reputation(const core::Reputation& reputation) override;
  Status insert_event(const core::Event& event) override;
  Status insert_delivery(core::Delivery& delivery) override;
  Result<std::vector<core::Delivery>> claim_due_deliveries(core::Micros now, core::Micros lease_until, int limit,
                                                           const std::vector<std::string>& skip_webhooks) override;
  Result<std::optional<core::Delivery>> find_delivery(const std::string& tenant_id, const std::string& id) override;
  Status update_delivery(const core::Delivery& delivery) override;
  Status insert_attempt(const core::DeliveryAttempt& attempt) override;
  Result<std::optional<core::Webhook>> find_webhook_by_id(const std::string& id) override;
  Result<std::optional<core::Webhook>> read_webhook_by_id(const std::string& id) override;
  Result<std::int64_t> requeue_failed_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                                 core::Micros since, core::Micros now) override;

 private:
  Connection& db_;
  std::string node_id_;
};

}  // namespace repute::store::sql
