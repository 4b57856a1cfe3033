#pragma once
// Retry schedule: when a failed delivery is tried again, and when it is given up as failed (DESIGN.md §3).
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace repute::delivery {

using core::Micros;

// The default delays after attempt 1, 2, ...: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 20 h, 24 h.
std::vector<Micros> default_retry_delays();

// How failed deliveries are retried; every field is configurable.
struct RetryPolicy {
  // delays[i] is the wait after failed attempt i + 1; once they are used up the delivery is failed.
  std::vector<Micros> delays = default_retry_delays();
  // Each delay varies uniformly by ±jitter of itself (clamped to [0, 1]) so retries do not arrive in lockstep.
  double jitter = 0.2;
  // A receiver's Retry-After is honoured up to this long.
  Micros max_retry_after = 24 * 3600 * core::kMicrosPerSecond;
  // Multiplies every scheduled delay (tests and demos use e.g. 0.001); Retry-After and its cap are not scaled.
  double time_scale = 1.0;
};

// Computes jittered retry times from a RetryPolicy. Not thread-safe (it owns a PRNG): use one per thread or lock.
class RetrySchedule {
 public:
  // A schedule following policy; seed fixes the jitter sequence, by default it is random.
  explicit RetrySchedule(RetryPolicy policy, std::uint64_t seed = random_seed());

  // When the next attempt is due after attempts_made failed attempts, the last ending at now; nullopt once the
  // policy's delays are used up and the delivery is failed (no failed attempt yet: due now). A receiver's
  // retry_after (never scaled by time_scale, capped at max_retry_after) makes it no earlier than now + retry_after.
  std::optional<Micros> next_attempt(int attempts_made, Micros now, std::optional<Micros> retry_after = {});

  // The policy this schedule follows.
  const RetryPolicy& policy() const { return policy_; }

  // A seed from the system's random device.
  static std::uint64_t random_seed();

 private:
  RetryPolicy policy_;
  std::mt19937_64 rng_;
};

// Parses a Retry-After header value, delta-seconds or an IMF-fixdate HTTP-date, into a delay from now (a date in
// the past gives 0); nullopt when the value is malformed.
std::optional<Micros> parse_retry_after(std::string_view value, Micros now);

}  // namespace repute::delivery
