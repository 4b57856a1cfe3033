#include "store/sql/delivery_rows.hpp"

#include <algorithm>

#include "store/sql/pages.hpp"

namespace repute::store::sql {
namespace {

constexpr const char* kEventSelect =
    "SELECT seq, id, tenant_id, type, account_id, user_id, reputation_id, created_at FROM events";

#define REPUTE_DELIVERY_COLUMNS                                                                                 \
  "seq, id, tenant_id, event_id, webhook_id, event_type, body, state, attempts, next_attempt_at, last_status, " \
  "last_error, created_at, updated_at, delivered_at"
constexpr const char* kDeliverySelect = "SELECT " REPUTE_DELIVERY_COLUMNS " FROM deliveries";
constexpr const char* kDeliveryReturning = " RETURNING " REPUTE_DELIVERY_COLUMNS;
#undef REPUTE_DELIVERY_COLUMNS

core::Event read_event(Statement& row) {
  return {row.text(1), row.text(2), row.text(3), row.text(4), row.text(5), row.text(6), row.integer(7)};
}

core::Delivery read_delivery(Statement& row) {
  core::Delivery delivery;
  delivery.seq = row.integer(0);
  delivery.id = row.text(1);
  delivery.tenant_id = row.text(2);
  delivery.event_id = row.text(3);
  delivery.webhook_id = row.text(4);
  delivery.event_type = row.text(5);
  delivery.body = row.text(6);
  delivery.state = core::parse_delivery_state(row.text(7)).value_or(core::DeliveryState::kPending);
  delivery.attempts = static_cast<int>(row.integer(8));
  delivery.next_attempt_at = row.optional_integer(9);
  if (auto status = row.optional_integer(10)) delivery.last_status = static_cast<int>(*status);
  delivery.last_error = row.optional_text(11);
  delivery.created_at = row.integer(12);
  delivery.updated_at = row.integer(13);
  delivery.delivered_at = row.optional_integer(14);
  return delivery;
}

}  // namespace

Status insert_event(Connection& db, const core::Event& event) {
  auto statement = db.prepare(
      "INSERT INTO events(id, tenant_id, type, account_id, user_id, reputation_id, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return statement->bind(1, event.id)
      .bind(2, event.tenant_id)
      .bind(3, event.type)
      .bind(4, event.account_id)
      .bind(5, event.user_id)
      .bind(6, event.reputation_id)
      .bind(7, event.created_at)
      .run();
}

Result<std::optional<core::Event>> find_event(Connection& db, const std::string& tenant_id, const std::string& id) {
  auto statement = db.prepare(std::string(kEventSelect) + " WHERE id = ? AND tenant_id = ?");
  if (!statement) return statement.error();
  statement->bind(1, id).bind(2, tenant_id);
  return first_row<core::Event>(*statement, read_event);
}

Result<Page<core::Event>> list_events(Connection& db, const std::string& tenant_id, const EventFilter& filter,
                                      const PageRequest& page) {
  Filters filters{{"tenant_id", tenant_id}};
  if (filter.type) filters.emplace_back("type", *filter.type);
  if (filter.account_id) filters.emplace_back("account_id", *filter.account_id);
  return list_page<core::Event>(db, "events", kEventSelect, filters, page, read_event);
}

Result<DeliveryCounts> count_deliveries(Connection& db, const std::string& event_id) {
  auto statement = db.prepare("SELECT state, COUNT(*) FROM deliveries WHERE event_id = ? GROUP BY state");
  if (!statement) return statement.error();
  statement->bind(1, event_id);
  DeliveryCounts counts;
  for (;;) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!*row) return counts;
    const std::string state = statement->text(0);
    const std::int64_t count = statement->integer(1);
    if (state == "pending")
      counts.pending = count;
    else if (state == "delivered")
      counts.delivered = count;
    else if (state == "failed")
      counts.failed = count;
  }
}

namespace {

// Binds a delivery's changing fields as parameters 1..7.
Statement& bind_delivery_state(Statement& statement, const core::Delivery& delivery) {
  std::optional<std::int64_t> last_status;
  if (delivery.last_status) last_status = *delivery.last_status;
  return statement.bind(1, core::to_string(delivery.state))
      .bind(2, std::int64_t{delivery.attempts})
      .bind(3, delivery.next_attempt_at)
      .bind(4, last_status)
      .bind(5, delivery.last_error)
      .bind(6, delivery.updated_at)
      .bind(7, delivery.delivered_at);
}

}  // namespace

