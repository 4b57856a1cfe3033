#pragma once
// The shared SQL layer's view of a database connection: prepared statements with positional parameters, rows read
// by column. SQLite and PostgreSQL each implement it (store/sqlite/connection.hpp, store/postgres/pg_connection.hpp);
// the row files beside this one are written once against it. SQL text uses SQLite's placeholders (`?`, `?N`); the
// PostgreSQL connection turns them into `$N`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace repute::store::sql {

using core::Result;
using core::Status;

// Which SQL dialect a connection speaks, for the few statements that differ.
enum class Dialect { kSqlite, kPostgres };

// A back end's prepared statement: parameters are 1-based, columns 0-based.
class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_real(int index, double value) = 0;
  virtual void bind_null(int index) = 0;
  // Runs the statement on the first call, then moves to the next row: true while there is one.
  virtual Result<bool> step() = 0;
  // Forgets the bindings and any result, ready to run again.
  virtual void reset() = 0;
  virtual bool is_null(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual double real(int column) const = 0;
};

// A borrowed prepared statement, reset when it goes out of scope.
class Statement {
 public:
  explicit Statement(PreparedStatement* prepared) : prepared_(prepared) {}
  Statement(Statement&& other) noexcept : prepared_(other.prepared_) { other.prepared_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (prepared_) prepared_->reset();
  }

  // Binds 1-based parameters; returns *this for chaining.
  Statement& bind(int index, std::string_view text) {
    prepared_->bind_text(index, text);
    return *this;
  }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value) {
    prepared_->bind_integer(index, value);
    return *this;
  }
  Statement& bind(int index, double value) {
    prepared_->bind_real(index, value);
    return *this;
  }
  Statement& bind(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
  }
  Statement& bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind_null(int index) {
    prepared_->bind_null(index);
    return *this;
  }

  // Advances; true while there is a row, false when done, an Error on failure.
  Result<bool> step() { return prepared_->step(); }
  // Runs a statement that returns no rows, then resets it for another run.
  Status run() {
    auto stepped = prepared_->step();
    prepared_->reset();
    if (!stepped) return stepped.error();
    return core::ok_status();
  }

  std::string text(int column) const { return prepared_->text(column); }
  std::optional<std::string> optional_text(int column) const {
    if (prepared_->is_null(column)) return std::nullopt;
    return prepared_->text(column);
  }
  std::int64_t integer(int column) const { return prepared_->integer(column); }
  std::optional<std::int64_t> optional_integer(int column) const {
    if (prepared_->is_null(column)) return std::nullopt;
    return prepared_->integer(column);
  }
  double real(int column) const { return prepared_->real(column); }

 private:
  PreparedStatement* prepared_;
};

// One open connection of either back end.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one or more statements with no parameters and no result rows.
  virtual Status exec(const std::string& sql) = 0;
  // A cached prepared statement for sql; one user at a time.
  virtual Result<Statement> prepare(const std::string& sql) = 0;
  // Rows changed by the last statement run.
  virtual std::int64_t changes() const = 0;
  // Whether a transaction is open (also one that failed and waits for its rollback).
  virtual bool in_transaction() const = 0;
  // Whether the connection still reaches its database (a network connection can be lost).
  virtual bool healthy() const { return true; }
  // Opens a lost connection again; an Error while the database cannot be reached.
  virtual Status ensure_open() { return core::ok_status(); }
  // Whether a statement failed since the last call because of another transaction (a deadlock, a serialization
  // failure): the work may be run again and succeed. Clears what it reports.
  virtual bool take_conflict() { return false; }
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

// A locking clause that makes concurrent claimers skip each other's rows (PostgreSQL); SQLite has one writer.
inline const char* skip_locked(const Connection& db) {
  return db.dialect() == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
}

// Appended to a SELECT of rows the transaction will write back: on PostgreSQL it locks them (as an UPDATE would, so
// inserts that reference them still go ahead) until the commit, so that a concurrent transaction cannot write between
// the read and the write and have its change overwritten. SQLite has one writer at a time and needs nothing.
inline const char* locked_for_write(const Connection& db) {
  return db.dialect() == Dialect::kPostgres ? " FOR NO KEY UPDATE" : "";
}

// column as an expression the planner will not use an index for: SQLite's unary "+" (PostgreSQL needs no such hint).
inline std::string unindexed(const Connection& db, const std::string& column) {
  return db.dialect() == Dialect::kSqlite ? "+" + column : column;
}

}  // namespace repute::store::sql
