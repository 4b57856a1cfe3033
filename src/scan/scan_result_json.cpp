#include "scan/scan_result_json.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "core/strict_json.hpp"
#include "scan/decimal.hpp"

namespace repute::scan {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxAchievements = 200;
constexpr std::size_t kMaxText = 2048;

// True when a canonical decimal is above the whole number max; compared as text, so that
// "5.00000000000000000001" is above 5 even though no double can tell.
bool exceeds(const std::string& decimal, int max) {
  const std::string whole = decimal.substr(0, decimal.find('.'));
  const std::string limit = std::to_string(max);
  if (whole.size() != limit.size()) return whole.size() > limit.size();
  if (whole != limit) return whole > limit;
  return decimal.find('.') != std::string::npos;
}

// A decimal field in [0, max]: a JSON number or a decimal string; null means unknown.
std::optional<std::string> read_decimal(const json::value& value, const char* field, int max,
                                        core::FieldErrors& errors) {
  if (value.is_null()) return std::nullopt;
  std::optional<std::string> decimal;
  const bool negative = (value.is_string() && value.as_string().starts_with("-") &&
                         canonical_decimal(std::string_view(value.as_string()).substr(1))) ||
                        (value.is_number() && value.to_number<double>() < 0);
  if (negative) {
    errors[field].push_back("Ensure this value is between 0 and " + std::to_string(max) + ".");
    return std::nullopt;
  }
  if (value.is_string()) {
    decimal = canonical_decimal(value.as_string());
  } else if (value.is_number()) {
    decimal = decimal_of(value.to_number<double>());
  } else {
    errors[field].push_back("A valid number is required.");
    return std::nullopt;
  }
  if (!decimal) {
    errors[field].push_back("A valid number is required.");
    return std::nullopt;
  }
  if (exceeds(*decimal, max)) {
    errors[field].push_back("Ensure this value is between 0 and " + std::to_string(max) + ".");
    return std::nullopt;
  }
  return decimal;
}

std::optional<std::string> read_text(const json::object& item, const char* key, std::string& problem) {
  const json::value* value = item.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_string() || value->as_string().size() > kMaxText) {
    problem = std::string(key) + " must be a string of at most " + std::to_string(kMaxText) + " characters";
    return std::nullopt;
  }
  return std::string(value->as_string());
}

std::optional<std::int64_t> read_count(const json::object& item, const char* key, std::string& problem) {
  const json::value* value = item.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (value->is_int64() && value->as_int64() >= 0) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  problem = std::string(key) + " must be a non-negative integer";
  return std::nullopt;
}

std::vector<core::Achievement> read_achievements(const json::value& value, core::FieldErrors& errors) {
  std::vector<core::Achievement> achievements;
  if (value.is_null()) return achievements;
  if (!value.is_array()) {
    errors["achievements"].push_back("Expected a list of items.");
    return achievements;
  }
  if (value.as_array().size() > kMaxAchievements) {
    errors["achievements"].push_back("Ensure this list has no more than " + std::to_string(kMaxAchievements) +
                                     " items.");
    return achievements;
  }
  std::size_t index = 0;
  for (const json::value& entry : value.as_array()) {
    const std::string where = "Item " + std::to_string(index++) + ": ";
    if (!entry.is_object()) {
      errors["achievements"].push_back(where + "expected an object.");
      continue;
    }
    const json::object& item = entry.as_object();
    std::string problem;
    for (const auto& [key, ignored] : item) {
      if (key != "count" && key != "label" && key != "badge_url" && key != "description" && key != "points") {
        problem = "unknown key \"" + std::string(key) + "\"";
      }
    }
    core::Achievement achievement{read_count(item, "count", problem), read_text(item, "label", problem),
                                  read_text(item, "badge_url", problem), read_text(item, "description", problem),
                                  read_count(item, "points", problem)};
    if (!problem.empty()) {
      errors["achievements"].push_back(where + problem + ".");
      continue;
    }
    achievements.push_back(std::move(achievement));
  }
  return achievements;
}

// value with every object's keys in sorted order, so that the same metadata in another key order is the
// same content (and a scan that merely reorders it brings nothing new).
json::value sorted_keys(const json::value& value) {
  if (value.is_array()) {
    json::array out;
    for (const json::value& item : value.as_array()) out.push_back(sorted_keys(item));
    return out;
  }
  if (!value.is_object()) return value;
  std::vector<std::pair<std::string_view, const json::value*>> entries;
  for (const auto& [key, item] : value.as_object()) entries.emplace_back(key, &item);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json::object out;
  for (const auto& [key, item] : entries) out[key] = sorted_keys(*item);
  return out;
}

}  // namespace

std::optional<core::ScanResult> read_scan_result(const json::object& body, core::FieldErrors& errors) {
  core::ScanResult result;
  for (const auto& [key, value] : body) {
    if (key == "rating") {
      result.rating = read_decimal(value, "rating", 5, errors);
    } else if (key == "acceptance_rate") {
      result.acceptance_rate = read_decimal(value, "acceptance_rate", 1, errors);
    } else if (key == "ontime_rate") {
      result.ontime_rate = read_decimal(value, "ontime_rate", 1, errors);
    } else if (key == "achievements") {
      result.achievements = read_achievements(value, errors);
    } else if (key == "metadata") {
      if (value.is_object()) result.metadata = json::serialize(sorted_keys(value));
      else if (!value.is_null()) errors["metadata"].push_back("Expected a dictionary of items.");
    } else {
      errors[std::string(key)].push_back("Unknown field.");
    }
  }
  if (!errors.empty()) return std::nullopt;
  return result;
}

std::optional<core::ScanResult> parse_scan_result(std::string_view text, core::FieldErrors& errors) {
  auto parsed = core::parse_strict_json(text);
  if (!parsed) {
    errors["detail"].push_back("the answer is not valid JSON: " + parsed.error().message);
    return std::nullopt;
  }
  if (!parsed->is_object()) {
    errors["detail"].push_back("the answer is not a JSON object");
    return std::nullopt;
  }
  return read_scan_result(parsed->as_object(), errors);
}

}  // namespace repute::scan
