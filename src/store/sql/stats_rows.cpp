#include "store/sql/stats_rows.hpp"

namespace repute::store::sql {
namespace {

constexpr core::Micros kMicrosPerMinute = 60 * core::kMicrosPerSecond;
constexpr int kRankedEndpoints = 5;

// total, delivered, failed, waiting: the columns read_tally() reads, from column `first` on.
constexpr const char* kTallyColumns =
    "COUNT(*), COALESCE(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN state = 'failed' OR (state = 'pending' AND attempts > 0) THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END), 0)";

// Every row created at or after a time has a seq at least this one's: a bound that lets a subscription's
// (webhook_id, seq) index skip its older deliveries.
constexpr const char* kFirstSeqSince =
    "COALESCE((SELECT MIN(seq) FROM deliveries WHERE tenant_id = ? AND created_at >= ?), 9223372036854775807)";

DeliveryTally read_tally(Statement& row, int first) {
  return {row.integer(first), row.integer(first + 1), row.integer(first + 2), row.integer(first + 3)};
}

Result<DeliveryTally> webhook_tally(Connection& db, const std::string& tenant_id, const std::string& webhook_id,
                                    core::Micros since) {
  auto statement = db.prepare(std::string("SELECT ") + kTallyColumns +
                              " FROM deliveries WHERE webhook_id = ? AND seq >= " + kFirstSeqSince +
                              " AND created_at >= ?");
  if (!statement) return statement.error();
  statement->bind(1, webhook_id).bind(2, tenant_id).bind(3, since).bind(4, since);
  auto row = statement->step();
  if (!row) return row.error();
  return *row ? read_tally(*statement, 0) : DeliveryTally{};
}

// How many rows match and the least created_at among them (nullopt when none does).
Status count_pending(Statement& statement, std::int64_t& count, std::optional<core::Micros>& oldest) {
  auto row = statement.step();
  if (!row) return row.error();
  if (*row) {
    count = statement.integer(0);
    oldest = statement.optional_integer(1);
  }
  return core::ok_status();
}

Result<std::vector<WebhookRank>> most_failing(Connection& db, const std::string& tenant_id, core::Micros since) {
  auto statement = db.prepare(
      "SELECT webhook_id, COUNT(*), SUM(CASE WHEN state = 'failed' OR (state = 'pending' AND attempts > 0) "
      "THEN 1 ELSE 0 END) AS failures FROM deliveries WHERE tenant_id = ? AND created_at >= ? GROUP BY webhook_id "
      "HAVING SUM(CASE WHEN state = 'failed' OR (state = 'pending' AND attempts > 0) THEN 1 ELSE 0 END) > 0 "
      "ORDER BY failures DESC, webhook_id LIMIT ?");
  if (!statement) return statement.error();
  statement->bind(1, tenant_id).bind(2, since).bind(3, std::int64_t{kRankedEndpoints});
  return collect_rows<WebhookRank>(*statement, [](Statement& row) {
    WebhookRank rank;
    rank.webhook_id = row.text(0);
    rank.attempts = row.integer(1);
    rank.failed = row.integer(2);
    return rank;
  });
}

Result<std::vector<WebhookRank>> slowest(Connection& db, const std::string& tenant_id, core::Micros since) {
  auto statement = db.prepare(
      "SELECT d.webhook_id, COUNT(*), CAST(AVG(a.duration_us) AS DOUBLE PRECISION) AS mean_us, "
      "SUM(CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 0 ELSE 1 END) FROM deliveries d "
      "JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.tenant_id = ? AND d.created_at >= ? "
      "GROUP BY d.webhook_id ORDER BY mean_us DESC, d.webhook_id LIMIT ?");
  if (!statement) return statement.error();
  statement->bind(1, tenant_id).bind(2, since).bind(3, std::int64_t{kRankedEndpoints});
  return collect_rows<WebhookRank>(*statement, [](Statement& row) {
    WebhookRank rank;
    rank.webhook_id = row.text(0);
    rank.attempts = row.integer(1);
    rank.mean_duration_ms = row.real(2) / 1000.0;
    rank.failed = row.integer(3);
    return rank;
  });
}

}  // namespace

Result<WebhookStats> webhook_stats(Connection& db, const std::string& tenant_id, const std::string& webhook_id,
                                   core::Micros now) {
  WebhookStats stats;
  auto hour = webhook_tally(db, tenant_id, webhook_id, now - 60 * kMicrosPerMinute);
  if (!hour) return hour.error();
  stats.last_hour = *hour;
  auto day = webhook_tally(db, tenant_id, webhook_id, now - 24 * 60 * kMicrosPerMinute);
  if (!day) return day.error();
  stats.last_day = *day;
  auto pending = db.prepare(
      "SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE webhook_id = ? AND tenant_id = ? AND state = 'pending'");
  if (!pending) return pending.error();
  pending->bind(1, webhook_id).bind(2, tenant_id);
  if (auto counted = count_pending(*pending, stats.pending, stats.oldest_pending_at); !counted) {
    return counted.error();
  }
  return stats;
}

Result<DeliveryOverview> delivery_overview(Connection& db, const std::string& tenant_id, core::Micros since) {
  DeliveryOverview overview;
  auto minutes = db.prepare(std::string("SELECT created_at / ") + std::to_string(kMicrosPerMinute) + " AS minute, " +
                            kTallyColumns +
                            " FROM deliveries WHERE tenant_id = ? AND created_at >= ? GROUP BY minute ORDER BY minute");
  if (!minutes) return minutes.error();
  minutes->bind(1, tenant_id).bind(2, since);
  auto tallies = collect_rows<MinuteTally>(*minutes, [](Statement& row) {
    return MinuteTally{row.integer(0) * kMicrosPerMinute, read_tally(row, 1)};
  });
  if (!tallies) return tallies.error();
  overview.minutes = std::move(*tallies);

  auto pending =
      db.prepare("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE tenant_id = ? AND state = 'pending'");
  if (!pending) return pending.error();
  pending->bind(1, tenant_id);
  if (auto counted = count_pending(*pending, overview.pending, overview.oldest_pending_at); !counted) {
    return counted.error();
  }
  auto failing = most_failing(db, tenant_id, since);
  if (!failing) return failing.error();
  overview.most_failing = std::move(*failing);
  auto slow = slowest(db, tenant_id, since);
  if (!slow) return slow.error();
  overview.slowest = std::move(*slow);
  return overview;
}

}  // namespace repute::store::sql
