#pragma once
// Reading and checking a webhook subscription's fields from a request body (POST and PATCH).
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/responses.hpp"
#include "core/address_policy.hpp"
#include "core/webhook.hpp"

namespace repute::api {

inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxSecretLength = 1024;

// The fields a request sets; absent ones stay as they are.
struct WebhookChanges {
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> name;
  std::optional<std::string> url;
  std::optional<std::optional<std::string>> secret;  // set to a value, or set to none
  std::optional<bool> include_resource;
  std::optional<bool> enabled;
};

// Checks body; creating requires events, name and url and refuses `enabled`. Problems go to errors.
WebhookChanges read_webhook_changes(const boost::json::object& body, bool creating, const core::AddressPolicy& policy,
                                    FieldErrors& errors);

// Applies changes to webhook as of now.
void apply_webhook_changes(core::Webhook& webhook, const WebhookChanges& changes, core::Micros now);

// The API's JSON form of a subscription.
boost::json::object webhook_json(const core::Webhook& webhook);

}  // namespace repute::api
