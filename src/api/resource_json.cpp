#include "api/resource_json.hpp"


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

}  // namespace repute::api
