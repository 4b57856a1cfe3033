#pragma once
// Process-wide metrics in the Prometheus text exposition format.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repute::obs {

// label name = value pairs of one series.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Counters, gauges and histograms by name and labels. Thread-safe.
class Metrics {
 public:
  // Gives a metric its HELP text; metrics are counters unless described otherwise.
  void describe_counter(std::string_view name, std::string_view help);
  void describe_histogram(std::string_view name, std::string_view help, std::vector<double> buckets = {});
  // A gauge whose value is read when the metrics are rendered.
  void describe_gauge(std::string_view name, std::string_view help, std::function<double()> read);

  // Adds value to a counter.
  void add(std::string_view name, const Labels& labels, double value = 1);
  // Records one observation in a histogram.
  void observe(std::string_view name, const Labels& labels, double value);

  // Everything in the Prometheus text format (version 0.0.4).
  std::string render() const;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The process's registry.
Metrics& metrics();

}  // namespace repute::obs
