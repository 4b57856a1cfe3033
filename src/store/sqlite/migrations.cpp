#include "store/sqlite/migrations.hpp"

#include <array>

#include "core/time.hpp"

namespace repute::store::sqlite {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration never changes.
constexpr std::array kMigrations = {
    Migration{1, R"sql(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  events TEXT NOT NULL,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT,
  include_resource INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  disabled_reason TEXT,
  last_sent_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks(tenant_id, seq);
)sql"},
};

// Applies one migration unless the database has it already; the caller holds the transaction.
Status apply(Connection& connection, const Migration& migration) {
  {
    auto seen = connection.prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!seen) return seen.error();
    auto row = seen->bind(1, std::int64_t{migration.version}).step();
    if (!row) return row.error();
    if (*row) return core::ok_status();
  }
  if (auto status = connection.exec(migration.sql); !status) return status;
  auto record = connection.prepare("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)");
  if (!record) return record.error();
  return record->bind(1, std::int64_t{migration.version}).bind(2, core::system_clock().now()).run();
}

}  // namespace

Status migrate(Connection& connection) {
  if (auto status = connection.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
      !status) {
    return status;
  }
  for (const Migration& migration : kMigrations) {
    if (auto status = connection.exec("BEGIN IMMEDIATE"); !status) return status;
    Status applied = apply(connection, migration);
    if (!applied) {
      (void)connection.exec("ROLLBACK");
      return core::Error{applied.error().code,
                         "migration " + std::to_string(migration.version) + " failed: " + applied.error().message};
    }
    if (auto status = connection.exec("COMMIT"); !status) return status;
  }
  return core::ok_status();
}

}  // namespace repute::store::sqlite
