#pragma once
// Base64 (RFC 4648), standard and URL-safe alphabets.
#include <optional>
#include <string>
#include <string_view>

namespace repute::core {

// Standard alphabet with padding.
std::string base64_encode(std::string_view bytes);
// Decodes the standard alphabet (padding required); nullopt when text is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);
// URL-safe alphabet without padding.
std::string base64url_encode(std::string_view bytes);
// Decodes the URL-safe alphabet, padding optional; nullopt when invalid.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace repute::core
