#pragma once
// Identifiers: time-ordered (version 7) UUIDs, and random secrets.
#include <string>
#include <string_view>

namespace repute::core {

// A new UUID in canonical lowercase form: version 7, the creation time in milliseconds then random bits.
std::string new_uuid();

// True when text is a canonical UUID (8-4-4-4-12 hex digits, any case).
bool is_uuid(std::string_view text);

// n random bytes from the system CSPRNG, as lowercase hex (2n characters).
std::string random_hex(std::size_t n);

// A new signing secret in the Standard Webhooks form: "whsec_" and 24 random bytes in base64.
std::string new_webhook_secret();

}  // namespace repute::core
