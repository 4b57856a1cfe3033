#pragma once
// Outcome rules: what one attempt's answer does to its delivery (delivered, retried later, failed) and to its
// subscription (last_sent_at, failing_since, disabled as "gone" or "failing"). Pure decisions over values, with
// the time passed in, so that every rule is testable without a network, a store or a real clock.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/delivery.hpp"
#include "core/webhook.hpp"
#include "delivery/retry_schedule.hpp"

namespace repute::delivery {

// The first bytes of a response kept in the delivery log.
inline constexpr std::size_t kResponseExcerptBytes = 1024;

// What one attempt came to.
struct AttemptResult {
  core::Micros attempted_at = 0;                                     // when the request was sent
  core::Micros duration = 0;                                         // how long it took
  std::optional<int> status;                                         // the status code, when one arrived
  std::optional<std::string> error;                                  // why the exchange did not complete
  std::string response_body;                                         // (the start of) the response body
  std::optional<std::string> retry_after;                            // the Retry-After header, if any
  std::string request_headers;             // the header fields sent, as core::header_lines() writes them
};

// How an attempt bears on its subscription's health.
enum class WebhookEffect {
  kNone,       // nothing (a delivery handed back unsent)
  kSucceeded,  // a 2xx: the receiver is healthy
  kFailed,     // any other answer or none
  kGone,       // 410 Gone: the receiver asks us to stop
};

// A delivery's next state after an attempt, and the record of that attempt.
struct Outcome {
  core::Delivery delivery;                       // as it must be stored now
  std::optional<core::DeliveryAttempt> attempt;  // absent when the delivery is only handed back unsent
  WebhookEffect effect = WebhookEffect::kNone;
  std::string_view label;  // "delivered", "retry", "failed", "gone" or "released"
};

// Decides outcomes with a retry schedule and the failing-endpoint limit. Not thread-safe (the schedule's PRNG).
class OutcomeRules {
 public:
  // Retries follow policy; a subscription failing without a success for disable_after is disabled.
  OutcomeRules(RetryPolicy policy, core::Micros disable_after, std::uint64_t seed = RetrySchedule::random_seed());

  // The outcome of an attempt at delivery that ended at now: a 2xx delivers; 410 fails the delivery and marks
  // the subscription gone; anything else retries on the schedule (no earlier than a 429/503's Retry-After, within
  // the policy's cap) or fails the delivery once the schedule is used up.
  Outcome decide(core::Delivery delivery, const AttemptResult& result, core::Micros now);

  // A delivery handed back unsent (cut off by shutdown): pending again, due at now, its attempt count unchanged.
  static Outcome release(core::Delivery delivery, core::Micros now);

  // Applies effect, seen at time at, to webhook; true when it changed anything. A success sets last_sent_at and
  // ends the failing streak; a failure starts one (or restarts it when the subscription was changed after the
  // streak began, e.g. re-enabled) and disables the subscription as "failing" once the streak is disable_after old;
  // gone disables it as "gone". A disabled subscription is never re-disabled under another reason.
  bool apply(core::Webhook& webhook, WebhookEffect effect, core::Micros at) const;

 private:
  RetrySchedule schedule_;
  core::Micros disable_after_;
};

// The first kResponseExcerptBytes of body (cut at a character boundary) with invalid UTF-8 replaced by U+FFFD,
// safe to store as text and to show in JSON.
std::string response_excerpt(std::string_view body);

}  // namespace repute::delivery
