#pragma once
// Signing: the headers that let a receiver check an outgoing webhook came from us (DESIGN.md §3).
// Pure functions of their inputs, safe to call from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "core/webhook.hpp"

namespace repute::delivery {

// The X-Argyle-Signature value: lowercase hex HMAC-SHA512 of the raw body, keyed with the secret's bytes as given.
std::string argyle_signature(std::string_view secret, std::string_view body);

// The webhook-signature value "v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp_seconds}.{body}">". The key is the
// base64-decoded part after "whsec_" when the secret has that prefix and the rest is well-formed padded standard
// base64, else the secret's raw bytes (the whole secret, prefix included).
std::string standard_webhooks_signature(std::string_view secret, std::string_view msg_id,
                                        std::int64_t timestamp_seconds, std::string_view body);

// The headers of one delivery attempt, in the order they are sent.
struct SignedHeaders {
  std::vector<std::pair<std::string, std::string>> headers;
};

// Content-Type, webhook-id and webhook-timestamp, then X-Argyle-Signature and webhook-signature when there is a
// secret. The same webhook_id on every attempt lets receivers deduplicate.
SignedHeaders sign_delivery(const std::optional<std::string>& secret, std::string_view webhook_id,
                            std::int64_t timestamp_seconds, std::string_view body);

// As above with every secret that signs now (the current one first): X-Argyle-Signature with the first, and one
// space-separated "v1,..." in webhook-signature per secret, as Standard Webhooks allows during a rotation.
SignedHeaders sign_delivery(const std::vector<std::string>& secrets, std::string_view webhook_id,
                            std::int64_t timestamp_seconds, std::string_view body);

// A subscription's secrets as the delivery engine keeps them: the current one, and the one a rotation replaced
// with the time it stops signing.
struct SigningKeys {
  std::optional<std::string> secret;
  std::optional<std::string> previous;
  std::optional<core::Micros> previous_until;

  static SigningKeys of(const core::Webhook& webhook) {
    return {webhook.secret, webhook.previous_secret, webhook.previous_secret_expires_at};
  }
  // The secrets that sign an attempt made at `at`.
  std::vector<std::string> at(core::Micros when) const {
    std::vector<std::string> secrets;
    if (secret) secrets.push_back(*secret);
    if (secret && previous && previous_until && when < *previous_until) secrets.push_back(*previous);
    return secrets;
  }
};

}  // namespace repute::delivery
