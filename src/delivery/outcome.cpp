#include "delivery/outcome.hpp"

#include <utility>

namespace repute::delivery {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_success(int status) { return status >= 200 && status <= 299; }

// The length of the well-formed UTF-8 sequence at the start of text, or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

OutcomeRules::OutcomeRules(RetryPolicy policy, core::Micros disable_after, std::uint64_t seed)
    : schedule_(std::move(policy), seed), disable_after_(disable_after) {}

Outcome OutcomeRules::decide(core::Delivery delivery, const AttemptResult& result, core::Micros now) {
  Outcome outcome;
  core::DeliveryAttempt attempt;
  attempt.delivery_id = delivery.id;
  attempt.attempted_at = result.attempted_at;
  attempt.duration = result.duration;
  attempt.status_code = result.status;
  attempt.error = result.error;
  attempt.response_excerpt = response_excerpt(result.response_body);
  attempt.request_headers = result.request_headers;

  delivery.attempts += 1;
  delivery.last_status = result.status;
  delivery.last_error = result.error;
  delivery.updated_at = now;

  if (result.status && is_success(*result.status)) {
    delivery.state = core::DeliveryState::kDelivered;
    delivery.next_attempt_at.reset();
    delivery.delivered_at = now;
    outcome.effect = WebhookEffect::kSucceeded;
    outcome.label = "delivered";
  } else if (result.status == 410) {
    delivery.state = core::DeliveryState::kFailed;
    delivery.next_attempt_at.reset();
    outcome.effect = WebhookEffect::kGone;
    outcome.label = "gone";
  } else {
    std::optional<core::Micros> retry_after;
    if ((result.status == 429 || result.status == 503) && result.retry_after) {
      retry_after = parse_retry_after(*result.retry_after, now);
    }
    delivery.next_attempt_at = schedule_.next_attempt(delivery.attempts, now, retry_after);
    delivery.state = delivery.next_attempt_at ? core::DeliveryState::kPending : core::DeliveryState::kFailed;
    outcome.effect = WebhookEffect::kFailed;
    outcome.label = delivery.next_attempt_at ? "retry" : "failed";
  }
  outcome.delivery = std::move(delivery);
  outcome.attempt = std::move(attempt);
  return outcome;
}

Outcome OutcomeRules::release(core::Delivery delivery, core::Micros now) {
  delivery.state = core::DeliveryState::kPending;
  delivery.next_attempt_at = now;
  Outcome outcome;
  outcome.delivery = std::move(delivery);
  outcome.label = "released";
  return outcome;
}

bool OutcomeRules::apply(core::Webhook& webhook, WebhookEffect effect, core::Micros at) const {
  switch (effect) {
    case WebhookEffect::kNone:
      return false;
    case WebhookEffect::kSucceeded: {
      const bool changed = webhook.failing_since.has_value() || webhook.last_sent_at != at;
      webhook.last_sent_at = std::max(webhook.last_sent_at.value_or(at), at);
      webhook.failing_since.reset();
      return changed;
    }
    case WebhookEffect::kGone:
      if (!webhook.enabled) return false;
      webhook.enabled = false;
      webhook.disabled_reason = core::kDisabledGone;
      return true;
    case WebhookEffect::kFailed:
      break;
  }
  bool changed = false;
  // A streak that began before the client last changed the subscription (a new URL, a re-enable) starts over.
  if (!webhook.failing_since || *webhook.failing_since < webhook.updated_at) {
    webhook.failing_since = at;
    changed = true;
  }
  if (webhook.enabled && at - *webhook.failing_since >= disable_after_) {
    webhook.enabled = false;
    webhook.disabled_reason = core::kDisabledFailing;
    changed = true;
  }
  return changed;
}

std::string response_excerpt(std::string_view body) {
  std::string excerpt;
  excerpt.reserve(std::min(body.size(), kResponseExcerptBytes));
  while (!body.empty()) {
    const std::size_t length = utf8_sequence_length(body);
    const std::string_view piece = length ? body.substr(0, length) : kReplacement;
    if (excerpt.size() + piece.size() > kResponseExcerptBytes) break;
    excerpt += piece;
    body.remove_prefix(length ? length : 1);
  }
  return excerpt;
}

}  // namespace repute::delivery
