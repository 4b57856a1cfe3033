#include "store/sqlite/migrations.hpp"

#include <array>

#include "store/sql/migrate.hpp"
#include "store/sql/shared_migrations.hpp"

namespace repute::store::sqlite {
namespace {

using sql::Migration;

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
    Migration{2, R"sql(
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
CREATE TABLE users (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  external_id TEXT,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX users_by_tenant ON users(tenant_id, seq);
CREATE TABLE accounts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  employer TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_url TEXT,
  change_probability REAL NOT NULL,
  refresh_frequency INTEGER NOT NULL,
  ongoing_refresh INTEGER NOT NULL,
  connection_status TEXT NOT NULL,
  connection_error_code TEXT,
  connection_error_message TEXT,
  connection_updated_at INTEGER NOT NULL,
  scanned_at INTEGER,
  next_scan_at INTEGER,
  scan_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX accounts_by_tenant ON accounts(tenant_id, seq);
CREATE INDEX accounts_by_user ON accounts(tenant_id, user_id, seq);
CREATE INDEX accounts_due ON accounts(next_scan_at) WHERE next_scan_at IS NOT NULL;
CREATE TABLE reputations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  employer TEXT NOT NULL,
  rating TEXT,
  acceptance_rate TEXT,
  ontime_rate TEXT,
  achievements TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX reputations_by_tenant ON reputations(tenant_id, seq);
CREATE INDEX reputations_by_user ON reputations(tenant_id, user_id, seq);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  type TEXT NOT NULL,
  account_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  reputation_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_by_tenant ON events(tenant_id, seq);
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, seq);
CREATE INDEX deliveries_by_webhook_state ON deliveries(webhook_id, state, seq);
CREATE INDEX deliveries_by_event ON deliveries(event_id);
CREATE TABLE delivery_attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  attempted_at INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_excerpt TEXT NOT NULL
);
CREATE INDEX attempts_by_delivery ON delivery_attempts(delivery_id, seq);
)sql"},
    // The node that holds a delivery's or an account's lease (null when none does).
    Migration{3, R"sql(
ALTER TABLE deliveries ADD COLUMN leased_by TEXT;
ALTER TABLE accounts ADD COLUMN leased_by TEXT;
)sql"},
    Migration{4, sql::kMigration4},
};

}  // namespace

Status migrate(Connection& connection) { return sql::apply_migrations(connection, kMigrations, "BEGIN IMMEDIATE"); }

}  // namespace repute::store::sqlite
