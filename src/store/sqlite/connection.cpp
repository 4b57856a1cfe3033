#include "store/sqlite/connection.hpp"

namespace repute::store::sqlite {

core::Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return {core::ErrorCode::kStorageFull, "the database disk is full (" + message + ")"};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {core::ErrorCode::kUnavailable, "the database is busy (" + message + ")"};
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return {core::ErrorCode::kUnavailable, "the database cannot be read or written (" + message + ")"};
    default:
      return {core::ErrorCode::kInternal, message};
  }
}

// A cached sqlite3_stmt.
class Connection::Prepared final : public sql::PreparedStatement {
 public:
  Prepared(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Prepared() override { sqlite3_finalize(stmt_); }

  void bind_text(int index, std::string_view text) override {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind_integer(int index, std::int64_t value) override { sqlite3_bind_int64(stmt_, index, value); }
  void bind_real(int index, double value) override { sqlite3_bind_double(stmt_, index, value); }
  void bind_null(int index) override { sqlite3_bind_null(stmt_, index); }

  Result<bool> step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, rc, "statement failed");
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const override {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)) : std::string();
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const override { return sqlite3_column_double(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool create, bool synchronous_full) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    core::Error error = sqlite_error(db, rc, "cannot open " + path);
    sqlite3_close(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Connection> connection(new Connection(db));
  // The writer (the connection that creates) keeps its statement journals in memory: each unit of work runs in a
  // SAVEPOINT, whose journal would otherwise be a temporary file written for every page the unit changes.
  const std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=") +
                              (synchronous_full ? "FULL" : "NORMAL") + ";" +
                              (create ? " PRAGMA temp_store=MEMORY;" : "");
  if (auto status = connection->exec(pragmas); !status) return status.error();
  return connection;
}

Connection::Connection(sqlite3* db) : db_(db) {}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close(db_);
}

Status Connection::exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    core::Error error = sqlite_error(nullptr, rc, text);
    return error;
  }
  return core::ok_status();
}

Result<Statement> Connection::prepare(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "cannot prepare statement");
    found = cache_.emplace(sql, std::make_unique<Prepared>(db_, stmt)).first;
  }
  return Result<Statement>(Statement(found->second.get()));
}

}  // namespace repute::store::sqlite
