// The outcome rules with the time passed in by hand: what each answer does to its delivery and its subscription.
#include "delivery/outcome.hpp"

#include <gtest/gtest.h>

#include <string>

namespace repute::delivery {
namespace {

constexpr core::Micros kSecond = core::kMicrosPerSecond;
constexpr core::Micros kHour = 3600 * kSecond;
constexpr core::Micros kDay = 24 * kHour;
constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z

RetryPolicy no_jitter() {
  RetryPolicy policy;
  policy.jitter = 0;
  return policy;
}

core::Delivery pending(int attempts = 0) {
  core::Delivery delivery;
  delivery.id = "d1";
  delivery.webhook_id = "w1";
  delivery.body = "{}";
  delivery.attempts = attempts;
  delivery.next_attempt_at = kNow + 30 * kSecond;  // its lease
  return delivery;
}

AttemptResult answered(int status, std::string body = "", std::optional<std::string> retry_after = {}) {
  AttemptResult result;
  result.attempted_at = kNow - 2000;
  result.duration = 2000;
  result.status = status;
  result.response_body = std::move(body);
  result.retry_after = std::move(retry_after);
  return result;
}

core::Webhook webhook() {
  core::Webhook hook;
  hook.id = "w1";
  hook.created_at = kNow - 30 * kDay;
  hook.updated_at = kNow - 30 * kDay;
  return hook;
}

TEST(OutcomeRules, TwoHundredsDeliver) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  for (int status : {200, 201, 202, 204, 299}) {
    Outcome outcome = rules.decide(pending(), answered(status, "ok"), kNow);
    EXPECT_EQ(outcome.delivery.state, core::DeliveryState::kDelivered) << status;
    EXPECT_EQ(outcome.delivery.attempts, 1);
    EXPECT_EQ(outcome.delivery.delivered_at, kNow);
    EXPECT_FALSE(outcome.delivery.next_attempt_at);
    EXPECT_EQ(outcome.delivery.last_status, status);
    EXPECT_EQ(outcome.effect, WebhookEffect::kSucceeded);
    EXPECT_EQ(outcome.label, "delivered");
    ASSERT_TRUE(outcome.attempt);
    EXPECT_EQ(outcome.attempt->delivery_id, "d1");
    EXPECT_EQ(outcome.attempt->attempted_at, kNow - 2000);
    EXPECT_EQ(outcome.attempt->duration, 2000);
    EXPECT_EQ(outcome.attempt->status_code, status);
    EXPECT_EQ(outcome.attempt->response_excerpt, "ok");
  }
}

TEST(OutcomeRules, FailuresFollowTheScheduleThenFail) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  const auto delays = default_retry_delays();
  core::Delivery delivery = pending();
  for (std::size_t i = 0; i < delays.size(); ++i) {
    Outcome outcome = rules.decide(delivery, answered(500), kNow);
    ASSERT_EQ(outcome.delivery.state, core::DeliveryState::kPending);
    EXPECT_EQ(outcome.delivery.next_attempt_at, kNow + delays[i]);
    EXPECT_EQ(outcome.effect, WebhookEffect::kFailed);
    EXPECT_EQ(outcome.label, "retry");
    delivery = outcome.delivery;
  }
  Outcome last = rules.decide(delivery, answered(500), kNow);
  EXPECT_EQ(last.delivery.state, core::DeliveryState::kFailed);
  EXPECT_EQ(last.delivery.attempts, 11);
  EXPECT_FALSE(last.delivery.next_attempt_at);
  EXPECT_EQ(last.label, "failed");
}

TEST(OutcomeRules, JitterStaysWithinTwentyPercent) {
  OutcomeRules rules(RetryPolicy{}, 5 * kDay, 42);
  for (int i = 0; i < 200; ++i) {
    const core::Micros due = *rules.decide(pending(1), answered(500), kNow).delivery.next_attempt_at;
    EXPECT_GE(due, kNow + 240 * kSecond);  // 5 min - 20 %
    EXPECT_LE(due, kNow + 360 * kSecond);
  }
}

TEST(OutcomeRules, ScaledScheduleForTests) {
  RetryPolicy policy = no_jitter();
  policy.time_scale = 0.001;
  OutcomeRules rules(policy, 5 * kDay);
  EXPECT_EQ(rules.decide(pending(), answered(503), kNow).delivery.next_attempt_at, kNow + 5000);
}

TEST(OutcomeRules, TransportErrorsAndRedirectsAreFailures) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  AttemptResult timeout;
  timeout.attempted_at = kNow - 15 * kSecond;
  timeout.duration = 15 * kSecond;
  timeout.error = "Operation timed out after 15000 milliseconds";
  Outcome timed_out = rules.decide(pending(), timeout, kNow);
  EXPECT_EQ(timed_out.delivery.state, core::DeliveryState::kPending);
  EXPECT_EQ(timed_out.delivery.last_error, timeout.error);
  EXPECT_FALSE(timed_out.delivery.last_status);
  EXPECT_EQ(timed_out.attempt->error, timeout.error);
  EXPECT_EQ(timed_out.delivery.next_attempt_at, kNow + 5 * kSecond);

  for (int status : {301, 302, 400, 404, 500}) {
    EXPECT_EQ(rules.decide(pending(), answered(status), kNow).effect, WebhookEffect::kFailed) << status;
  }
}