Status insert_delivery(Connection& db, core::Delivery& delivery, const std::optional<std::string>& leased_by) {
  auto statement = db.prepare(
      "INSERT INTO deliveries(state, attempts, next_attempt_at, last_status, last_error, updated_at, delivered_at, id, "
      "tenant_id, event_id, webhook_id, event_type, body, created_at, leased_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?) RETURNING seq");
  if (!statement) return statement.error();
  auto inserted = bind_delivery_state(*statement, delivery)
                      .bind(8, delivery.id)
                      .bind(9, delivery.tenant_id)
                      .bind(10, delivery.event_id)
                      .bind(11, delivery.webhook_id)
                      .bind(12, delivery.event_type)
                      .bind(13, delivery.body)
                      .bind(14, delivery.created_at)
                      .bind(15, leased_by)
                      .step();
  if (!inserted) return inserted.error();
  if (!*inserted) return core::internal_error("insert_delivery: no seq came back for " + delivery.id);
  delivery.seq = statement->integer(0);
  return core::ok_status();
}

Status update_delivery(Connection& db, const core::Delivery& delivery) {
  if (delivery.seq == 0) return core::internal_error("update_delivery: delivery " + delivery.id + " was never stored");
  auto statement = db.prepare(
      "UPDATE deliveries SET state = ?1, attempts = ?2, next_attempt_at = ?3, last_status = ?4, last_error = ?5, "
      "updated_at = ?6, delivered_at = ?7, leased_by = NULL WHERE seq = ?8");
  if (!statement) return statement.error();
  return bind_delivery_state(*statement, delivery).bind(8, delivery.seq).run();
}

Result<std::optional<core::Delivery>> find_delivery(Connection& db, const std::string& tenant_id,
                                                    const std::string& id) {
  auto statement = db.prepare(std::string(kDeliverySelect) + " WHERE id = ? AND tenant_id = ?");
  if (!statement) return statement.error();
  statement->bind(1, id).bind(2, tenant_id);
  return first_row<core::Delivery>(*statement, read_delivery);
}

Result<std::vector<core::Delivery>> list_event_deliveries(Connection& db, const std::string& tenant_id,
                                                          const std::string& event_id) {
  auto statement = db.prepare(std::string(kDeliverySelect) + " WHERE event_id = ? AND tenant_id = ? ORDER BY seq");
  if (!statement) return statement.error();
  statement->bind(1, event_id).bind(2, tenant_id);
  return collect_rows<core::Delivery>(*statement, read_delivery);
}

Result<Page<core::Delivery>> list_deliveries(Connection& db, const std::string& tenant_id,
                                             const std::string& webhook_id,
                                             const DeliveryFilter& filter, const PageRequest& page) {
  Filters filters = {{"webhook_id", webhook_id}, {"tenant_id", tenant_id}};
  if (filter.state) filters.emplace_back("state", std::string(core::to_string(*filter.state)));
  if (filter.created_after) filters.emplace_back("created_at >=", *filter.created_after);
  if (filter.created_before) filters.emplace_back("created_at <", *filter.created_before);
  return list_page<core::Delivery>(db, "deliveries", kDeliverySelect, filters, page, read_delivery);
}

