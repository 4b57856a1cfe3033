#include "store/sqlite/write_tx.hpp"

#include "core/ids.hpp"
#include "store/sqlite/delivery_rows.hpp"
#include "store/sqlite/resource_rows.hpp"
#include "store/sqlite/tenant_rows.hpp"
#include "store/sqlite/webhook_rows.hpp"

namespace repute::store::sqlite {

Result<core::Tenant> SqliteWriteTx::ensure_tenant(const std::string& name, core::Micros now) {
  auto found = find_tenant_by_name(db_, name);
  if (!found) return found.error();
  if (*found) return **found;
  core::Tenant tenant{core::new_uuid(), name, now};
  if (auto status = insert_tenant(db_, tenant); !status) return status.error();
  return tenant;
}

Status SqliteWriteTx::insert_api_key(const core::ApiKey& key) { return sqlite::insert_api_key(db_, key); }

Result<bool> SqliteWriteTx::revoke_api_key(const std::string& key_id, core::Micros now) {
  return sqlite::revoke_api_key(db_, key_id, now);
}

Result<std::optional<std::string>> SqliteWriteTx::get_setting(const std::string& key) {
  return sqlite::get_setting(db_, key);
}

Status SqliteWriteTx::put_setting(const std::string& key, const std::string& value) {
  return sqlite::put_setting(db_, key, value);
}

Result<std::optional<core::Webhook>> SqliteWriteTx::find_webhook(const std::string& tenant_id, const std::string& id) {
  return sqlite::find_webhook(db_, tenant_id, id);
}

Status SqliteWriteTx::insert_webhook(const core::Webhook& webhook) { return sqlite::insert_webhook(db_, webhook); }

Status SqliteWriteTx::update_webhook(const core::Webhook& webhook) {
  // Re-enabling a subscription releases the deliveries that waited for it.
  made_deliveries_due = made_deliveries_due || webhook.enabled;
  if (handoff && !changed_webhooks) {
    // Recording outcomes updates subscriptions all the time (last_sent_at); only a new address, secret or
    // switch makes what the delivery engine holds stale.
    auto before = sqlite::find_webhook_by_id(db_, webhook.id);
    if (!before) return before.error();
    changed_webhooks = !*before || (*before)->url != webhook.url || (*before)->secret != webhook.secret ||
                       (*before)->enabled != webhook.enabled;
  }
  return sqlite::update_webhook(db_, webhook);
}

Result<bool> SqliteWriteTx::delete_webhook(const std::string& tenant_id, const std::string& id) {
  changed_webhooks = true;
  return sqlite::delete_webhook(db_, tenant_id, id);
}

Result<std::vector<core::Webhook>> SqliteWriteTx::list_enabled_webhooks(const std::string& tenant_id) {
  return sqlite::list_enabled_webhooks(db_, tenant_id);
}

Result<std::optional<core::User>> SqliteWriteTx::find_user(const std::string& tenant_id, const std::string& id) {
  return sqlite::find_user(db_, tenant_id, id);
}

Status SqliteWriteTx::insert_user(const core::User& user) { return sqlite::insert_user(db_, user); }

Result<bool> SqliteWriteTx::delete_user(const std::string& tenant_id, const std::string& id) {
  return sqlite::delete_user(db_, tenant_id, id);
}

Result<std::optional<core::Account>> SqliteWriteTx::find_account(const std::string& tenant_id, const std::string& id) {
  return sqlite::find_account(db_, tenant_id, id);
}

// An account whose scan is due at once (a new account, a scan asked for now) wakes the scheduler; later
// scans are found by its regular look at the schedule.
static bool scan_due_now(const core::Account& account) {
  return account.next_scan_at && *account.next_scan_at <= account.updated_at;
}

Status SqliteWriteTx::insert_account(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sqlite::insert_account(db_, account);
}

Status SqliteWriteTx::update_account(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sqlite::update_account(db_, account);
}

Result<bool> SqliteWriteTx::delete_account(const std::string& tenant_id, const std::string& id) {
  return sqlite::delete_account(db_, tenant_id, id);
}

Result<std::vector<core::Account>> SqliteWriteTx::claim_due_scans(core::Micros now, core::Micros lease_until,
                                                                  int limit) {
  return sqlite::claim_due_scans(db_, now, lease_until, limit);
}

Result<std::vector<core::Account>> SqliteWriteTx::find_due_scans(core::Micros now, int limit) {
  return sqlite::find_due_scans(db_, now, limit);
}

Status SqliteWriteTx::lease_scan(const core::Account& account, core::Micros lease_until) {
  return sqlite::lease_scan(db_, account.seq, lease_until);
}

Status SqliteWriteTx::record_scan(const core::Account& account) {
  made_scans_due = made_scans_due || scan_due_now(account);
  return sqlite::record_scan(db_, account);
}

Result<std::optional<core::Reputation>> SqliteWriteTx::find_reputation_by_account(const std::string& account_id) {
  return sqlite::find_reputation_by_account(db_, account_id);
}

Status SqliteWriteTx::insert_reputation(const core::Reputation& reputation) {
  return sqlite::insert_reputation(db_, reputation);
}

Status SqliteWriteTx::update_reputation(const core::Reputation& reputation) {
  return sqlite::update_reputation(db_, reputation);
}

Status SqliteWriteTx::insert_event(const core::Event& event) { return sqlite::insert_event(db_, event); }

Status SqliteWriteTx::insert_delivery(core::Delivery& delivery) {
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
  if (auto status = sqlite::insert_delivery(db_, delivery); !status) return status;
  if (lease) handed.push_back(delivery);
  return core::ok_status();
}

Result<std::vector<core::Delivery>> SqliteWriteTx::claim_due_deliveries(core::Micros now, core::Micros lease_until,
                                                                        int limit,
                                                                        const std::vector<std::string>& skip_webhooks) {
  return sqlite::claim_due_deliveries(db_, now, lease_until, limit, skip_webhooks);
}

Result<std::optional<core::Delivery>> SqliteWriteTx::find_delivery(const std::string& tenant_id,
                                                                   const std::string& id) {
  return sqlite::find_delivery(db_, tenant_id, id);
}

Status SqliteWriteTx::update_delivery(const core::Delivery& delivery) {
  made_deliveries_due = made_deliveries_due || delivery.state == core::DeliveryState::kPending;
  return sqlite::update_delivery(db_, delivery);
}

Status SqliteWriteTx::insert_attempt(const core::DeliveryAttempt& attempt) {
  return sqlite::insert_attempt(db_, attempt);
}

Result<std::optional<core::Webhook>> SqliteWriteTx::find_webhook_by_id(const std::string& id) {
  return sqlite::find_webhook_by_id(db_, id);
}

Result<std::int64_t> SqliteWriteTx::requeue_failed_deliveries(const std::string& tenant_id,
                                                              const std::string& webhook_id, core::Micros since,
                                                              core::Micros now) {
  made_deliveries_due = true;
  return sqlite::requeue_failed_deliveries(db_, tenant_id, webhook_id, since, now);
}

}  // namespace repute::store::sqlite
