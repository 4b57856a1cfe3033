#include "api/resource_json.hpp"

#include <boost/json/parse.hpp>

#include "core/strict_json.hpp"
#include "core/time.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

json::value optional_text(const std::optional<std::string>& text) {
  return text ? json::value(*text) : json::value(nullptr);
}

json::value optional_time(const std::optional<core::Micros>& time) {
  return time ? json::value(core::format_time(*time)) : json::value(nullptr);
}

// The body as sent, as JSON when it is (always, for bodies this server made), else as text.
json::value payload_json(const std::string& body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  return ec ? json::value(body) : parsed;
}

json::object source_json(const core::Source& source) {
  json::object out{{"type", core::to_string(source.type)}};
  if (source.type == core::Source::Type::kHttp) out["url"] = source.url.value_or("");
  if (source.type == core::Source::Type::kSandbox) out["change_probability"] = source.change_probability;
  return out;
}

}  // namespace

json::object user_json(const core::User& user) {
  return {{"id", user.id},
          {"external_id", optional_text(user.external_id)},
          {"metadata", core::parse_stored_json(user.metadata)},
          {"created_at", core::format_time(user.created_at)}};
}

json::object account_json(const core::Account& account) {
  return {{"id", account.id},
          {"user", account.user_id},
          {"employer", account.employer},
          {"source", source_json(account.source)},
          {"created_at", core::format_time(account.created_at)},
          {"updated_at", core::format_time(account.updated_at)},
          {"scanned_at", optional_time(account.scanned_at)},
          {"connection",
           {{"status", account.connection_status},
            {"error_code", optional_text(account.connection_error_code)},
            {"error_message", optional_text(account.connection_error_message)},
            {"updated_at", core::format_time(account.connection_updated_at)}}},
          {"ongoing_refresh", {{"status", account.ongoing_refresh ? "enabled" : "disabled"}}},
          {"refresh_frequency", account.refresh_frequency}};
}

json::object event_json(const core::Event& event, const store::DeliveryCounts& counts) {
  return {{"id", event.id},
          {"event", event.type},
          {"created_at", core::format_time(event.created_at)},
          {"data", {{"account", event.account_id}, {"user", event.user_id}, {"reputation", event.reputation_id}}},
          {"deliveries", {{"pending", counts.pending}, {"delivered", counts.delivered}, {"failed", counts.failed}}}};
}

json::object delivery_json(const core::Delivery& delivery) {
  const bool pending = delivery.state == core::DeliveryState::kPending;
  return {
      {"id", delivery.id},
      {"webhook", delivery.webhook_id},
      {"event", delivery.event_id},
      {"event_type", delivery.event_type},
      {"state", core::to_string(delivery.state)},
      {"attempt_count", delivery.attempts},
      {"next_attempt_at", pending ? optional_time(delivery.next_attempt_at) : json::value(nullptr)},
      {"last_status_code", delivery.last_status ? json::value(*delivery.last_status) : json::value(nullptr)},
      {"last_error", optional_text(delivery.last_error)},
      {"delivered_at", optional_time(delivery.delivered_at)},
      {"created_at", core::format_time(delivery.created_at)},
      {"updated_at", core::format_time(delivery.updated_at)},
      {"payload", payload_json(delivery.body)},
  };
}

json::object attempt_json(const core::DeliveryAttempt& attempt) {
  json::object headers;
  for (auto& [name, value] : core::parse_header_lines(attempt.request_headers)) headers[name] = std::move(value);
  return {
      {"attempted_at", core::format_time(attempt.attempted_at)},
      {"duration_ms", static_cast<double>(attempt.duration) / 1000.0},
      {"status_code", attempt.status_code ? json::value(*attempt.status_code) : json::value(nullptr)},
      {"error", optional_text(attempt.error)},
      {"response", attempt.response_excerpt},
      {"request_headers", std::move(headers)},
  };
}


}  // namespace repute::api