Result<std::vector<core::Delivery>> claim_due_deliveries(Connection& db, core::Micros now, core::Micros lease_until,
                                                         int limit, const std::vector<std::string>& skip_webhooks,
                                                         const std::string& node_id) {
  // One statement finds and leases the batch. On SQLite "+webhook_id" keeps the planner on deliveries_due (walked in
  // due order, stopping at the limit): through deliveries_by_webhook_state it would read and sort every pending
  // delivery of every subscription per claim. On PostgreSQL the rows are locked as they are found, and rows another
  // node is claiming at the same moment are skipped rather than waited for.
  const std::string webhook = unindexed(db, "webhook_id");
  std::string sql =
      "UPDATE deliveries SET next_attempt_at = ?, leased_by = ? WHERE seq IN (SELECT seq FROM deliveries WHERE state = "
      "'pending' AND next_attempt_at <= ? AND " +
      webhook + " IN (SELECT id FROM webhooks WHERE enabled = 1)";
  if (!skip_webhooks.empty()) {
    sql += " AND " + webhook + " NOT IN (";
    for (std::size_t i = 0; i < skip_webhooks.size(); ++i) sql += i ? ", ?" : "?";
    sql += ")";
  }
  sql += " ORDER BY next_attempt_at LIMIT ?";
  sql += skip_locked(db);
  sql += ")";
  sql += kDeliveryReturning;
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  int index = 1;
  statement->bind(index++, lease_until);
  statement->bind(index++, node_id);
  statement->bind(index++, now);
  for (const auto& id : skip_webhooks) statement->bind(index++, id);
  statement->bind(index, std::int64_t{limit});
  auto due = collect_rows<core::Delivery>(*statement, read_delivery);
  if (!due) return due.error();
  // RETURNING gives no order; store order is creation order.
  std::sort(due->begin(), due->end(), [](const core::Delivery& a, const core::Delivery& b) { return a.seq < b.seq; });
  return due;
}

Result<std::optional<core::Micros>> next_delivery_due(Connection& db) {
  // The first due entry of deliveries_due whose subscription is enabled (see claim_due_deliveries).
  auto statement = db.prepare("SELECT next_attempt_at FROM deliveries WHERE state = 'pending' AND " +
                              unindexed(db, "webhook_id") +
                              " IN (SELECT id FROM webhooks WHERE enabled = 1) ORDER BY next_attempt_at LIMIT 1");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return *row ? statement->optional_integer(0) : std::nullopt;
}

Result<std::int64_t> requeue_failed_deliveries(Connection& db, const std::string& tenant_id,
                                               const std::string& webhook_id, core::Micros since, core::Micros now) {
  auto statement = db.prepare(
      "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, attempts = 0, updated_at = ? "
      "WHERE tenant_id = ? AND webhook_id = ? AND state = 'failed' AND created_at >= ?");
  if (!statement) return statement.error();
  if (auto status = statement->bind(1, now).bind(2, now).bind(3, tenant_id).bind(4, webhook_id).bind(5, since).run();
      !status) {
    return status.error();
  }
  return std::int64_t{db.changes()};
}

Status insert_attempt(Connection& db, const core::DeliveryAttempt& attempt) {
  auto statement = db.prepare(
      "INSERT INTO delivery_attempts(delivery_id, attempted_at, duration_us, status_code, error, response_excerpt, "
      "request_headers) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  std::optional<std::int64_t> status_code;
  if (attempt.status_code) status_code = *attempt.status_code;
  statement->bind(1, attempt.delivery_id)
      .bind(2, attempt.attempted_at)
      .bind(3, attempt.duration)
      .bind(4, status_code)
      .bind(5, attempt.error)
      .bind(6, attempt.response_excerpt);
  if (attempt.request_headers.empty()) {
    statement->bind_null(7);
  } else {
    statement->bind(7, attempt.request_headers);
  }
  return statement->run();
}

Result<std::vector<core::DeliveryAttempt>> list_attempts(Connection& db, const std::string& delivery_id) {
  auto statement = db.prepare(
      "SELECT delivery_id, attempted_at, duration_us, status_code, error, response_excerpt, request_headers "
      "FROM delivery_attempts WHERE delivery_id = ? ORDER BY seq");
  if (!statement) return statement.error();
  statement->bind(1, delivery_id);
  return collect_rows<core::DeliveryAttempt>(*statement, [](Statement& row) {
    core::DeliveryAttempt attempt;
    attempt.delivery_id = row.text(0);
    attempt.attempted_at = row.integer(1);
    attempt.duration = row.integer(2);
    if (auto code = row.optional_integer(3)) attempt.status_code = static_cast<int>(*code);
    attempt.error = row.optional_text(4);
    attempt.response_excerpt = row.text(5);
    attempt.request_headers = row.optional_text(6).value_or("");
    return attempt;
  });
}

}  // namespace repute::store::sql
