#include "store/sql/tenant_rows.hpp"

namespace repute::store::sql {
namespace {

constexpr const char* kKeyColumns = "SELECT id, tenant_id, secret_hash, created_at, revoked_at FROM api_keys";

core::Tenant read_tenant(const Statement& row) { return {row.text(0), row.text(1), row.integer(2)}; }

core::ApiKey read_key(const Statement& row) {
  return {row.text(0), row.text(1), row.text(2), row.integer(3), row.optional_integer(4)};
}

Result<std::optional<core::Tenant>> find_tenant_where(Connection& db, const std::string& column,
                                                      const std::string& value) {
  auto statement = db.prepare("SELECT id, name, created_at FROM tenants WHERE " + column + " = ?");
  if (!statement) return statement.error();
  auto row = statement->bind(1, value).step();
  if (!row) return row.error();
  if (!*row) return std::optional<core::Tenant>();
  return std::optional<core::Tenant>(read_tenant(*statement));
}

}  // namespace

Result<std::optional<core::Tenant>> find_tenant_by_name(Connection& db, const std::string& name) {
  return find_tenant_where(db, "name", name);
}

Result<std::optional<core::Tenant>> find_tenant(Connection& db, const std::string& id) {
  return find_tenant_where(db, "id", id);
}

Status insert_tenant(Connection& db, const core::Tenant& tenant) {
  auto statement = db.prepare("INSERT INTO tenants(id, name, created_at) VALUES (?, ?, ?)");
  if (!statement) return statement.error();
  return statement->bind(1, tenant.id).bind(2, tenant.name).bind(3, tenant.created_at).run();
}

Result<std::optional<core::ApiKey>> find_api_key(Connection& db, const std::string& id) {
  auto statement = db.prepare(std::string(kKeyColumns) + " WHERE id = ?");
  if (!statement) return statement.error();
  auto row = statement->bind(1, id).step();
  if (!row) return row.error();
  if (!*row) return std::optional<core::ApiKey>();
  return std::optional<core::ApiKey>(read_key(*statement));
}

Result<std::vector<core::ApiKey>> list_api_keys(Connection& db) {
  auto statement = db.prepare(std::string(kKeyColumns) + " ORDER BY created_at, id");
  if (!statement) return statement.error();
  std::vector<core::ApiKey> keys;
  for (;;) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!*row) return keys;
    keys.push_back(read_key(*statement));
  }
}

Status insert_api_key(Connection& db, const core::ApiKey& key) {
  auto statement =
      db.prepare("INSERT INTO api_keys(id, tenant_id, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return statement->bind(1, key.id)
      .bind(2, key.tenant_id)
      .bind(3, key.secret_hash)
      .bind(4, key.created_at)
      .bind(5, key.revoked_at)
      .run();
}

Result<bool> revoke_api_key(Connection& db, const std::string& id, core::Micros now) {
  auto statement = db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  if (!statement) return statement.error();
  if (auto status = statement->bind(1, now).bind(2, id).run(); !status) return status.error();
  return db.changes() > 0;
}

Result<std::optional<std::string>> get_setting(Connection& db, const std::string& key) {
  auto statement = db.prepare("SELECT value FROM settings WHERE key = ?");
  if (!statement) return statement.error();
  auto row = statement->bind(1, key).step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(statement->text(0));
}

Status put_setting(Connection& db, const std::string& key, const std::string& value) {
  auto statement = db.prepare(
      "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!statement) return statement.error();
  return statement->bind(1, key).bind(2, value).run();
}

}  // namespace repute::store::sql
