#pragma once
// One SQLite connection and its cached prepared statements, as the shared SQL layer sees a connection.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/sql/connection.hpp"

namespace repute::store::sqlite {

using core::Result;
using core::Status;
using sql::Statement;

// Turns a failed SQLite call into an Error (SQLITE_FULL → kStorageFull, SQLITE_BUSY → kUnavailable).
core::Error sqlite_error(sqlite3* db, int rc, std::string_view what);

// One open connection.
class Connection final : public sql::Connection {
 public:
  // Opens path (creating it when `create`), sets WAL and a busy timeout.
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool create, bool synchronous_full);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  Status exec(const std::string& sql) override;
  Result<Statement> prepare(const std::string& sql) override;
  std::int64_t changes() const override { return sqlite3_changes(db_); }
  bool in_transaction() const override { return !sqlite3_get_autocommit(db_); }
  sqlite3* handle() const { return db_; }

 private:
  class Prepared;
  explicit Connection(sqlite3* db);
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> cache_;
};

}  // namespace repute::store::sqlite
