#include "store/sql/stats_rows.hpp"

#include <algorithm>

namespace repute::store::sql {
namespace {

constexpr core::Micros kMicrosPerMinute = 60 * core::kMicrosPerSecond;
constexpr std::size_t kRankedEndpoints = 5;

// total, delivered, failed, waiting: the columns read_tally() reads, from column `first` on.
constexpr const char* kTallyColumns =
    "COUNT(*), COALESCE(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN state = 'failed' OR (state = 'pending' AND attempts > 0) THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END), 0)";

// The seq of the first delivery made at or after a time (found on deliveries_by_tenant_created): a bound that lets
// a subscription's (webhook_id, seq) index skip its older deliveries. Deliveries are stored in the order they are
// made but for the moments between making and committing, so at most a delivery committed out of order at the very
// start of the span is left out of a statistic.
constexpr const char* kFirstSeqSince =
    "COALESCE((SELECT seq FROM deliveries WHERE tenant_id = ? AND created_at >= ? ORDER BY created_at LIMIT 1), "
    "9223372036854775807)";

DeliveryTally read_tally(Statement& row, int first) {
  return {row.integer(first), row.integer(first + 1), row.integer(first + 2), row.integer(first + 3)};
}

Result<DeliveryTally> webhook_tally(Connection& db, const std::string& tenant_id, const std::string& webhook_id,
                                    core::Micros since) {
  auto statement =
      db.prepare(std::string("SELECT ") + kTallyColumns +
                 " FROM deliveries WHERE webhook_id = ? AND seq >= " + kFirstSeqSince + " AND created_at >= ?");
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

// Every subscription's attempts at the deliveries made since `since`: how many, how many failed, their mean
// duration. Grouped without the (webhook_id, seq) index, which would walk the whole table in its order.
Result<std::vector<WebhookRank>> rank_endpoints(Connection& db, const std::string& tenant_id, core::Micros since) {
  const std::string webhook = unindexed(db, "d.webhook_id");
  auto statement = db.prepare(
      "SELECT " + webhook +
      " AS webhook, COUNT(*), SUM(CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 0 ELSE 1 END), "
      "CAST(AVG(a.duration_us) AS DOUBLE PRECISION) FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id "
      "WHERE d.tenant_id = ? AND d.created_at >= ? GROUP BY " +
      webhook);
  if (!statement) return statement.error();
  statement->bind(1, tenant_id).bind(2, since);
  return collect_rows<WebhookRank>(*statement, [](Statement& row) {
    WebhookRank rank;
    rank.webhook_id = row.text(0);
    rank.attempts = row.integer(1);
    rank.failed = row.integer(2);
    rank.mean_duration_ms = row.real(3) / 1000.0;
    return rank;
  });
}

// The first kRankedEndpoints of ranks in the order `before` says, ties by id.
template <class Before>
std::vector<WebhookRank> top(std::vector<WebhookRank> ranks, Before before) {
  std::sort(ranks.begin(), ranks.end(), [&](const WebhookRank& a, const WebhookRank& b) {
    if (before(a, b)) return true;
    if (before(b, a)) return false;
    return a.webhook_id < b.webhook_id;
  });
  if (ranks.size() > kRankedEndpoints) ranks.resize(kRankedEndpoints);
  return ranks;
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
  auto ranks = rank_endpoints(db, tenant_id, since);
  if (!ranks) return ranks.error();
  std::vector<WebhookRank> failing;
  for (const WebhookRank& rank : *ranks) {
    if (rank.failed > 0) failing.push_back(rank);
  }
  overview.most_failing =
      top(std::move(failing), [](const WebhookRank& a, const WebhookRank& b) { return a.failed > b.failed; });
  overview.slowest = top(std::move(*ranks), [](const WebhookRank& a, const WebhookRank& b) {
    return a.mean_duration_ms > b.mean_duration_ms;
  });
  return overview;
}

}  // namespace repute::store::sql
