#pragma once
// The JSON forms of a reputation: the API object (also the `resource` of a webhook payload) and the
// stored form of achievements.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/reputation.hpp"
#include "core/result.hpp"

namespace repute::core {

// The reputation as the API shows it (Argyle v1 fields).
boost::json::object reputation_json(const Reputation& reputation);

// Achievements as stored: a JSON array of {count, label, badge_url, description, points}.
std::string achievements_to_json(const std::vector<Achievement>& achievements);
// Reads achievements_to_json's output back.
Result<std::vector<Achievement>> achievements_from_json(std::string_view text);

// One achievement as JSON.
boost::json::object achievement_json(const Achievement& achievement);

}  // namespace repute::core
