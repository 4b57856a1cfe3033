#pragma once
// A thin owner of one SQLite connection and its cached prepared statements.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace repute::store::sqlite {

using core::Result;
using core::Status;

// Turns a failed SQLite call into an Error (SQLITE_FULL → kStorageFull, SQLITE_BUSY → kUnavailable).
core::Error sqlite_error(sqlite3* db, int rc, std::string_view what);

// A prepared statement, reset and unbound when the Statement goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds 1-based parameters; returns *this for chaining.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_null(int index);
  Statement& bind(int index, double value);

  // Advances; true while there is a row, false when done, an Error on failure.
  Result<bool> step();
  // Runs a statement that returns no rows, then resets it for another run.
  Status run();

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::int64_t integer(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;
  double real(int column) const { return sqlite3_column_double(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One open connection.
class Connection {
 public:
  // Opens path (creating it when `create`), sets WAL and a busy timeout.
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool create, bool synchronous_full);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements with no parameters and no result rows.
  Status exec(const std::string& sql);
  // A cached prepared statement for sql; one user at a time.
  Result<Statement> prepare(const std::string& sql);
  // Rows changed by the last statement.
  int changes() const { return sqlite3_changes(db_); }
  // The rowid of the last row inserted.
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Every row of an executed statement, each turned into a T by map.
template <class T, class Map>
Result<std::vector<T>> collect_rows(Statement& statement, Map&& map) {
  std::vector<T> rows;
  for (;;) {
    auto row = statement.step();
    if (!row) return row.error();
    if (!*row) return rows;
    rows.push_back(map(statement));
  }
}

// The first row of an executed statement turned into a T, or nullopt when there is none.
template <class T, class Map>
Result<std::optional<T>> first_row(Statement& statement, Map&& map) {
  auto row = statement.step();
  if (!row) return row.error();
  if (!*row) return std::optional<T>();
  return std::optional<T>(map(statement));
}

}  // namespace repute::store::sqlite
