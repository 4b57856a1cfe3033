#include "store/sql/migrate.hpp"

#include "core/time.hpp"

namespace repute::store::sql {
namespace {

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

Status apply_migrations(Connection& connection, std::span<const Migration> migrations, const std::string& begin) {
  if (auto status = connection.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      !status) {
    return status;
  }
  for (const Migration& migration : migrations) {
    if (auto status = connection.exec(begin); !status) return status;
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

}  // namespace repute::store::sql
