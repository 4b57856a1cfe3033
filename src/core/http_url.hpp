#pragma once
// Absolute http(s) URLs as subscriptions and sources give them.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace repute::core {

inline constexpr std::size_t kMaxUrlLength = 2048;

// The parts of an absolute http or https URL that a client needs to connect.
struct HttpUrl {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;    // a name, an IPv4 literal, or an IPv6 literal without brackets
  std::uint16_t port = 0;
};

// Parses text as an absolute http(s) URL with a host, at most kMaxUrlLength long; the error says what is wrong.
Result<HttpUrl> parse_http_url(std::string_view text);

}  // namespace repute::core
