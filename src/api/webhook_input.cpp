#include "api/webhook_input.hpp"

#include <algorithm>

#include "core/events.hpp"
#include "core/http_url.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr const char* kRequired = "This field is required.";
constexpr const char* kNotString = "Not a valid string.";
constexpr const char* kNotBoolean = "Must be a valid boolean.";

std::optional<std::vector<std::string>> read_events(const json::value& value, FieldErrors& errors) {
  if (!value.is_array()) {
    errors["events"].push_back("Expected a list of items but got type \"" + std::string(json::to_string(value.kind())) +
                               "\".");
    return std::nullopt;
  }
  const json::array& items = value.as_array();
  if (items.empty()) {
    errors["events"].push_back("This list may not be empty.");
    return std::nullopt;
  }
  std::vector<std::string> events;
  for (const json::value& item : items) {
    if (!item.is_string()) {
      errors["events"].push_back("Each event must be a string.");
      continue;
    }
    const std::string name(item.as_string());
    if (name != core::kAllEvents && !core::is_known_event(name)) {
      errors["events"].push_back("\"" + name + "\" is not a valid choice.");
      continue;
    }
    if (std::find(events.begin(), events.end(), name) == events.end()) events.push_back(name);
  }
  if (errors.count("events")) return std::nullopt;
  return events;
}

std::optional<std::string> read_name(const json::value& value, FieldErrors& errors) {
  if (!value.is_string()) {
    errors["name"].push_back(kNotString);
    return std::nullopt;
  }
  std::string name(value.as_string());
  if (name.find_first_not_of(" \t\r\n") == std::string::npos) {
    errors["name"].push_back("This field may not be blank.");
    return std::nullopt;
  }
  if (core::utf8_length(name) > kMaxNameLength) {
    errors["name"].push_back("Ensure this field has no more than " + std::to_string(kMaxNameLength) + " characters.");
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> read_url(const json::value& value, const core::AddressPolicy& policy, FieldErrors& errors) {
  if (!value.is_string()) {
    errors["url"].push_back(kNotString);
    return std::nullopt;
  }
  const std::string text(value.as_string());
  auto url = core::parse_http_url(text);
  if (!url) {
    errors["url"].push_back(url.error().message);
    return std::nullopt;
  }
  if (auto allowed = policy.check_host(url->host); !allowed) {
    errors["url"].push_back("This URL is not allowed: " + allowed.error().message + ".");
    return std::nullopt;
  }
  return text;
}

std::optional<std::optional<std::string>> read_secret(const json::value& value, FieldErrors& errors) {
  if (value.is_null()) return std::optional<std::string>();
  if (!value.is_string()) {
    errors["secret"].push_back(kNotString);
    return std::nullopt;
  }
  std::string secret(value.as_string());
  if (secret.size() > kMaxSecretLength) {
    errors["secret"].push_back("Ensure this field has no more than " + std::to_string(kMaxSecretLength) +
                               " characters.");
    return std::nullopt;
  }
  if (secret.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(secret));
}

std::optional<bool> read_include_resource(const json::value& value, FieldErrors& errors) {
  if (!value.is_object()) {
    errors["config"].push_back("Expected a dictionary of items but got type \"" +
                               std::string(json::to_string(value.kind())) + "\".");
    return std::nullopt;
  }
  std::optional<bool> include_resource;
  for (const auto& [key, item] : value.as_object()) {
    if (key != "include_resource") {
      errors["config"].push_back("Unknown key \"" + std::string(key) + "\".");
    } else if (!item.is_bool()) {
      errors["config"].push_back("include_resource: " + std::string(kNotBoolean));
    } else {
      include_resource = item.as_bool();
    }
  }
  if (errors.count("config")) return std::nullopt;
  return include_resource.value_or(false);
}

}  // namespace

WebhookChanges read_webhook_changes(const json::object& body, bool creating, const core::AddressPolicy& policy,
                                    FieldErrors& errors) {
  WebhookChanges changes;
  for (const auto& [key, value] : body) {
    if (key == "events") {
      changes.events = read_events(value, errors);
    } else if (key == "name") {
      changes.name = read_name(value, errors);
    } else if (key == "url") {
      changes.url = read_url(value, policy, errors);
    } else if (key == "secret") {
      changes.secret = read_secret(value, errors);
    } else if (key == "config") {
      changes.include_resource = read_include_resource(value, errors);
    } else if (key == "enabled" && !creating) {
      if (value.is_bool()) changes.enabled = value.as_bool();
      else errors["enabled"].push_back(kNotBoolean);
    } else {
      errors[std::string(key)].push_back("Unknown field.");
    }
  }
  if (creating) {
    for (const char* field : {"events", "name", "url"}) {
      if (!body.contains(field)) errors[field].push_back(kRequired);
    }
  }
  return changes;
}

void apply_webhook_changes(core::Webhook& webhook, const WebhookChanges& changes, core::Micros now) {
  if (changes.events) webhook.events = *changes.events;
  if (changes.name) webhook.name = *changes.name;
  if (changes.url) webhook.url = *changes.url;
  if (changes.secret) {
    // A secret set outright replaces the old one at once; only a rotation keeps the old one signing.
    webhook.secret = *changes.secret;
    webhook.previous_secret.reset();
    webhook.previous_secret_expires_at.reset();
  }
  if (changes.include_resource) webhook.include_resource = *changes.include_resource;
  if (changes.enabled && *changes.enabled != webhook.enabled) {
    webhook.enabled = *changes.enabled;
    webhook.disabled_reason = webhook.enabled ? std::nullopt : std::optional<std::string>(core::kDisabledManual);
  }
  webhook.updated_at = now;
}

json::object webhook_json(const core::Webhook& webhook) {
  json::array events;
  for (const auto& event : webhook.events) events.emplace_back(event);
  auto optional_text = [](const std::optional<std::string>& text) {
    return text ? json::value(*text) : json::value(nullptr);
  };
  return {
      {"id", webhook.id},
      {"events", std::move(events)},
      {"name", webhook.name},
      {"url", webhook.url},
      {"secret", optional_text(webhook.secret)},
      {"config", json::object{{"include_resource", webhook.include_resource}}},
      {"enabled", webhook.enabled},
      {"disabled_reason", optional_text(webhook.disabled_reason)},
      {"last_sent_at", webhook.last_sent_at ? json::value(core::format_time(*webhook.last_sent_at)) : json::value(nullptr)},
      {"previous_secret_expires_at", webhook.previous_secret && webhook.previous_secret_expires_at
                                         ? json::value(core::format_time(*webhook.previous_secret_expires_at))
                                         : json::value(nullptr)},
      {"created_at", core::format_time(webhook.created_at)},
      {"updated_at", core::format_time(webhook.updated_at)},
  };
}

}  // namespace repute::api
