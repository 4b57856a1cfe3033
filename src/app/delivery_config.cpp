#include "app/delivery_config.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace repute::app {
namespace {

// Seconds (finite, not negative, at most a year) as microseconds; nullopt otherwise.
std::optional<core::Micros> seconds(double value) {
  if (!std::isfinite(value) || value < 0 || value > 366.0 * 24 * 3600) return std::nullopt;
  return static_cast<core::Micros>(std::llround(value * core::kMicrosPerSecond));
}

core::Error bad_flag(const std::string& flag, const std::string& why) { return core::invalid(flag + ": " + why); }

}  // namespace

core::Result<std::vector<core::Micros>> parse_retry_schedule(std::string_view text) {
  std::vector<core::Micros> delays;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    double value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    const auto delay = seconds(value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || !delay) {
      return core::invalid("\"" + std::string(item) + "\" is not a number of seconds");
    }
    delays.push_back(*delay);
    if (comma == std::string_view::npos) return delays;
    text.remove_prefix(comma + 1);
  }
}

core::Result<core::Micros> source_timeout(const ServeOptions& options) {
  const auto timeout = seconds(options.source_timeout);
  if (!timeout || *timeout == 0 || *timeout > 300 * core::kMicrosPerSecond) {
    return bad_flag("--source-timeout", "expected a number of seconds above 0 and at most 300");
  }
  return *timeout;
}

core::Result<delivery::DeliveryOptions> delivery_options(const ServeOptions& options, core::AddressPolicy policy) {
  delivery::DeliveryOptions delivery;
  delivery.max_in_flight = options.max_in_flight;
  delivery.max_in_flight_per_webhook = options.max_in_flight_per_webhook;
  const auto connect = seconds(options.connect_timeout);
  const auto attempt = seconds(options.attempt_timeout);
  const auto lease = seconds(options.delivery_lease);
  const auto disable_after = seconds(options.disable_after);
  if (!connect || *connect == 0) return bad_flag("--connect-timeout", "expected a positive number of seconds");
  if (!attempt || *attempt == 0) return bad_flag("--attempt-timeout", "expected a positive number of seconds");
  if (!lease || *lease < *attempt + 2 * core::kMicrosPerSecond) {
    return bad_flag("--delivery-lease", "must be at least two seconds longer than --attempt-timeout");
  }
  if (!disable_after || *disable_after == 0)
    return bad_flag("--disable-after", "expected a positive number of seconds");
  if (!std::isfinite(options.retry_time_scale) || options.retry_time_scale <= 0) {
    return bad_flag("--retry-time-scale", "expected a positive number");
  }
  delivery.connect_timeout = *connect;
  delivery.attempt_timeout = *attempt;
  delivery.lease = *lease;
  delivery.disable_after = *disable_after;
  delivery.retry.time_scale = options.retry_time_scale;
  if (!options.retry_schedule.empty()) {
    auto delays = parse_retry_schedule(options.retry_schedule);
    if (!delays) return bad_flag("--retry-schedule", delays.error().message);
    delivery.retry.delays = std::move(*delays);
  }
  delivery.address_policy = std::move(policy);
  delivery.resolve_overrides = options.resolve;
  return delivery;
}

}  // namespace repute::app
