#include "store/postgres/pg_connection.hpp"

#include <charconv>
#include <cstdlib>
#include <vector>

#include "obs/log.hpp"
#include "store/store.hpp"

namespace repute::store::postgres {
namespace {

// A PGresult freed when it goes out of scope.
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

bool succeeded(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// libpq's message on one line, with the URL in it (a bad URI is quoted) shown without its password.
std::string one_line(std::string message, const std::string& url) {
  for (std::size_t found = message.find(url); !url.empty() && found != std::string::npos;
       found = message.find(url, found + 1)) {
    message.replace(found, url.size(), redacted_url(url));
  }
  std::string flat;
  for (const char c : message) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (flat.empty() || flat.back() == ' ')) continue;
    flat += space ? ' ' : c;
  }
  while (!flat.empty() && flat.back() == ' ') flat.pop_back();
  return flat;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

core::Error pg_error(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string detail = one_line(result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                                         : (conn ? PQerrorMessage(conn) : ""),
                                "");
  const std::string message = std::string(what) + ": " + detail;
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08") ||
      sqlstate.starts_with("57P")) {
    return {core::ErrorCode::kUnavailable, "the database cannot be reached (" + message + ")"};
  }
  if (sqlstate == "53100") return {core::ErrorCode::kStorageFull, "the database disk is full (" + message + ")"};
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "53300") {
    return {core::ErrorCode::kUnavailable, "the database is busy (" + message + ")"};
  }
  return {core::ErrorCode::kInternal, message};
}

std::string to_pg_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int counter = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '?') {
      out += sql[i];
      continue;
    }
    std::size_t end = i + 1;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
    int number = 0;
    if (end > i + 1) {
      std::from_chars(sql.data() + i + 1, sql.data() + end, number);
      counter = std::max(counter, number);
    } else {
      number = ++counter;
    }
    out += '$';
    out += std::to_string(number);
    i = end - 1;
  }
  return out;
}

// A statement prepared under a name on one connection, with its text parameters and its last result.
class PgConnection::Prepared final : public sql::PreparedStatement {
 public:
  Prepared(PgConnection& connection, std::string name, std::string sql)
      : connection_(connection), name_(std::move(name)), sql_(std::move(sql)) {}

