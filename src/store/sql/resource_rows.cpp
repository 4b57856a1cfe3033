#include "store/sql/resource_rows.hpp"

#include <algorithm>

#include "core/reputation_json.hpp"
#include "store/sql/pages.hpp"

namespace repute::store::sql {
namespace {

constexpr const char* kUserSelect = "SELECT seq, id, tenant_id, external_id, metadata, created_at FROM users";

#define REPUTE_ACCOUNT_COLUMNS                                                                                   \
  "seq, id, tenant_id, user_id, employer, source_type, source_url, change_probability, refresh_frequency, "      \
  "ongoing_refresh, connection_status, connection_error_code, connection_error_message, connection_updated_at, " \
  "scanned_at, next_scan_at, scan_count, created_at, updated_at"
constexpr const char* kAccountSelect = "SELECT " REPUTE_ACCOUNT_COLUMNS " FROM accounts";
constexpr const char* kAccountReturning = " RETURNING " REPUTE_ACCOUNT_COLUMNS;
#undef REPUTE_ACCOUNT_COLUMNS

constexpr const char* kReputationSelect =
    "SELECT seq, id, tenant_id, account_id, user_id, employer, rating, acceptance_rate, ontime_rate, achievements, "
    "metadata, created_at, updated_at FROM reputations";

core::User read_user(Statement& row) {
  return {row.text(1), row.text(2), row.optional_text(3), row.text(4), row.integer(5)};
}

core::Account read_account(Statement& row) {
  core::Account account;
  account.seq = row.integer(0);
  account.id = row.text(1);
  account.tenant_id = row.text(2);
  account.user_id = row.text(3);
  account.employer = row.text(4);
  account.source.type = core::parse_source_type(row.text(5)).value_or(core::Source::Type::kSandbox);
  account.source.url = row.optional_text(6);
  account.source.change_probability = row.real(7);
  account.refresh_frequency = row.integer(8);
  account.ongoing_refresh = row.integer(9) != 0;
  account.connection_status = row.text(10);
  account.connection_error_code = row.optional_text(11);
  account.connection_error_message = row.optional_text(12);
  account.connection_updated_at = row.integer(13);
  account.scanned_at = row.optional_integer(14);
  account.next_scan_at = row.optional_integer(15);
  account.scan_count = row.integer(16);
  account.created_at = row.integer(17);
  account.updated_at = row.integer(18);
  return account;
}

core::Reputation read_reputation(Statement& row) {
  core::Reputation reputation;
  reputation.id = row.text(1);
  reputation.tenant_id = row.text(2);
  reputation.account_id = row.text(3);
  reputation.user_id = row.text(4);
  reputation.employer = row.text(5);
  reputation.content.rating = row.optional_text(6);
  reputation.content.acceptance_rate = row.optional_text(7);
  reputation.content.ontime_rate = row.optional_text(8);
  auto achievements = core::achievements_from_json(row.text(9));
  if (achievements) reputation.content.achievements = std::move(*achievements);
  reputation.content.metadata = row.text(10);
  reputation.created_at = row.integer(11);
  reputation.updated_at = row.integer(12);
  return reputation;
}

template <class T, class Map>
Result<std::optional<T>> find_one(Connection& db, const std::string& sql, const std::vector<std::string>& values,
                                  Map&& map) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  for (std::size_t i = 0; i < values.size(); ++i) statement->bind(static_cast<int>(i + 1), values[i]);
  return first_row<T>(*statement, map);
}

Result<bool> delete_where(Connection& db, const std::string& table, const std::string& tenant_id,
                          const std::string& id) {
  auto statement = db.prepare("DELETE FROM " + table + " WHERE id = ? AND tenant_id = ?");
  if (!statement) return statement.error();
  if (auto status = statement->bind(1, id).bind(2, tenant_id).run(); !status) return status.error();
  return db.changes() > 0;
}

// Binds an account's mutable fields as parameters 1..17 (id 16 and tenant 17 last, for UPDATE ... WHERE).
Statement& bind_account(Statement& statement, const core::Account& account) {
  return statement.bind(1, account.employer)
      .bind(2, core::to_string(account.source.type))
      .bind(3, account.source.url)
      .bind(4, account.source.change_probability)
      .bind(5, account.refresh_frequency)
      .bind(6, std::int64_t{account.ongoing_refresh})
      .bind(7, account.connection_status)
      .bind(8, account.connection_error_code)
      .bind(9, account.connection_error_message)
      .bind(10, account.connection_updated_at)
      .bind(11, account.scanned_at)
      .bind(12, account.next_scan_at)
      .bind(13, account.scan_count)
      .bind(14, account.updated_at)
      .bind(15, account.user_id)
      .bind(16, account.id)
      .bind(17, account.tenant_id);
}

Statement& bind_reputation(Statement& statement, const core::Reputation& reputation) {
  return statement.bind(1, reputation.content.rating)
      .bind(2, reputation.content.acceptance_rate)
      .bind(3, reputation.content.ontime_rate)
      .bind(4, core::achievements_to_json(reputation.content.achievements))
      .bind(5, reputation.content.metadata)
      .bind(6, reputation.updated_at)
      .bind(7, reputation.id);
}

}  // namespace

