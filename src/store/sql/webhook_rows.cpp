#include "store/sql/webhook_rows.hpp"

#include "store/sql/pages.hpp"

namespace repute::store::sql {
namespace {

constexpr const char* kSelect =
    "SELECT seq, id, tenant_id, events, name, url, secret, include_resource, enabled, disabled_reason, "
    "last_sent_at, created_at, updated_at, failing_since, previous_secret, previous_secret_expires_at FROM webhooks";

// Event names never contain a comma, so a comma-joined list is a faithful encoding.
std::string join_events(const std::vector<std::string>& events) {
  std::string joined;
  for (const auto& event : events) joined += (joined.empty() ? "" : ",") + event;
  return joined;
}

std::vector<std::string> split_events(const std::string& joined) {
  std::vector<std::string> events;
  std::size_t start = 0;
  while (start <= joined.size() && !joined.empty()) {
    const std::size_t comma = joined.find(',', start);
    events.push_back(joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return events;
}

core::Webhook read_webhook(Statement& row) {
  core::Webhook webhook;
  webhook.id = row.text(1);
  webhook.tenant_id = row.text(2);
  webhook.events = split_events(row.text(3));
  webhook.name = row.text(4);
  webhook.url = row.text(5);
  webhook.secret = row.optional_text(6);
  webhook.include_resource = row.integer(7) != 0;
  webhook.enabled = row.integer(8) != 0;
  webhook.disabled_reason = row.optional_text(9);
  webhook.last_sent_at = row.optional_integer(10);
  webhook.created_at = row.integer(11);
  webhook.updated_at = row.integer(12);
  webhook.failing_since = row.optional_integer(13);
  webhook.previous_secret = row.optional_text(14);
  webhook.previous_secret_expires_at = row.optional_integer(15);
  return webhook;
}

Statement& bind_fields(Statement& statement, const core::Webhook& webhook) {
  return statement.bind(1, join_events(webhook.events))
      .bind(2, webhook.name)
      .bind(3, webhook.url)
      .bind(4, webhook.secret)
      .bind(5, std::int64_t{webhook.include_resource})
      .bind(6, std::int64_t{webhook.enabled})
      .bind(7, webhook.disabled_reason)
      .bind(8, webhook.last_sent_at)
      .bind(9, webhook.updated_at)
      .bind(10, webhook.id)
      .bind(11, webhook.tenant_id)
      .bind(12, webhook.failing_since)
      .bind(13, webhook.previous_secret)
      .bind(14, webhook.previous_secret_expires_at);
}

}  // namespace

Result<std::optional<core::Webhook>> find_webhook(Connection& db, const std::string& tenant_id, const std::string& id,
                                                  Lock lock) {
  auto statement = db.prepare(std::string(kSelect) + " WHERE id = ? AND tenant_id = ?" +
                              (lock == Lock::kForWrite ? locked_for_write(db) : ""));
  if (!statement) return statement.error();
  auto row = statement->bind(1, id).bind(2, tenant_id).step();
  if (!row) return row.error();
  if (!*row) return std::optional<core::Webhook>();
  return std::optional<core::Webhook>(read_webhook(*statement));
}

Result<Page<core::Webhook>> list_webhooks(Connection& db, const std::string& tenant_id, const PageRequest& page) {
  return list_page<core::Webhook>(db, "webhooks", kSelect, {{"tenant_id", tenant_id}}, page, read_webhook);
}

Status insert_webhook(Connection& db, const core::Webhook& webhook) {
  auto statement = db.prepare(
      "INSERT INTO webhooks(events, name, url, secret, include_resource, enabled, disabled_reason, last_sent_at, "
      "updated_at, id, tenant_id, failing_since, previous_secret, previous_secret_expires_at, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return statement.error();
  return bind_fields(*statement, webhook).bind(15, webhook.created_at).run();
}

Status update_webhook(Connection& db, const core::Webhook& webhook) {
  auto statement = db.prepare(
      "UPDATE webhooks SET events = ?1, name = ?2, url = ?3, secret = ?4, include_resource = ?5, enabled = ?6, "
      "disabled_reason = ?7, last_sent_at = ?8, updated_at = ?9, failing_since = ?12, previous_secret = ?13, "
      "previous_secret_expires_at = ?14 WHERE id = ?10 AND tenant_id = ?11");
  if (!statement) return statement.error();
  return bind_fields(*statement, webhook).run();
}

Result<std::vector<core::Webhook>> list_enabled_webhooks(Connection& db, const std::string& tenant_id) {
  auto statement = db.prepare(std::string(kSelect) + " WHERE tenant_id = ? AND enabled = 1 ORDER BY seq");
  if (!statement) return statement.error();
  statement->bind(1, tenant_id);
  std::vector<core::Webhook> webhooks;
  for (;;) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!*row) return webhooks;
    webhooks.push_back(read_webhook(*statement));
  }
}

Result<std::optional<core::Webhook>> find_webhook_by_id(Connection& db, const std::string& id, Lock lock) {
  auto statement =
      db.prepare(std::string(kSelect) + " WHERE id = ?" + (lock == Lock::kForWrite ? locked_for_write(db) : ""));
  if (!statement) return statement.error();
  auto row = statement->bind(1, id).step();
  if (!row) return row.error();
  if (!*row) return std::optional<core::Webhook>();
  return std::optional<core::Webhook>(read_webhook(*statement));
}

Result<bool> delete_webhook(Connection& db, const std::string& tenant_id, const std::string& id) {
  auto statement = db.prepare("DELETE FROM webhooks WHERE id = ? AND tenant_id = ?");
  if (!statement) return statement.error();
  if (auto status = statement->bind(1, id).bind(2, tenant_id).run(); !status) return status.error();
  return db.changes() > 0;
}

}  // namespace repute::store::sql
