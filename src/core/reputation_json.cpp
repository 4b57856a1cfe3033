#include "core/reputation_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/strict_json.hpp"

namespace repute::core {
namespace {

namespace json = boost::json;

json::value optional_value(const std::optional<std::string>& text) {
  return text ? json::value(*text) : json::value(nullptr);
}

json::value optional_value(const std::optional<std::int64_t>& number) {
  return number ? json::value(*number) : json::value(nullptr);
}

std::optional<std::string> read_text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

std::optional<std::int64_t> read_integer(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value || !value->is_int64()) return std::nullopt;
  return value->as_int64();
}

}  // namespace

json::object achievement_json(const Achievement& achievement) {
  return {{"count", optional_value(achievement.count)},
          {"label", optional_value(achievement.label)},
          {"badge_url", optional_value(achievement.badge_url)},
          {"description", optional_value(achievement.description)},
          {"points", optional_value(achievement.points)}};
}

json::object reputation_json(const Reputation& reputation) {
  json::array achievements;
  for (const Achievement& achievement : reputation.content.achievements) {
    achievements.emplace_back(achievement_json(achievement));
  }
  json::value metadata = parse_stored_json(reputation.content.metadata);
  return {{"id", reputation.id},
          {"account", reputation.account_id},
          {"user", reputation.user_id},
          {"employer", reputation.employer},
          {"rating", optional_value(reputation.content.rating)},
          {"acceptance_rate", optional_value(reputation.content.acceptance_rate)},
          {"ontime_rate", optional_value(reputation.content.ontime_rate)},
          {"achievements", std::move(achievements)},
          {"created_at", format_time(reputation.created_at)},
          {"updated_at", format_time(reputation.updated_at)},
          {"metadata", std::move(metadata)}};
}

std::string achievements_to_json(const std::vector<Achievement>& achievements) {
  json::array list;
  for (const Achievement& achievement : achievements) list.emplace_back(achievement_json(achievement));
  return json::serialize(list);
}

Result<std::vector<Achievement>> achievements_from_json(std::string_view text) {
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_array()) return invalid("stored achievements are not a JSON array");
  std::vector<Achievement> achievements;
  for (const json::value& item : value.as_array()) {
    if (!item.is_object()) return invalid("a stored achievement is not an object");
    const json::object& object = item.as_object();
    achievements.push_back({read_integer(object, "count"), read_text(object, "label"), read_text(object, "badge_url"),
                            read_text(object, "description"), read_integer(object, "points")});
  }
  return achievements;
}

}  // namespace repute::core
