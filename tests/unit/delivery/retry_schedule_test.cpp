#include "delivery/retry_schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace repute::delivery {
namespace {

constexpr Micros kSecond = core::kMicrosPerSecond;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kNow = 1'764'237'600 * kSecond;  // 2025-11-27T10:00:00Z

const std::vector<Micros> kDesignDelays = {5 * kSecond, 5 * kMinute, 30 * kMinute, 2 * kHour,  5 * kHour,
                                           10 * kHour,  10 * kHour,  14 * kHour,   20 * kHour, 24 * kHour};

// The delay the schedule picked after attempts_made failures; fails the test when the schedule is exhausted.
Micros delay_after(RetrySchedule& schedule, int attempts_made, std::optional<Micros> retry_after = {}) {
  const auto due = schedule.next_attempt(attempts_made, kNow, retry_after);
  EXPECT_TRUE(due.has_value()) << "attempts_made=" << attempts_made;
  return due.value_or(kNow) - kNow;
}

TEST(RetryPolicy, DefaultsFollowTheDesign) {
  const RetryPolicy policy;
  EXPECT_EQ(policy.delays, kDesignDelays);
  EXPECT_DOUBLE_EQ(policy.jitter, 0.2);
  EXPECT_EQ(policy.max_retry_after, 24 * kHour);
  EXPECT_DOUBLE_EQ(policy.time_scale, 1.0);
}

TEST(RetrySchedule, EveryDefaultStepIsWithinTwentyPercent) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    RetrySchedule schedule(RetryPolicy{}, seed);
    for (int attempts = 1; attempts <= 10; ++attempts) {
      const Micros expected = kDesignDelays[static_cast<std::size_t>(attempts - 1)];
      const Micros delay = delay_after(schedule, attempts);
      EXPECT_GE(delay, expected * 8 / 10) << "attempts=" << attempts << " seed=" << seed;
      EXPECT_LE(delay, expected * 12 / 10) << "attempts=" << attempts << " seed=" << seed;
    }
  }
}

TEST(RetrySchedule, FailsAfterTheTenthRetry) {
  RetrySchedule schedule(RetryPolicy{}, 1);
  EXPECT_TRUE(schedule.next_attempt(10, kNow).has_value());
  EXPECT_EQ(schedule.next_attempt(11, kNow), std::nullopt);
  EXPECT_EQ(schedule.next_attempt(12, kNow), std::nullopt);
  EXPECT_EQ(schedule.next_attempt(1000, kNow), std::nullopt);
}

TEST(RetrySchedule, WholeScheduleLastsAboutThreeAndAHalfDays) {
  RetrySchedule schedule(RetryPolicy{.jitter = 0.0}, 1);
  Micros at = kNow;
  int attempts = 1;
  while (auto due = schedule.next_attempt(attempts, at)) {
    at = *due;
    ++attempts;
  }
  // The first attempt and ten retries, spread over 85 h 35 min 5 s (about 3.5 days).
  EXPECT_EQ(attempts, 11);
  EXPECT_EQ(at - kNow, 85 * kHour + 35 * kMinute + 5 * kSecond);
}

TEST(RetrySchedule, NoFailedAttemptYetIsDueNow) {
  RetrySchedule schedule(RetryPolicy{}, 1);
  EXPECT_EQ(schedule.next_attempt(0, kNow), kNow);
}

TEST(RetrySchedule, JitterSpreadsAcrossTheWholeBand) {
  RetrySchedule schedule(RetryPolicy{}, 42);
  constexpr int kSamples = 10'000;
  std::array<int, 10> buckets{};  // ten equal slices of [0.8, 1.2) × 5 min
  double sum = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double ratio = static_cast<double>(delay_after(schedule, 2)) / static_cast<double>(5 * kMinute);
    sum += ratio;
    const int bucket = std::clamp(static_cast<int>((ratio - 0.8) / 0.04), 0, 9);
    ++buckets[static_cast<std::size_t>(bucket)];
  }
  EXPECT_NEAR(sum / kSamples, 1.0, 0.01);
  for (int count : buckets) EXPECT_GT(count, kSamples / 10 / 2);  // roughly uniform, no empty slice
}

TEST(RetrySchedule, SameSeedSameDelaysDifferentSeedDifferentDelays) {
  RetrySchedule a(RetryPolicy{}, 7);
  RetrySchedule b(RetryPolicy{}, 7);
  RetrySchedule c(RetryPolicy{}, 8);
  bool any_difference = false;
  for (int attempts = 1; attempts <= 10; ++attempts) {
    const Micros from_a = delay_after(a, attempts);
    EXPECT_EQ(from_a, delay_after(b, attempts));
    any_difference = any_difference || from_a != delay_after(c, attempts);
  }
  EXPECT_TRUE(any_difference);
}

TEST(RetrySchedule, ZeroJitterGivesExactDelays) {
  RetrySchedule schedule(RetryPolicy{.jitter = 0.0}, 3);
  for (int attempts = 1; attempts <= 10; ++attempts) {
    EXPECT_EQ(delay_after(schedule, attempts), kDesignDelays[static_cast<std::size_t>(attempts - 1)]);
  }
}

TEST(RetrySchedule, RetryAfterLongerThanScheduleIsHonouredExactly) {
  RetrySchedule schedule(RetryPolicy{}, 5);
  EXPECT_EQ(delay_after(schedule, 1, 10 * kMinute), 10 * kMinute);
}