  void bind_text(int index, std::string_view text) override { slot(index) = std::string(text); }
  void bind_integer(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
  void bind_real(int index, double value) override {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    slot(index) = ec == std::errc() ? std::string(buffer, end) : std::string("0");
  }
  void bind_null(int index) override { slot(index).reset(); }

  Result<bool> step() override {
    if (!result_) {
      if (auto executed = execute(); !executed) return executed.error();
      row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(result_.get());
  }

  void reset() override {
    result_.reset();
    params_.clear();
    row_ = -1;
  }

  bool is_null(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }
  std::string text(int column) const override {
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row_, column)));
  }
  std::int64_t integer(int column) const override {
    const char* value = PQgetvalue(result_.get(), row_, column);
    if (value[0] == 't') return 1;
    if (value[0] == 'f') return 0;
    std::int64_t number = 0;
    std::from_chars(value, value + PQgetlength(result_.get(), row_, column), number);
    return number;
  }
  double real(int column) const override { return std::strtod(PQgetvalue(result_.get(), row_, column), nullptr); }

 private:
  std::optional<std::string>& slot(int index) {
    if (static_cast<int>(params_.size()) < index) params_.resize(static_cast<std::size_t>(index));
    return params_[static_cast<std::size_t>(index - 1)];
  }

  Status execute() {
    PGconn* conn = connection_.conn_;
    if (prepared_in_ != connection_.generation_) {
      ResultPtr prepared(PQprepare(conn, name_.c_str(), sql_.c_str(), 0, nullptr));
      if (!succeeded(prepared.get())) return connection_.failed(prepared.get(), "cannot prepare statement");
      prepared_in_ = connection_.generation_;
    }
    std::vector<const char*> values(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) values[i] = params_[i] ? params_[i]->c_str() : nullptr;
    ResultPtr result(PQexecPrepared(conn, name_.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                    nullptr, 0));
    if (!succeeded(result.get())) return connection_.failed(result.get(), "statement failed");
    const char* tuples = PQcmdTuples(result.get());
    connection_.changes_ = tuples && *tuples ? std::atoll(tuples) : 0;
    result_ = std::move(result);
    return core::ok_status();
  }

  PgConnection& connection_;
  const std::string name_;
  const std::string sql_;
  std::uint64_t prepared_in_ = 0;  // the connection generation it was prepared in (0: not yet)
  std::vector<std::optional<std::string>> params_;
  ResultPtr result_;
  int row_ = -1;
};

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& url) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error ? trimmed(parse_error) : std::string("cannot parse the PostgreSQL URL");
    PQfreemem(parse_error);
    return core::Error{core::ErrorCode::kInvalid, "bad PostgreSQL URL: " + one_line(message, url)};
  }
  PQconninfoFree(parsed);
  // Earlier keywords are defaults: whatever the URL says (the expanded dbname, last) overrides them.
  const char* keywords[] = {"connect_timeout",    "application_name",  "keepalives", "keepalives_idle",
                            "keepalives_interval", "keepalives_count", "dbname",     nullptr};
  const char* values[] = {"5", "repute", "1", "10", "5", "3", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, 1);
  if (conn == nullptr) return core::Error{core::ErrorCode::kUnavailable, "cannot allocate a PostgreSQL connection"};
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq's own words name the cause: a bad URI, a refused connection, a failed password.
    message = one_line(message, url);
    const bool bad_url = message.find("invalid") != std::string::npos && message.find("URI") != std::string::npos;
    return core::Error{bad_url ? core::ErrorCode::kInvalid : core::ErrorCode::kUnavailable, message};
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::PgConnection(PGconn* conn) : conn_(conn) {
  // What the server says outside an answer goes to the log as one line, not to stderr as libpq prints it: warnings
  // and worse ("terminating connection" before a restart). Notices ("already exists, skipping") are not the
  // operator's business. (No startup option asks the server for less: PgBouncer refuses unknown ones.)
  PQsetNoticeReceiver(
      conn_,
      [](void*, const PGresult* result) {
        const char* field = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
        const std::string_view severity = field ? field : "";
        if (severity == "NOTICE" || severity == "INFO" || severity == "DEBUG" || severity == "LOG") return;
        obs::log_warn("PostgreSQL says", {{"message", one_line(PQresultErrorMessage(result), "")}});
      },
      nullptr);
}

core::Error PgConnection::failed(const PGresult* result, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state ? state : "";
  // 40001 serialization failure, 40P01 deadlock detected.
  if (sqlstate == "40001" || sqlstate == "40P01") conflict_ = true;
  return pg_error(conn_, result, what);
}

PgConnection::~PgConnection() {
  cache_.clear();
  PQfinish(conn_);
}

Status PgConnection::exec(const std::string& sql) {
  ResultPtr result(PQexec(conn_, sql.c_str()));
  if (!succeeded(result.get())) return failed(result.get(), "statement failed");
  return core::ok_status();
}

Result<Statement> PgConnection::prepare(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end()) {
    auto prepared = std::make_unique<Prepared>(*this, "s" + std::to_string(++next_name_), to_pg_placeholders(sql));
    found = cache_.emplace(sql, std::move(prepared)).first;
  }
  return Result<Statement>(Statement(found->second.get()));
}

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Status PgConnection::ensure_open() {
  if (healthy()) return core::ok_status();
  PQreset(conn_);
  if (!healthy()) return pg_error(conn_, nullptr, "cannot reconnect to PostgreSQL");
  ++generation_;
  return core::ok_status();
}

}  // namespace repute::store::postgres
