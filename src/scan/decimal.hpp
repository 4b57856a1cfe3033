#pragma once
// Decimal strings for rating and rates: numbers or strings in, one canonical string out.
#include <optional>
#include <string>
#include <string_view>

namespace repute::scan {

// The canonical form of a decimal written as text ("4.50" → "4.5", "05" → "5", "1.0" → "1"), or nullopt when
// text is not a plain non-negative decimal (digits, an optional fraction, no sign or exponent).
std::optional<std::string> canonical_decimal(std::string_view text);

// The canonical decimal of a number (shortest round-trip form), or nullopt for NaN, infinity or negatives.
std::optional<std::string> decimal_of(double value);

// The value of a canonical decimal.
double decimal_value(const std::string& text);

}  // namespace repute::scan
