#pragma once
// Signing: the headers that let a receiver check an outgoing webhook came from us (DESIGN.md §3).
// Pure functions of their inputs, safe to call from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

}  // namespace repute::delivery
