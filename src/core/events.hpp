#pragma once
// The event catalogue: the event names a subscription may ask for.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace repute::core {

inline constexpr std::string_view kReputationsAdded = "reputations.added";
inline constexpr std::string_view kReputationsUpdated = "reputations.updated";
// In a subscription's events, stands for every event.
inline constexpr std::string_view kAllEvents = "*";

// Every event repute emits.
std::span<const std::string_view> event_catalogue();

// True when name is in the catalogue.
bool is_known_event(std::string_view name);

// True when a subscription to `subscribed` receives `event`.
bool subscription_matches(const std::vector<std::string>& subscribed, std::string_view event);

}  // namespace repute::core
