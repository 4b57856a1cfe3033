#include "delivery/retry_schedule.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

namespace repute::delivery {
namespace {

constexpr Micros kSecond = core::kMicrosPerSecond;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;

// Far beyond any real schedule, and far enough below INT64_MAX that now + delay cannot overflow.
constexpr Micros kMaxDelay = std::numeric_limits<Micros>::max() / 4;
constexpr std::int64_t kMaxDeltaSeconds = kMaxDelay / kSecond;

Micros saturating_add(Micros now, Micros delay) {
  return now > std::numeric_limits<Micros>::max() - delay ? std::numeric_limits<Micros>::max() : now + delay;
}

Micros clamp_delay(double delay) {
  if (!(delay > 0)) return 0;  // also NaN
  if (delay >= static_cast<double>(kMaxDelay)) return kMaxDelay;
  return static_cast<Micros>(std::llround(delay));
}

std::string_view trim_ows(std::string_view text) {
  constexpr std::string_view kOws = " \t";
  const auto first = text.find_first_not_of(kOws);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kOws) - first + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly count digits at pos.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t count) {
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// delta-seconds = 1*DIGIT; absurdly large values saturate instead of overflowing.
std::optional<Micros> parse_delta_seconds(std::string_view text) {
  std::int64_t seconds = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), kMaxDeltaSeconds);
  }
  return seconds * kSecond;
}

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7). Names are case-sensitive; the day name is
// checked for spelling but not against the date, as common HTTP clients do.
std::optional<Micros> parse_imf_fixdate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
      text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(kDayNames.begin(), kDayNames.end(), text.substr(0, 3)) == kDayNames.end()) return std::nullopt;
  const auto month_it = std::find(kMonthNames.begin(), kMonthNames.end(), text.substr(8, 3));
  if (month_it == kMonthNames.end()) return std::nullopt;
  const auto day = read_digits(text, 5, 2);
  const auto year = read_digits(text, 12, 4);
  const auto hour = read_digits(text, 17, 2);
  const auto minute = read_digits(text, 20, 2);
  const auto second = read_digits(text, 23, 2);
  if (!day || !year || !hour || !minute || !second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;  // 60: a leap second
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(month_it - kMonthNames.begin() + 1)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  return (((days * 24 + *hour) * 60 + *minute) * 60 + *second) * kSecond;
}

}  // namespace

std::vector<Micros> default_retry_delays() {
  return {5 * kSecond, 5 * kMinute, 30 * kMinute, 2 * kHour,  5 * kHour,
          10 * kHour,  10 * kHour,  14 * kHour,   20 * kHour, 24 * kHour};
}

RetrySchedule::RetrySchedule(RetryPolicy policy, std::uint64_t seed) : policy_(std::move(policy)), rng_(seed) {}

std::uint64_t RetrySchedule::random_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::optional<Micros> RetrySchedule::next_attempt(int attempts_made, Micros now, std::optional<Micros> retry_after) {
  if (attempts_made <= 0) return now;
  const auto index = static_cast<std::size_t>(attempts_made - 1);
  if (index >= policy_.delays.size()) return std::nullopt;

  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  const double unit = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  const double factor = 1.0 + jitter * (2.0 * unit - 1.0);
  const double scale = std::max(policy_.time_scale, 0.0);
  Micros due = saturating_add(now, clamp_delay(static_cast<double>(policy_.delays[index]) * scale * factor));

  if (retry_after) {
    const Micros cap = std::clamp<Micros>(policy_.max_retry_after, 0, kMaxDelay);
    due = std::max(due, saturating_add(now, std::clamp<Micros>(*retry_after, 0, cap)));
  }
  return due;
}

std::optional<Micros> parse_retry_after(std::string_view value, Micros now) {
  const std::string_view text = trim_ows(value);
  if (text.empty()) return std::nullopt;
  if (is_digit(text.front())) return parse_delta_seconds(text);
  const auto date = parse_imf_fixdate(text);
  if (!date) return std::nullopt;
  return std::max<Micros>(*date - now, 0);
}

}  // namespace repute::delivery
