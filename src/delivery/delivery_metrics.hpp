#pragma once
// The engine's metrics (obs::metrics()): attempts by outcome, attempt durations, deliveries in flight.
#include <string_view>

#include "core/time.hpp"

namespace repute::delivery {

// Registers the metrics' help texts once per process; safe to call many times.
void describe_delivery_metrics();
// Counts one attempt (label: "delivered", "retry", "failed", "gone") that took duration.
void record_attempt_metric(std::string_view label, core::Micros duration);
// Moves the in-flight gauge by delta.
void add_in_flight(int delta);

}  // namespace repute::delivery
