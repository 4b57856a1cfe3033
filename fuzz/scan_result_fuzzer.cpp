// Scan results: a push to /v1/accounts/{id}/scans or an http source's answer, and the decimals inside them.
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "api/responses.hpp"
#include "core/reputation_json.hpp"
#include "core/strict_json.hpp"
#include "scan/decimal.hpp"
#include "scan/scan_result_json.hpp"

namespace {

using namespace repute;

// A broken invariant: report it and abort, so libFuzzer keeps the input.
void check(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// True when the canonical decimal text is at most max (a one-digit integer), compared exactly, not as a double.
bool at_most(const std::string& decimal, int max) {
  const std::size_t dot = decimal.find('.');
  const std::string whole = decimal.substr(0, dot);
  if (whole.size() > 1) return false;
  const int digit = whole[0] - '0';
  return digit < max || (digit == max && dot == std::string::npos);
}

void check_decimal_field(const std::optional<std::string>& decimal, int max, const char* field) {
  if (!decimal) return;
  check(scan::canonical_decimal(*decimal) == decimal, "a stored decimal is not canonical", *decimal);
  check(at_most(*decimal, max), "accepted a value above the maximum", std::string(field) + ": " + *decimal);
}

void check_scan_result(std::string_view text) {
  core::FieldErrors errors;
  const auto result = scan::parse_scan_result(text, errors);
  if (!result) {
    check(!errors.empty(), "refused without saying why");
    const api::HttpResponse answer = api::field_errors_response(errors);
    check(core::parse_strict_json(answer.body).ok(), "the refusal is not valid JSON", answer.body);
    return;
  }
  check(errors.empty(), "accepted with errors");
  check_decimal_field(result->rating, 5, "rating");
  check_decimal_field(result->acceptance_rate, 1, "acceptance_rate");
  check_decimal_field(result->ontime_rate, 1, "ontime_rate");
  check(result->achievements.size() <= 200, "too many achievements accepted");
  for (const core::Achievement& achievement : result->achievements) {
    check(!achievement.count || *achievement.count >= 0, "negative count accepted");
    check(!achievement.points || *achievement.points >= 0, "negative points accepted");
  }
  auto metadata = core::parse_strict_json(result->metadata);
  check(metadata.ok() && metadata->is_object(), "stored metadata is not a JSON object", result->metadata);

  // Stored and read back, achievements are unchanged; the API form of the reputation is valid JSON.
  auto stored = core::achievements_from_json(core::achievements_to_json(result->achievements));
  check(stored.ok() && *stored == result->achievements, "achievements change when stored and read back");
  core::Reputation reputation;
  reputation.content = *result;
  const std::string shown = boost::json::serialize(core::reputation_json(reputation));
  check(core::parse_strict_json(shown).ok(), "the reputation's JSON form does not parse", shown);
}

void check_decimals(std::string_view text) {
  if (const auto decimal = scan::canonical_decimal(text)) {
    check(scan::canonical_decimal(*decimal) == decimal, "canonical_decimal is not idempotent", *decimal);
    check(!decimal->empty() && decimal->back() != '.', "canonical decimal ends badly", *decimal);
  }
  if (text.size() >= sizeof(double)) {
    double number;
    std::memcpy(&number, text.data(), sizeof number);
    if (const auto decimal = scan::decimal_of(number)) {
      check(std::isfinite(number) && number >= 0, "decimal_of accepted a non-finite or negative number");
      check(scan::canonical_decimal(*decimal) == decimal, "decimal_of is not canonical", *decimal);
      check(scan::decimal_value(*decimal) == number, "decimal_of does not round-trip", *decimal);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_scan_result(text);
  check_decimals(text);
  return 0;
}