TEST(OutcomeRules, RetryAfterOn429And503IsHonouredWithinTheCap) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  EXPECT_EQ(rules.decide(pending(), answered(429, "", "120"), kNow).delivery.next_attempt_at, kNow + 120 * kSecond);
  EXPECT_EQ(rules.decide(pending(), answered(503, "", "Fri, 27 Nov 2026 11:00:00 GMT"), kNow).delivery.next_attempt_at,
            kNow + kHour);
  // Never earlier than the schedule says...
  EXPECT_EQ(rules.decide(pending(), answered(429, "", "1"), kNow).delivery.next_attempt_at, kNow + 5 * kSecond);
  // ... at most 24 h away...
  EXPECT_EQ(rules.decide(pending(), answered(429, "", "999999"), kNow).delivery.next_attempt_at, kNow + kDay);
  // ... and only on 429 and 503; a malformed value is ignored.
  EXPECT_EQ(rules.decide(pending(), answered(500, "", "120"), kNow).delivery.next_attempt_at, kNow + 5 * kSecond);
  EXPECT_EQ(rules.decide(pending(), answered(429, "", "soon"), kNow).delivery.next_attempt_at, kNow + 5 * kSecond);
}

TEST(OutcomeRules, RetryAfterIsNotScaled) {
  RetryPolicy policy = no_jitter();
  policy.time_scale = 0.001;
  OutcomeRules rules(policy, 5 * kDay);
  EXPECT_EQ(rules.decide(pending(), answered(429, "", "2"), kNow).delivery.next_attempt_at, kNow + 2 * kSecond);
}

TEST(OutcomeRules, GoneFailsTheDeliveryAndDisablesTheSubscription) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  Outcome outcome = rules.decide(pending(), answered(410), kNow);
  EXPECT_EQ(outcome.delivery.state, core::DeliveryState::kFailed);
  EXPECT_EQ(outcome.effect, WebhookEffect::kGone);
  core::Webhook hook = webhook();
  EXPECT_TRUE(rules.apply(hook, outcome.effect, kNow));
  EXPECT_FALSE(hook.enabled);
  EXPECT_EQ(hook.disabled_reason, "gone");
}

TEST(OutcomeRules, SuccessRecordsLastSentAndEndsTheStreak) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  core::Webhook hook = webhook();
  hook.failing_since = kNow - kDay;
  EXPECT_TRUE(rules.apply(hook, WebhookEffect::kSucceeded, kNow));
  EXPECT_EQ(hook.last_sent_at, kNow);
  EXPECT_FALSE(hook.failing_since);
  // An older success arriving late never moves last_sent_at back.
  rules.apply(hook, WebhookEffect::kSucceeded, kNow - kHour);
  EXPECT_EQ(hook.last_sent_at, kNow);
}

TEST(OutcomeRules, FiveDaysOfFailureDisables) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  core::Webhook hook = webhook();
  EXPECT_TRUE(rules.apply(hook, WebhookEffect::kFailed, kNow));
  EXPECT_EQ(hook.failing_since, kNow);
  EXPECT_FALSE(rules.apply(hook, WebhookEffect::kFailed, kNow + 4 * kDay));
  EXPECT_TRUE(hook.enabled);
  EXPECT_TRUE(rules.apply(hook, WebhookEffect::kFailed, kNow + 5 * kDay));
  EXPECT_FALSE(hook.enabled);
  EXPECT_EQ(hook.disabled_reason, "failing");
}

TEST(OutcomeRules, AChangeToTheSubscriptionRestartsTheStreak) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  core::Webhook hook = webhook();
  hook.failing_since = kNow - 6 * kDay;
  hook.updated_at = kNow - kHour;  // re-enabled an hour ago
  rules.apply(hook, WebhookEffect::kFailed, kNow);
  EXPECT_TRUE(hook.enabled);
  EXPECT_EQ(hook.failing_since, kNow);
}

TEST(OutcomeRules, ManualDisableKeepsItsReason) {
  OutcomeRules rules(no_jitter(), 5 * kDay);
  core::Webhook hook = webhook();
  hook.enabled = false;
  hook.disabled_reason = "manual";
  hook.failing_since = kNow - 6 * kDay;
  rules.apply(hook, WebhookEffect::kGone, kNow);
  rules.apply(hook, WebhookEffect::kFailed, kNow);
  EXPECT_EQ(hook.disabled_reason, "manual");
}

TEST(OutcomeRules, ReleaseIsNotAnAttempt) {
  Outcome outcome = OutcomeRules::release(pending(3), kNow);
  EXPECT_EQ(outcome.delivery.state, core::DeliveryState::kPending);
  EXPECT_EQ(outcome.delivery.attempts, 3);
  EXPECT_EQ(outcome.delivery.next_attempt_at, kNow);
  EXPECT_FALSE(outcome.attempt);
  EXPECT_EQ(outcome.effect, WebhookEffect::kNone);
}

TEST(ResponseExcerpt, KeepsTheFirstKibibyte) {
  EXPECT_EQ(response_excerpt("short"), "short");
  EXPECT_EQ(response_excerpt(std::string(5000, 'a')).size(), 1024u);
}

TEST(ResponseExcerpt, CutsAtACharacterBoundary) {
  std::string body(1023, 'a');
  body += "\xC3\xA9";  // é straddles byte 1024
  EXPECT_EQ(response_excerpt(body), std::string(1023, 'a'));
}

TEST(ResponseExcerpt, ReplacesInvalidUtf8) {
  EXPECT_EQ(response_excerpt("ok \xFF\xC3 end"), "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(response_excerpt("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(response_excerpt("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace repute::delivery