Result<std::optional<core::User>> find_user(Connection& db, const std::string& tenant_id, const std::string& id) {
  return find_one<core::User>(db, std::string(kUserSelect) + " WHERE id = ? AND tenant_id = ?", {id, tenant_id},
                              read_user);
}

Result<Page<core::User>> list_users(Connection& db, const std::string& tenant_id, const PageRequest& page) {
  return list_page<core::User>(db, "users", kUserSelect, {{"tenant_id", tenant_id}}, page, read_user);
}

Status insert_user(Connection& db, const core::User& user) {
  auto statement =
      db.prepare("INSERT INTO users(id, tenant_id, external_id, metadata, created_at) VALUES (?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return statement->bind(1, user.id)
      .bind(2, user.tenant_id)
      .bind(3, user.external_id)
      .bind(4, user.metadata)
      .bind(5, user.created_at)
      .run();
}

Result<bool> delete_user(Connection& db, const std::string& tenant_id, const std::string& id) {
  return delete_where(db, "users", tenant_id, id);
}

Result<std::optional<core::Account>> find_account(Connection& db, const std::string& tenant_id, const std::string& id) {
  return find_one<core::Account>(db, std::string(kAccountSelect) + " WHERE id = ? AND tenant_id = ?", {id, tenant_id},
                                 read_account);
}

Result<Page<core::Account>> list_accounts(Connection& db, const std::string& tenant_id,
                                          const std::optional<std::string>& user_id, const PageRequest& page) {
  Filters filters = {{"tenant_id", tenant_id}};
  if (user_id) filters.emplace_back("user_id", *user_id);
  return list_page<core::Account>(db, "accounts", kAccountSelect, filters, page, read_account);
}

Status insert_account(Connection& db, const core::Account& account) {
  auto statement = db.prepare(
      "INSERT INTO accounts(employer, source_type, source_url, change_probability, refresh_frequency, ongoing_refresh, "
      "connection_status, connection_error_code, connection_error_message, connection_updated_at, scanned_at, "
      "next_scan_at, scan_count, updated_at, user_id, id, tenant_id, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return bind_account(*statement, account).bind(18, account.created_at).run();
}

Status update_account(Connection& db, const core::Account& account) {
  auto statement = db.prepare(
      "UPDATE accounts SET employer = ?1, source_type = ?2, source_url = ?3, change_probability = ?4, "
      "refresh_frequency = ?5, ongoing_refresh = ?6, connection_status = ?7, connection_error_code = ?8, "
      "connection_error_message = ?9, connection_updated_at = ?10, scanned_at = ?11, next_scan_at = ?12, "
      "scan_count = ?13, updated_at = ?14, user_id = ?15 WHERE id = ?16 AND tenant_id = ?17");
  if (!statement) return statement.error();
  return bind_account(*statement, account).run();
}

Result<bool> delete_account(Connection& db, const std::string& tenant_id, const std::string& id) {
  return delete_where(db, "accounts", tenant_id, id);
}

Result<std::vector<core::Account>> claim_due_scans(Connection& db, core::Micros now, core::Micros lease_until,
                                                   int limit, const std::string& node_id) {
  // One statement leases the batch (RETURNING gives no order: the batch is put in store order).
  auto statement = db.prepare(
      std::string("UPDATE accounts SET next_scan_at = ?1, leased_by = ?4 WHERE seq IN (SELECT seq FROM accounts WHERE "
                  "next_scan_at IS NOT NULL AND next_scan_at <= ?2 ORDER BY next_scan_at LIMIT ?3") +
      skip_locked(db) + ")" + kAccountReturning);
  if (!statement) return statement.error();
  statement->bind(1, lease_until).bind(2, now).bind(3, std::int64_t{limit}).bind(4, node_id);
  auto due = collect_rows<core::Account>(*statement, read_account);
  if (!due) return due.error();
  std::sort(due->begin(), due->end(), [](const core::Account& a, const core::Account& b) { return a.seq < b.seq; });
  return due;
}

Result<std::vector<core::Account>> find_due_scans(Connection& db, core::Micros now, int limit) {
  // Locked until the unit of work that applies them commits: another node's finds pass them by.
  auto statement = db.prepare(std::string(kAccountSelect) +
                              " WHERE next_scan_at IS NOT NULL AND next_scan_at <= ? ORDER BY next_scan_at LIMIT ?" +
                              skip_locked(db));
  if (!statement) return statement.error();
  statement->bind(1, now).bind(2, std::int64_t{limit});
  return collect_rows<core::Account>(*statement, read_account);
}

Status lease_scan(Connection& db, std::int64_t account_seq, core::Micros lease_until, const std::string& node_id) {
  auto statement = db.prepare("UPDATE accounts SET next_scan_at = ?, leased_by = ? WHERE seq = ?");
  if (!statement) return statement.error();
  return statement->bind(1, lease_until).bind(2, node_id).bind(3, account_seq).run();
}

Status record_scan(Connection& db, const core::Account& account) {
  if (account.seq == 0) return core::internal_error("record_scan: account " + account.id + " was never stored");
  // Only the columns a scan changes, found by rowid: no indexed column but next_scan_at is named.
  auto statement = db.prepare(
      "UPDATE accounts SET connection_status = ?1, connection_error_code = ?2, connection_error_message = ?3, "
      "connection_updated_at = ?4, scanned_at = ?5, next_scan_at = ?6, scan_count = ?7, updated_at = ?8, "
      "leased_by = NULL WHERE seq = ?9");
  if (!statement) return statement.error();
  return statement->bind(1, account.connection_status)
      .bind(2, account.connection_error_code)
      .bind(3, account.connection_error_message)
      .bind(4, account.connection_updated_at)
      .bind(5, account.scanned_at)
      .bind(6, account.next_scan_at)
      .bind(7, account.scan_count)
      .bind(8, account.updated_at)
      .bind(9, account.seq)
      .run();
}

Result<std::optional<core::Micros>> next_scan_due(Connection& db) {
  auto statement = db.prepare("SELECT MIN(next_scan_at) FROM accounts WHERE next_scan_at IS NOT NULL");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return *row ? statement->optional_integer(0) : std::nullopt;
}

Result<std::optional<core::Reputation>> find_reputation(Connection& db, const std::string& tenant_id,
                                                        const std::string& id) {
  return find_one<core::Reputation>(db, std::string(kReputationSelect) + " WHERE id = ? AND tenant_id = ?",
                                    {id, tenant_id}, read_reputation);
}

Result<std::optional<core::Reputation>> find_reputation_by_account(Connection& db, const std::string& account_id) {
  return find_one<core::Reputation>(db, std::string(kReputationSelect) + " WHERE account_id = ?", {account_id},
                                    read_reputation);
}

Result<Page<core::Reputation>> list_reputations(Connection& db, const std::string& tenant_id,
                                                const ReputationFilter& filter, const PageRequest& page) {
  Filters filters = {{"tenant_id", tenant_id}};
  if (filter.user_id) filters.emplace_back("user_id", *filter.user_id);
  if (filter.account_id) filters.emplace_back("account_id", *filter.account_id);
  return list_page<core::Reputation>(db, "reputations", kReputationSelect, filters, page, read_reputation);
}

Status insert_reputation(Connection& db, const core::Reputation& reputation) {
  auto statement = db.prepare(
      "INSERT INTO reputations(rating, acceptance_rate, ontime_rate, achievements, metadata, updated_at, id, "
      "tenant_id, account_id, user_id, employer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return bind_reputation(*statement, reputation)
      .bind(8, reputation.tenant_id)
      .bind(9, reputation.account_id)
      .bind(10, reputation.user_id)
      .bind(11, reputation.employer)
      .bind(12, reputation.created_at)
      .run();
}

Status update_reputation(Connection& db, const core::Reputation& reputation) {
  auto statement = db.prepare(
      "UPDATE reputations SET rating = ?1, acceptance_rate = ?2, ontime_rate = ?3, achievements = ?4, metadata = ?5, "
      "updated_at = ?6 WHERE id = ?7");
  if (!statement) return statement.error();
  return bind_reputation(*statement, reputation).run();
}

}  // namespace repute::store::sql
