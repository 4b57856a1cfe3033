#pragma once
// Identifiers: random (version 4) UUIDs, and random secrets.
#include <string>
#include <string_view>

namespace repute::core {

// A new random UUID in canonical lowercase form.
std::string new_uuid();

// True when text is a canonical UUID (8-4-4-4-12 hex digits, any case).
bool is_uuid(std::string_view text);

// n random bytes from the system CSPRNG, as lowercase hex (2n characters).
std::string random_hex(std::size_t n);

}  // namespace repute::core
