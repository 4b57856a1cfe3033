// Decimal strings for rating and rates: every accepted spelling of a value becomes one canonical string,
// so that "4.50" and 4.5 are the same reputation and a rescan that reads either emits nothing.
#include "scan/decimal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace repute::scan {
namespace {

TEST(CanonicalDecimal, DropsTrailingFractionZerosAndLeadingWholeZeros) {
  EXPECT_EQ(canonical_decimal("4.50"), "4.5");
  EXPECT_EQ(canonical_decimal("05"), "5");
  EXPECT_EQ(canonical_decimal("1.0"), "1");
  EXPECT_EQ(canonical_decimal("0.0"), "0");
  EXPECT_EQ(canonical_decimal("000"), "0");
  EXPECT_EQ(canonical_decimal("00.0100"), "0.01");
  EXPECT_EQ(canonical_decimal("4.95"), "4.95");
  EXPECT_EQ(canonical_decimal("0"), "0");
  EXPECT_EQ(canonical_decimal("5"), "5");
}

TEST(CanonicalDecimal, RefusesAnythingButPlainNonNegativeDecimals) {
  for (const char* text : {"", ".", ".5", "5.", "-1", "-0", "+1", "1e3", "1E-2", " 1", "1 ", "1.2.3", "0x10", "inf",
                           "nan", "4,5", "½", "1_000"}) {
    EXPECT_EQ(canonical_decimal(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(CanonicalDecimal, RefusesAbsurdlyLongParts) {
  EXPECT_EQ(canonical_decimal(std::string(21, '1')), std::nullopt);
  EXPECT_EQ(canonical_decimal("0." + std::string(21, '1')), std::nullopt);
  EXPECT_EQ(canonical_decimal("0." + std::string(20, '1')), "0." + std::string(20, '1'));
}

TEST(CanonicalDecimal, IsIdempotent) {
  for (const char* text : {"4.50", "0.930", "05", "1.000", "0.0001"}) {
    const auto once = canonical_decimal(text);
    ASSERT_TRUE(once) << text;
    EXPECT_EQ(canonical_decimal(*once), once) << text;
  }
}

TEST(DecimalOf, WritesTheShortestFixedFormWithoutTrailingZeros) {
  EXPECT_EQ(decimal_of(4.5), "4.5");
  EXPECT_EQ(decimal_of(5.0), "5");
  EXPECT_EQ(decimal_of(0.0), "0");
  EXPECT_EQ(decimal_of(1.0), "1");
  EXPECT_EQ(decimal_of(0.93), "0.93");
  EXPECT_EQ(decimal_of(0.1), "0.1");
  EXPECT_EQ(decimal_of(4.87), "4.87");
  EXPECT_EQ(decimal_of(0.0000001), "0.0000001");
}

TEST(DecimalOf, AgreesWithTheStringSpellingOfTheSameValue) {
  for (const char* text : {"4.5", "0.93", "4.87", "1", "0", "0.05", "3.14159"}) {
    EXPECT_EQ(decimal_of(std::stod(text)), canonical_decimal(text)) << text;
  }
}

TEST(DecimalOf, RefusesNegativesAndNonFiniteValues) {
  EXPECT_EQ(decimal_of(-1.0), std::nullopt);
  EXPECT_EQ(decimal_of(-0.001), std::nullopt);
  EXPECT_EQ(decimal_of(std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(decimal_of(-std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(decimal_of(std::numeric_limits<double>::quiet_NaN()), std::nullopt);
}

// -0.0 is zero, not a negative number: a scanner that computes 0 × -1 must still be able to report 0.
TEST(DecimalOf, NegativeZeroIsZero) { EXPECT_EQ(decimal_of(-0.0), "0"); }

TEST(DecimalValue, ReadsACanonicalDecimal) {
  EXPECT_DOUBLE_EQ(decimal_value("4.5"), 4.5);
  EXPECT_DOUBLE_EQ(decimal_value("0"), 0.0);
  EXPECT_DOUBLE_EQ(decimal_value("0.93"), 0.93);
  EXPECT_DOUBLE_EQ(decimal_value("5"), 5.0);
}

}  // namespace
}  // namespace repute::scan
