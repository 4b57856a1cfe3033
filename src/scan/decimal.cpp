#include "scan/decimal.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace repute::scan {

std::optional<std::string> canonical_decimal(std::string_view text) {
  const std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 20 || fraction.size() > 20) return std::nullopt;
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::string out(whole);
  if (!fraction.empty()) out += "." + std::string(fraction);
  return out;
}

std::optional<std::string> decimal_of(double value) {
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  if (value == 0) value = 0.0;  // -0.0 is zero
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (result.ec != std::errc()) return std::nullopt;
  return canonical_decimal(std::string_view(buf, static_cast<std::size_t>(result.ptr - buf)));
}

double decimal_value(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

}  // namespace repute::scan
