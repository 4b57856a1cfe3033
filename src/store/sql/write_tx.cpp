#include "store/sql/write_tx.hpp"

#include "core/ids.hpp"
#include "store/sql/delivery_rows.hpp"
#include "store/sql/resource_rows.hpp"
#include "store/sql/tenant_rows.hpp"
#include "store/sql/webhook_rows.hpp"

namespace repute::store::sql {

Result<core::Tenant> SqlWriteTx::ensure_tenant(const std::string& name, core::Micros now) {
  auto found = find_tenant_by_name(db_, name);
  if (!found) return found.error();
  if (*found) return **found;
  core::Tenant tenant{core::new_uuid(), name, now};
  if (auto status = insert_tenant(db_, tenant); !status) return status.error();
  return tenant;
}

Status SqlWriteTx::insert_api_key(const core::ApiKey& key) { return sql::insert_api_key(db_, key); }

Result<bool> SqlWriteTx::revoke_api_key(const std::string& key_id, core::Micros now) {
  return sql::revoke_api_key(db_, key_id, now);
}

Result<std::optional<std::string>> SqlWriteTx::get_setting(const std::string& key) {
  return sql::get_setting(db_, key);
}

Status SqlWriteTx::put_setting(const std::string& key, const std::string& value) {
  return sql::put_setting(db_, key, value);
}

// A subscription read in a write transaction is read to be changed (an API update, a delivery outcome) or to send
// with: locked, so that two writers on two connections never overwrite each other's change with a stale row.
Result<std::optional<core::Webhook>> SqlWriteTx::find_webhook(const std::string& tenant_id, const std::string& id) {
  return sql::find_webhook(db_, tenant_id, id, Lock::kForWrite);
}

Status SqlWriteTx::insert_webhook(const core::Webhook& webhook) { return sql::insert_webhook(db_, webhook); }

Status SqlWriteTx::update_webhook(const core::Webhook& webhook) {
  // Re-enabling a subscription releases the deliveries that waited for it.
  made_deliveries_due = made_deliveries_due || webhook.enabled;
  if (handoff && !changed_webhooks) {
    // Recording outcomes updates subscriptions all the time (last_sent_at); only a new address, secret or
    // switch makes what the delivery engine holds stale.
    auto before = sql::find_webhook_by_id(db_, webhook.id);
    if (!before) return before.error();
    changed_webhooks = !*before || (*before)->url != webhook.url || (*before)->secret != webhook.secret ||
                       (*before)->previous_secret != webhook.previous_secret ||
                       (*before)->enabled != webhook.enabled;
  }
  return sql::update_webhook(db_, webhook);
}

Result<bool> SqlWriteTx::delete_webhook(const std::string& tenant_id, const std::string& id) {
  changed_webhooks = true;
  return sql::delete_webhook(db_, tenant_id, id);
}

Result<std::vector<core::Webhook>> SqlWriteTx::list_enabled_webhooks(const std::string& tenant_id) {
  return sql::list_enabled_webhooks(db_, tenant_id);
}

Result<std::optional<core::User>> SqlWriteTx::find_user(const std::string& tenant_id, const std::string& id) {
  return sql::find_user(db_, tenant_id, id);
}

Status SqlWriteTx::insert_user(const core::User& user) { return sql::insert_user(db_, user); }

Result<bool> SqlWriteTx::delete_user(const std::string& tenant_id, const std::string& id) {
  return sql::delete_user(db_, tenant_id, id);
}

Result<std::optional<core::Account>> SqlWriteTx::find_account(const std::string& tenant_id, const std::string& id) {
  return sql::find_account(db_, tenant_id, id);
}

// An account whose scan is due at once (a new account, a scan asked for now) wakes the scheduler; later
// scans are found by its regular look at the schedule.
static bool scan_due_now(const core::Account& account) {
  return account.next_scan_at && *account.next_scan_at <= account.updated_at;
}

Status SqlWriteTx::insert_account(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sql::insert_account(db_, account);
}

Status SqlWriteTx::update_account(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sql::update_account(db_, account);
}

Result<bool> SqlWriteTx::delete_account(const std::string& tenant_id, const std::string& id) {
  return sql::delete_account(db_, tenant_id, id);
}

Result<std::vector<core::Account>> SqlWriteTx::claim_due_scans(core::Micros now, core::Micros lease_until,
                                                                  int limit) {
  return sql::claim_due_scans(db_, now, lease_until, limit, node_id_);
}

Result<std::vector<core::Account>> SqlWriteTx::find_due_scans(core::Micros now, int limit) {
  return sql::find_due_scans(db_, now, limit);
}

Status SqlWriteTx::lease_scan(const core::Account& account, core::Micros lease_until) {
  return sql::lease_scan(db_, account.seq, lease_until, node_id_);
}

Status SqlWriteTx::record_scan(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sql::record_scan(db_, account);
}

Result<std::optional<core::Reputation>> SqlWriteTx::find_reputation_by_account(const std::string& account_id) {
  return sql::find_reputation_by_account(db_, account_id);
}

Status SqlWriteTx::insert_reputation(const core::Reputation& reputation) {
  return sql::insert_reputation(db_, reputation);
}

Status SqlWriteTx::update_reputation(const core::Reputation& reputation) {
  return sql::update_reputation(db_, reputation);
}

Status SqlWriteTx::insert_event(const core::Event& event) { return sql::insert_event(db_, event); }

Status SqlWriteTx::insert_delivery(core::Delivery& delivery) {
  std::optional<core::Micros> lease;
  // Not after a subscription changed in this batch: the taker may still hold its old URL or secret.
  if (handoff && !changed_webhooks && delivery.state == core::DeliveryState::kPending) {
    lease = handoff->reserve(delivery.webhook_id, delivery.next_attempt_at.value_or(delivery.created_at));
  }
  if (lease) {
    reserved_for.push_back(delivery.webhook_id);  // returned after the commit, whatever becomes of the insert
    delivery.next_attempt_at = lease;
  } else {
    made_deliveries_due = true;
  }
  if (auto status = sql::insert_delivery(db_, delivery, lease ? std::optional<std::string>(node_id_) : std::nullopt);
      !status) {
    return status;
  }
  if (lease) handed.push_back(delivery);
  return core::ok_status();
}

Result<std::vector<core::Delivery>> SqlWriteTx::claim_due_deliveries(core::Micros now, core::Micros lease_until,
                                                                        int limit,
                                                                        const std::vector<std::string>& skip_webhooks) {
  return sql::claim_due_deliveries(db_, now, lease_until, limit, skip_webhooks, node_id_);
}

Result<std::optional<core::Delivery>> SqlWriteTx::find_delivery(const std::string& tenant_id,
                                                                   const std::string& id) {
  return sql::find_delivery(db_, tenant_id, id);
}

Status SqlWriteTx::update_delivery(const core::Delivery& delivery) {
  made_deliveries_due = made_deliveries_due || delivery.state == core::DeliveryState::kPending;
  return sql::update_delivery(db_, delivery);
}

Status SqlWriteTx::insert_attempt(const core::DeliveryAttempt& attempt) {
  return sql::insert_attempt(db_, attempt);
}

Result<std::optional<core::Webhook>> SqlWriteTx::find_webhook_by_id(const std::string& id) {
  return sql::find_webhook_by_id(db_, id, Lock::kForWrite);
}

Result<std::optional<core::Webhook>> SqlWriteTx::read_webhook_by_id(const std::string& id) {
  return sql::find_webhook_by_id(db_, id, Lock::kNone);
}

Result<std::int64_t> SqlWriteTx::requeue_failed_deliveries(const std::string& tenant_id,
                                                              const std::string& webhook_id, core::Micros since,
                                                              core::Micros now) {
  made_deliveries_due = true;
  return sql::requeue_failed_deliveries(db_, tenant_id, webhook_id, since, now);
}

}  // namespace repute::store::sql