TEST(RetrySchedule, RetryAfterIsNeverAnsweredEarlier) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    RetrySchedule schedule(RetryPolicy{}, seed);
    for (int attempts = 1; attempts <= 10; ++attempts) {
      for (Micros asked : {Micros{0}, kSecond, 6 * kSecond, 90 * kMinute, 23 * kHour, 24 * kHour}) {
        EXPECT_GE(delay_after(schedule, attempts, asked), asked);
      }
    }
  }
}

TEST(RetrySchedule, ShortRetryAfterDoesNotShortenTheSchedule) {
  RetrySchedule schedule(RetryPolicy{}, 9);
  EXPECT_GE(delay_after(schedule, 5, kSecond), 4 * kHour);  // 5 h − 20 %
}

TEST(RetrySchedule, RetryAfterIsCapped) {
  RetrySchedule schedule(RetryPolicy{}, 11);
  EXPECT_EQ(delay_after(schedule, 1, 48 * kHour), 24 * kHour);
  RetrySchedule one_hour_cap(RetryPolicy{.max_retry_after = kHour}, 11);
  EXPECT_EQ(delay_after(one_hour_cap, 1, 3 * kHour), kHour);
}

TEST(RetrySchedule, NegativeRetryAfterIsIgnored) {
  RetrySchedule schedule(RetryPolicy{.jitter = 0.0}, 1);
  EXPECT_EQ(delay_after(schedule, 1, -kHour), 5 * kSecond);
}

TEST(RetrySchedule, RetryAfterDoesNotExtendAnExhaustedSchedule) {
  RetrySchedule schedule(RetryPolicy{}, 1);
  EXPECT_EQ(schedule.next_attempt(11, kNow, kMinute), std::nullopt);
}

TEST(RetrySchedule, TimeScaleShrinksEveryDelay) {
  RetrySchedule schedule(RetryPolicy{.time_scale = 0.001}, 13);
  for (int attempts = 1; attempts <= 10; ++attempts) {
    const Micros scaled = kDesignDelays[static_cast<std::size_t>(attempts - 1)] / 1000;
    const Micros delay = delay_after(schedule, attempts);
    EXPECT_GE(delay, scaled * 8 / 10) << "attempts=" << attempts;
    EXPECT_LE(delay, scaled * 12 / 10) << "attempts=" << attempts;
  }
  EXPECT_EQ(schedule.next_attempt(11, kNow), std::nullopt);
}

TEST(RetrySchedule, TimeScaleDoesNotShortenRetryAfter) {
  RetrySchedule schedule(RetryPolicy{.time_scale = 0.001}, 13);
  EXPECT_EQ(delay_after(schedule, 1, 10 * kSecond), 10 * kSecond);
}

TEST(RetrySchedule, CustomDelaysSetTheNumberOfRetries) {
  RetrySchedule schedule(RetryPolicy{.delays = {kSecond, 2 * kSecond}, .jitter = 0.0}, 1);
  EXPECT_EQ(delay_after(schedule, 1), kSecond);
  EXPECT_EQ(delay_after(schedule, 2), 2 * kSecond);
  EXPECT_EQ(schedule.next_attempt(3, kNow), std::nullopt);
}

TEST(RetrySchedule, KeepsItsPolicy) {
  const RetrySchedule schedule(RetryPolicy{.jitter = 0.1, .time_scale = 0.5});
  EXPECT_DOUBLE_EQ(schedule.policy().jitter, 0.1);
  EXPECT_DOUBLE_EQ(schedule.policy().time_scale, 0.5);
  EXPECT_EQ(schedule.policy().delays, kDesignDelays);
}

TEST(ParseRetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kNow), 120 * kSecond);
  EXPECT_EQ(parse_retry_after("0", kNow), Micros{0});
  EXPECT_EQ(parse_retry_after(" \t30 ", kNow), 30 * kSecond);
}

TEST(ParseRetryAfter, HugeDeltaSecondsSaturates) {
  const auto parsed = parse_retry_after("99999999999999999999999999", kNow);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_GT(*parsed, 1000 * 24 * kHour);
}

TEST(ParseRetryAfter, HttpDateIsRelativeToNow) {
  constexpr Micros kRfcExample = 784'111'777 * kSecond;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 90 * kSecond), 90 * kSecond);
  EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 12:00:00 GMT", 1'709'208'000 * kSecond - kHour), kHour);
  EXPECT_EQ(parse_retry_after("Wed, 31 Dec 2025 23:59:59 GMT", 1'767'225'599 * kSecond - 1), Micros{1});
}

TEST(ParseRetryAfter, HttpDateInThePastMeansNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), Micros{0});
}

TEST(ParseRetryAfter, GarbageIsRejected) {
  for (std::string_view value : {
           "",
           "   ",
           "soon",
           "-5",
           "+5",
           "1.5",
           "12abc",
           "0x10",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "sun, 06 Nov 1994 08:49:37 GMT",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 nov 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Fri, 30 Feb 2024 12:00:00 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 1994 08:49:37 GMTX",
           "Sunday, 06-Nov-94 08:49:37 GMT",  // obsolete RFC 850 form
           "Sun Nov  6 08:49:37 1994",        // obsolete asctime form
       }) {
    EXPECT_EQ(parse_retry_after(value, kNow), std::nullopt) << "value=\"" << value << "\"";
  }
}

}  // namespace
}  // namespace repute::delivery
