#pragma once
// Account: a user's account on one employer (gig platform), and where its reputation comes from.
#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace repute::core {

// Where an account's reputation is read from (DESIGN §4).
struct Source {
  enum class Type { kSandbox, kHttp, kPush };
  Type type = Type::kSandbox;
  std::optional<std::string> url;   // http: the URL that answers a scan result
  double change_probability = 0.3;  // sandbox: the chance that a periodic scan changes something
};

inline constexpr const char* kConnecting = "connecting";
inline constexpr const char* kConnected = "connected";
inline constexpr const char* kConnectionError = "error";

inline constexpr std::int64_t kDefaultRefreshSeconds = 21600;

// An account as stored.
struct Account {
  std::int64_t seq = 0;  // its position in the store, set when it is stored (0 before)
  std::string id;
  std::string tenant_id;
  std::string user_id;
  std::string employer;
  Source source;
  std::int64_t refresh_frequency = kDefaultRefreshSeconds;  // seconds between periodic scans
  bool ongoing_refresh = true;
  std::string connection_status = kConnecting;
  std::optional<std::string> connection_error_code;
  std::optional<std::string> connection_error_message;
  Micros connection_updated_at = 0;
  std::optional<Micros> scanned_at;
  std::optional<Micros> next_scan_at;  // when the scheduler runs the next scan; none: not scheduled
  std::int64_t scan_count = 0;         // scans finished, good or bad
  Micros created_at = 0;
  Micros updated_at = 0;
};

// "sandbox", "http", "push".
const char* to_string(Source::Type type);
// The type named by text, if any.
std::optional<Source::Type> parse_source_type(std::string_view text);

}  // namespace repute::core
