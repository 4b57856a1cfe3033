#pragma once
// Reputation: what a scan found about an account (Argyle v1 fields), one per account.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace repute::core {

// One achievement or badge.
struct Achievement {
  std::optional<std::int64_t> count;
  std::optional<std::string> label;
  std::optional<std::string> badge_url;
  std::optional<std::string> description;
  std::optional<std::int64_t> points;
  bool operator==(const Achievement&) const = default;
};

// The content of a reputation as a scan reads it, already normalised: rates and rating are decimal
// strings, metadata is serialized JSON.
struct ScanResult {
  std::optional<std::string> rating;           // "0".."5"
  std::optional<std::string> acceptance_rate;  // "0".."1"
  std::optional<std::string> ontime_rate;      // "0".."1"
  std::vector<Achievement> achievements;
  std::string metadata = "{}";
  bool operator==(const ScanResult&) const = default;
};

// A reputation as stored.
struct Reputation {
  std::string id;
  std::string tenant_id;
  std::string account_id;
  std::string user_id;
  std::string employer;
  ScanResult content;
  Micros created_at = 0;
  Micros updated_at = 0;
};

}  // namespace repute::core
