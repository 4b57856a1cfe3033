#pragma once
// One PostgreSQL connection (libpq) as the shared SQL layer sees a connection: statements prepared once per
// connection under a name, parameters and results in text form, SQLite's `?` / `?N` placeholders turned into `$N`.
// A lost connection is noticed (healthy() turns false) and opened again by ensure_open(); its statements are then
// prepared again.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/sql/connection.hpp"

namespace repute::store::postgres {

using core::Result;
using core::Status;
using sql::Statement;

// Turns a failed libpq call into an Error: a lost or refused connection, a server shutting down, a serialization
// failure or a deadlock is kUnavailable; a full disk is kStorageFull; the rest kInternal.
core::Error pg_error(PGconn* conn, const PGresult* result, std::string_view what);

// `?` and `?N` placeholders as `$N`.
std::string to_pg_placeholders(std::string_view sql);

// One open connection.
class PgConnection final : public sql::Connection {
 public:
  // Connects to url (a postgres:// or postgresql:// URI with libpq's parameters); a 5 s connect timeout and TCP
  // keepalives apply unless the URL sets them.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& url);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  Status exec(const std::string& sql) override;
  Result<Statement> prepare(const std::string& sql) override;
  std::int64_t changes() const override { return changes_; }
  bool in_transaction() const override;
  bool healthy() const override { return PQstatus(conn_) == CONNECTION_OK; }
  Status ensure_open() override;
  bool take_conflict() override { return std::exchange(conflict_, false); }
  PGconn* handle() const { return conn_; }

 private:
  class Prepared;
  explicit PgConnection(PGconn* conn);

  PGconn* conn_;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> cache_;
  std::uint64_t generation_ = 1;  // bumped when the connection is opened again: every statement is prepared anew
  std::int64_t changes_ = 0;
  int next_name_ = 0;
  bool conflict_ = false;  // a statement lost to another transaction since take_conflict()

  // pg_error, noting a lost-to-another-transaction failure for take_conflict().
  core::Error failed(const PGresult* result, std::string_view what);
};

}  // namespace repute::store::postgres
