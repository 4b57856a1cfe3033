// Base64 in both alphabets (Basic credentials, cursors) and ISO 8601 times (?since=, recover bodies).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/base64.hpp"
#include "core/time.hpp"

namespace {

using namespace repute::core;

// A broken invariant: report it and abort, so libFuzzer keeps the input.
void check(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the times format_time writes with four-digit years.
constexpr Micros kFirstTime = -62167219200LL * kMicrosPerSecond;
constexpr Micros kLastTime = 253402300800LL * kMicrosPerSecond - 1;

void check_base64(std::string_view bytes) {
  const std::string standard = base64_encode(bytes);
  check(standard.size() % 4 == 0, "standard base64 without padding to 4");
  check(base64_decode(standard) == std::string(bytes), "standard base64 does not round-trip", standard);

  const std::string url_safe = base64url_encode(bytes);
  check(url_safe.find_first_of("+/=") == std::string::npos, "URL-safe base64 with +, / or =", url_safe);
  check(base64url_decode(url_safe) == std::string(bytes), "URL-safe base64 does not round-trip", url_safe);

  // Whatever decodes, re-encodes to text that decodes to the same bytes.
  if (const auto decoded = base64_decode(bytes)) {
    check(base64_decode(base64_encode(*decoded)) == decoded, "decoded bytes do not survive a re-encode");
    check(decoded->size() <= bytes.size() * 3 / 4, "decoded more bytes than the text holds");
  }
  if (const auto decoded = base64url_decode(bytes)) {
    check(base64url_decode(base64url_encode(*decoded)) == decoded, "URL-safe decoded bytes do not survive a re-encode");
  }
}

void check_time(std::string_view text) {
  if (const auto parsed = parse_time(text)) {
    // A leap second on 9999-12-31 runs one second past the last four-digit-year time.
    check(*parsed >= kFirstTime && *parsed <= kLastTime + kMicrosPerSecond, "a time out of range", text);
    if (*parsed <= kLastTime) {
      const std::string formatted = format_time(*parsed);
      check(parse_time(formatted) == parsed, "a parsed time does not format and parse back", formatted);
    }
  }
  if (text.size() >= sizeof(Micros)) {
    Micros any;
    std::memcpy(&any, text.data(), sizeof any);
    const Micros t = kFirstTime + static_cast<Micros>(static_cast<std::uint64_t>(any) %
                                                      static_cast<std::uint64_t>(kLastTime - kFirstTime + 1));
    const std::string formatted = format_time(t);
    check(formatted.size() == 27, "format_time is not 27 characters", formatted);
    check(parse_time(formatted) == t, "format_time does not parse back", formatted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_base64(text);
  check_time(text);
  return 0;
}
