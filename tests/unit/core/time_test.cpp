// Times: ISO 8601 UTC with exactly six fractional digits out; the common ISO 8601 UTC spellings in.
#include "core/time.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace repute::core {
namespace {

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kDesignExample = 1'795'773'600 * kSecond + 123'456;  // 2026-11-27T10:00:00.123456Z

TEST(FormatTime, WritesTheEpoch) { EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000Z"); }

TEST(FormatTime, WritesTheDesignExample) { EXPECT_EQ(format_time(kDesignExample), "2026-11-27T10:00:00.123456Z"); }

TEST(FormatTime, AlwaysWritesSixFractionalDigits) {
  EXPECT_EQ(format_time(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(format_time(100'000), "1970-01-01T00:00:00.100000Z");
  EXPECT_EQ(format_time(59 * kSecond + 999'999), "1970-01-01T00:00:59.999999Z");
  EXPECT_EQ(format_time(1'795'773'600 * kSecond), "2026-11-27T10:00:00.000000Z");
}

TEST(FormatTime, EveryOutputHasTheSameShape) {
  for (Micros t : {Micros{0}, Micros{1}, kDesignExample, Micros{951'782'400} * kSecond /* 2000-02-29 */,
                   Micros{253'402'300'799} * kSecond + 999'999 /* 9999-12-31T23:59:59.999999 */}) {
    const std::string text = format_time(t);
    ASSERT_EQ(text.size(), 27u) << text;
    EXPECT_EQ(text[4], '-') << text;
    EXPECT_EQ(text[10], 'T') << text;
    EXPECT_EQ(text[19], '.') << text;
    EXPECT_EQ(text.back(), 'Z') << text;
  }
}

TEST(FormatTime, HandlesLeapDaysAndYearEnds) {
  EXPECT_EQ(format_time(951'782'400 * kSecond), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(format_time(1'767'225'599 * kSecond + 999'999), "2025-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_time(1'767'225'600 * kSecond), "2026-01-01T00:00:00.000000Z");
}

TEST(FormatTime, WritesTimesBeforeTheEpoch) { EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999999Z"); }

TEST(ParseTime, ReadsEveryAcceptedSpelling) {
  const Micros whole = 1'795'773'600 * kSecond;
  const struct {
    std::string_view text;
    Micros expected;
  } cases[] = {
      {"2026-11-27T10:00:00Z", whole},
      {"2026-11-27T10:00:00+00:00", whole},
      {"2026-11-27 10:00:00Z", whole},
      {"2026-11-27T10:00:00.123456Z", whole + 123'456},
      {"2026-11-27T10:00:00.123456+00:00", whole + 123'456},
      {"2026-11-27T10:00:00.1Z", whole + 100'000},
      {"2026-11-27T10:00:00.12Z", whole + 120'000},
      {"2026-11-27T10:00:00.000001Z", whole + 1},
      {"1970-01-01T00:00:00Z", 0},
      {"2000-02-29T00:00:00Z", 951'782'400 * kSecond},
      {"2026-11-27T23:59:59.999999Z", whole + 14 * 3600 * kSecond - 1},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_time(c.text), std::optional<Micros>(c.expected)) << c.text;
}

TEST(ParseTime, RefusesMalformedText) {
  for (std::string_view text : {
           "",
           "2026-11-27",
           "2026-11-27T10:00:00",        // no zone
           "2026-11-27T10:00Z",          // no seconds
           "2026-11-27T10:00:00z",       // lowercase zone
           "2026-11-27T10:00:00+01:00",  // not UTC
           "2026-11-27T10:00:00-00:00",
           "2026-11-27T10:00:00.Z",  // a point with no digits
           "2026-11-27T10:00:00.12aZ",
           "2026-11-27T10:00:00Z ",  // trailing text
           " 2026-11-27T10:00:00Z",
           "2026/11/27T10:00:00Z",
           "2026-11-27X10:00:00Z",
           "26-11-27T10:00:00Z",
           "2026-1-27T10:00:00Z",
           "2026-11-27T10:0:00Z",
           "20a6-11-27T10:00:00Z",
           "1795773600",
           "now",
       }) {
    EXPECT_EQ(parse_time(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(ParseTime, RefusesFieldsOutOfRange) {
  for (std::string_view text : {
           "2026-00-27T10:00:00Z",
           "2026-13-27T10:00:00Z",
           "2026-11-00T10:00:00Z",
           "2026-11-32T10:00:00Z",
           "2026-11-27T24:00:00Z",
           "2026-11-27T10:60:00Z",
           "2026-11-27T10:00:61Z",
       }) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text;
  }
}

// A day the month does not have is not a date: it must not silently become a day of the next month.
TEST(ParseTime, RefusesDaysTheMonthDoesNotHave) {
  for (std::string_view text : {
           "2026-02-29T00:00:00Z",  // 2026 is not a leap year
           "2026-02-30T00:00:00Z", "2026-02-31T00:00:00Z", "2026-04-31T00:00:00Z", "2026-06-31T00:00:00Z",
           "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z",
           "1900-02-29T00:00:00Z",  // a century that is not a leap year
       }) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text << " read as " << format_time(parse_time(text).value_or(0));
  }
}

TEST(ParseTime, AcceptsTheLastDayOfEveryMonth) {
  for (std::string_view text : {"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2024-02-29T00:00:00Z",
                                "2026-04-30T00:00:00Z", "2026-12-31T00:00:00Z", "2000-02-29T00:00:00Z"}) {
    const auto parsed = parse_time(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(format_time(*parsed).substr(0, 10), text.substr(0, 10));
  }
}

TEST(Time, FormatThenParseIsTheIdentity) {
  for (Micros t : {Micros{0}, Micros{1}, Micros{999'999}, kDesignExample, Micros{951'782'400} * kSecond + 42,
                   Micros{4'102'444'799} * kSecond + 999'999}) {
    EXPECT_EQ(parse_time(format_time(t)), std::optional<Micros>(t)) << format_time(t);
  }
}

TEST(Time, ParseThenFormatGivesTheCanonicalSpelling) {
  EXPECT_EQ(format_time(parse_time("2026-11-27 10:00:00.5+00:00").value_or(-1)), "2026-11-27T10:00:00.500000Z");
}

TEST(SystemClock, IsCloseToTheWallClockAndMovesForward) {
  const Micros first = system_clock().now();
  EXPECT_GT(first, parse_time("2024-01-01T00:00:00Z").value_or(0));
  EXPECT_LT(first, parse_time("2100-01-01T00:00:00Z").value_or(0));
  EXPECT_GE(system_clock().now(), first);
}

}  // namespace
}  // namespace repute::core
