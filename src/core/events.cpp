#include "core/events.hpp"

#include <algorithm>
#include <array>

namespace repute::core {
namespace {
constexpr std::array<std::string_view, 2> kCatalogue = {kReputationsAdded, kReputationsUpdated};
}

std::span<const std::string_view> event_catalogue() { return kCatalogue; }

bool is_known_event(std::string_view name) {
  return std::find(kCatalogue.begin(), kCatalogue.end(), name) != kCatalogue.end();
}

bool subscription_matches(const std::vector<std::string>& subscribed, std::string_view event) {
  return std::any_of(subscribed.begin(), subscribed.end(),
                     [&](const std::string& s) { return s == kAllEvents || s == event; });
}

}  // namespace repute::core
