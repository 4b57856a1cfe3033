#include "scan/sandbox_source.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include "scan/decimal.hpp"

namespace repute::scan {
namespace {

// splitmix64: a small, well-mixed generator whose sequence is the same on every platform.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double between(double low, double high) { return low + (high - low) * uniform(); }

 private:
  std::uint64_t state_;
};

std::uint64_t fnv1a(std::string_view text, std::uint64_t salt) {
  std::uint64_t hash = 0xcbf29ce484222325ULL ^ salt;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

struct Badge {
  const char* label;
  const char* description;
};

constexpr std::array<Badge, 4> kRideshareBadges = {{{"Excellent Service", "Riders praised the service"},
                                                    {"Great Conversation", "Riders enjoyed the conversation"},
                                                    {"Expert Navigation", "Riders noted smooth routes"},
                                                    {"Above and Beyond", "Riders noted extra care"}}};
constexpr std::array<Badge, 4> kDeliveryBadges = {{{"Top Dasher", "Among the best-rated couriers"},
                                                   {"Fast Delivery", "Customers noted quick arrivals"},
                                                   {"Careful Handling", "Orders arrived intact"},
                                                   {"Friendly Courier", "Customers praised the courtesy"}}};

bool is_delivery_employer(std::string_view employer) {
  for (std::string_view name : {"doordash", "instacart", "postmates", "grubhub", "ubereats", "shipt", "deliveroo"}) {
    if (employer == name) return true;
  }
  return false;
}

// Rounds to the given number of decimals and writes the canonical decimal.
std::string fixed(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return decimal_of(std::round(value * scale) / scale).value_or("0");
}

core::ScanResult initial_content(const core::Account& account) {
  Random random(fnv1a(account.id, 0));
  core::ScanResult result;
  result.rating = fixed(random.between(4.3, 5.0), 2);
  result.acceptance_rate = fixed(random.between(0.6, 1.0), 2);
  result.ontime_rate = fixed(random.between(0.8, 1.0), 2);
  const auto& badges = is_delivery_employer(account.employer) ? kDeliveryBadges : kRideshareBadges;
  const std::size_t count = 1 + random.next() % badges.size();
  for (std::size_t i = 0; i < count; ++i) {
    const Badge& badge = badges[i];
    std::string slug(badge.label);
    std::replace(slug.begin(), slug.end(), ' ', '-');
    std::transform(slug.begin(), slug.end(), slug.begin(), [](unsigned char c) { return std::tolower(c); });
    result.achievements.push_back({static_cast<std::int64_t>(1 + random.next() % 400), std::string(badge.label),
                                   "https://sandbox.repute.invalid/badges/" + slug + ".png",
                                   std::string(badge.description), static_cast<std::int64_t>(random.next() % 100)});
  }
  result.metadata = R"({"source":"sandbox"})";
  return result;
}

// Moves a decimal string by delta, kept within [low, high].
std::string nudge(const std::optional<std::string>& value, double delta, double low, double high) {
  const double current = value ? decimal_value(*value) : (low + high) / 2;
  double moved = current + delta;
  if (moved > high || moved < low) moved = current - delta;
  return fixed(std::clamp(moved, low, high), 2);
}

}  // namespace

namespace {

// The generator of scan number scan_index: its first draw decides whether the scan changes anything.
Random scan_random(const core::Account& account, std::int64_t scan_index) {
  return Random(fnv1a(account.id, static_cast<std::uint64_t>(scan_index) * 0x9e3779b97f4a7c15ULL + 1));
}

}  // namespace

bool sandbox_scan_changes(const core::Account& account, std::int64_t scan_index) {
  return scan_index > 0 && scan_random(account, scan_index).uniform() < account.source.change_probability;
}

core::ScanResult sandbox_scan(const core::Account& account, std::int64_t scan_index,
                              const std::optional<core::ScanResult>& previous) {
  if (!previous) return initial_content(account);
  if (!sandbox_scan_changes(account, scan_index)) return *previous;
  Random random = scan_random(account, scan_index);
  random.uniform();  // the draw sandbox_scan_changes made
  core::ScanResult changed = *previous;
  const double step = 0.01 * static_cast<double>(1 + random.next() % 5);
  switch (random.next() % 4) {
    case 0:
      changed.rating = nudge(changed.rating, step, 1.0, 5.0);
      break;
    case 1:
      changed.acceptance_rate = nudge(changed.acceptance_rate, step, 0.0, 1.0);
      break;
    case 2:
      changed.ontime_rate = nudge(changed.ontime_rate, step, 0.0, 1.0);
      break;
    default:
      if (changed.achievements.empty()) {
        changed.rating = nudge(changed.rating, step, 1.0, 5.0);
      } else {
        auto& achievement = changed.achievements[random.next() % changed.achievements.size()];
        achievement.count = achievement.count.value_or(0) + 1;
      }
  }
  // A nudge can land on the same value at a bound; make sure a change is a change.
  if (changed == *previous) changed.rating = nudge(changed.rating, 0.01, 1.0, 5.0);
  return changed;
}

}  // namespace repute::scan
