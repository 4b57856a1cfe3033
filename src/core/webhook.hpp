#pragma once
// Webhook: a tenant's subscription to events, delivered to a URL.
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace repute::core {

// Why a subscription stopped receiving deliveries.
inline constexpr const char* kDisabledGone = "gone";        // the receiver answered 410
inline constexpr const char* kDisabledFailing = "failing";  // no success for too long
inline constexpr const char* kDisabledManual = "manual";    // a client turned it off

// A webhook subscription as stored.
struct Webhook {
  std::string id;
  std::string tenant_id;
  std::vector<std::string> events;
  std::string name;
  std::string url;
  std::optional<std::string> secret;
  // After a rotation, the secret it replaced keeps signing beside the new one until previous_secret_expires_at.
  std::optional<std::string> previous_secret;
  std::optional<Micros> previous_secret_expires_at;
  bool include_resource = false;
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  std::optional<Micros> last_sent_at;
  std::optional<Micros> failing_since;  // the first failure since the last success
  Micros created_at = 0;
  Micros updated_at = 0;
};

}  // namespace repute::core
