#pragma once
// Events and their deliveries: the transactional outbox (DESIGN §1 step 5, §3).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace repute::core {

// Something that happened to a reputation.
struct Event {
  std::string id;
  std::string tenant_id;
  std::string type;  // "reputations.added" or "reputations.updated"
  std::string account_id;
  std::string user_id;
  std::string reputation_id;
  Micros created_at = 0;
};

// Where a delivery stands.
enum class DeliveryState { kPending, kDelivered, kFailed };
const char* to_string(DeliveryState state);
std::optional<DeliveryState> parse_delivery_state(std::string_view text);

// One event to one subscription; its body is fixed when it is made, so every attempt sends the same bytes.
struct Delivery {
  std::int64_t seq = 0;  // its position in the store, set when it is stored (0 before)
  std::string id;        // also the webhook-id header: stable across retries
  std::string tenant_id;
  std::string event_id;
  std::string webhook_id;
  std::string event_type;
  std::string body;
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  std::optional<Micros> next_attempt_at;  // pending: when it is due (or when its lease runs out)
  std::optional<int> last_status;
  std::optional<std::string> last_error;
  Micros created_at = 0;
  Micros updated_at = 0;
  std::optional<Micros> delivered_at;
};

// One try at sending a delivery.
struct DeliveryAttempt {
  std::string delivery_id;
  Micros attempted_at = 0;
  Micros duration = 0;
  std::optional<int> status_code;
  std::optional<std::string> error;
  std::string response_excerpt;  // the first bytes of the answer (at most 1 KiB)
  // The request's header fields as sent, signatures included, as header_lines() writes them (empty for attempts
  // recorded before they were kept).
  std::string request_headers;
};

// Header fields as "Name: value" lines, each ending in "\n" (the fields this server sends never hold a line break):
// one string, made once per attempt and stored as it is.
std::string header_lines(const std::vector<std::pair<std::string, std::string>>& headers);
// The fields of header_lines() text, in order; lines without ": " are skipped.
std::vector<std::pair<std::string, std::string>> parse_header_lines(std::string_view lines);

}  // namespace repute::core
