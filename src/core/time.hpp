#pragma once
// Time: microseconds since the Unix epoch, formatted as ISO 8601 UTC with microseconds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace repute::core {

// Microseconds since 1970-01-01T00:00:00Z.
using Micros = std::int64_t;

constexpr Micros kMicrosPerSecond = 1'000'000;

// A source of the current time; an interface so tests can move time by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual Micros now() const = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  Micros now() const override;
};

// The process-wide real clock.
const Clock& system_clock();

// "2026-11-27T10:00:00.123456Z".
std::string format_time(Micros t);

// Parses ISO 8601 UTC times such as "2026-11-27T10:00:00Z" or with a fraction of up to 6 digits
// and a "Z" or "+00:00" suffix.
std::optional<Micros> parse_time(std::string_view text);

}  // namespace repute::core
