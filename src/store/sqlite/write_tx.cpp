#include "store/sqlite/write_tx.hpp"

#include "core/ids.hpp"
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

Status SqliteWriteTx::update_webhook(const core::Webhook& webhook) { return sqlite::update_webhook(db_, webhook); }

Result<bool> SqliteWriteTx::delete_webhook(const std::string& tenant_id, const std::string& id) {
  return sqlite::delete_webhook(db_, tenant_id, id);
}

}  // namespace repute::store::sqlite
