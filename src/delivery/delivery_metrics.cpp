#include "delivery/delivery_metrics.hpp"

#include <atomic>
#include <mutex>
#include <string>

#include "obs/metrics.hpp"

namespace repute::delivery {
namespace {

constexpr const char* kAttempts = "repute_delivery_attempts_total";
constexpr const char* kDuration = "repute_delivery_attempt_duration_seconds";
constexpr const char* kInFlight = "repute_deliveries_in_flight";

std::atomic<long> in_flight{0};

}  // namespace

void describe_delivery_metrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    obs::Metrics& metrics = obs::metrics();
    metrics.describe_counter(kAttempts, "Webhook delivery attempts by outcome (delivered, retry, failed, gone).");
    metrics.describe_histogram(kDuration, "How long webhook delivery attempts took, in seconds.");
    metrics.describe_gauge(kInFlight, "Webhook delivery attempts in flight.",
                           [] { return static_cast<double>(in_flight.load(std::memory_order_relaxed)); });
  });
}

void record_attempt_metric(std::string_view label, core::Micros duration) {
  obs::Metrics& metrics = obs::metrics();
  metrics.add(kAttempts, {{"outcome", std::string(label)}});
  metrics.observe(kDuration, {}, static_cast<double>(duration) / core::kMicrosPerSecond);
}

void add_in_flight(int delta) { in_flight.fetch_add(delta, std::memory_order_relaxed); }

}  // namespace repute::delivery
