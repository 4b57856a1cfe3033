#include "obs/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "obs/log.hpp"

namespace repute::obs {
namespace {

enum class Kind { kCounter, kGauge, kHistogram };

const std::vector<double> kDefaultBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct Series {
  double value = 0;                 // counter value, or histogram sum
  std::vector<std::uint64_t> hits;  // histogram: observations per bucket (not cumulative)
  std::uint64_t count = 0;          // histogram: observations
};

struct Family {
  Kind kind = Kind::kCounter;
  std::string help;
  std::vector<double> buckets;
  std::function<double()> read;
  std::map<std::string, Series> series;  // by rendered label set
};

std::string render_labels(const Labels& labels) {
  std::string out;
  auto append = [&out](std::string_view key, std::string_view value) {
    out += out.empty() ? "{" : ",";
    out += key;
    out += "=\"";
    append_json_escaped(out, value);
    out += '"';
  };
  for (const auto& [key, value] : labels) append(key, value);
  if (!out.empty()) out += '}';
  return out;
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  return std::string(buf, end);
}

// Adds a label to an already rendered label set.
std::string with_label(const std::string& rendered, std::string_view key, std::string_view value) {
  std::string label = std::string(key) + "=\"" + std::string(value) + "\"";
  if (rendered.empty()) return "{" + label + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + label + "}";
}

}  // namespace

struct Metrics::State {
  mutable std::mutex mutex;
  std::map<std::string, Family, std::less<>> families;

  Family& family(std::string_view name) {
    auto found = families.find(name);
    if (found == families.end()) found = families.emplace(std::string(name), Family{}).first;
    return found->second;
  }
};

Metrics::Metrics() : state_(std::make_unique<State>()) {}
Metrics::~Metrics() = default;

void Metrics::describe_counter(std::string_view name, std::string_view help) {
  std::lock_guard lock(state_->mutex);
  Family& family = state_->family(name);
  family.kind = Kind::kCounter;
  family.help = help;
}

void Metrics::describe_histogram(std::string_view name, std::string_view help, std::vector<double> buckets) {
  std::lock_guard lock(state_->mutex);
  Family& family = state_->family(name);
  family.kind = Kind::kHistogram;
  family.help = help;
  family.buckets = buckets.empty() ? kDefaultBuckets : std::move(buckets);
}

void Metrics::describe_gauge(std::string_view name, std::string_view help, std::function<double()> read) {
  std::lock_guard lock(state_->mutex);
  Family& family = state_->family(name);
  family.kind = Kind::kGauge;
  family.help = help;
  family.read = std::move(read);
}

void Metrics::add(std::string_view name, const Labels& labels, double value) {
  const std::string key = render_labels(labels);
  std::lock_guard lock(state_->mutex);
  state_->family(name).series[key].value += value;
}

void Metrics::observe(std::string_view name, const Labels& labels, double value) {
  const std::string key = render_labels(labels);
  std::lock_guard lock(state_->mutex);
  Family& family = state_->family(name);
  if (family.kind != Kind::kHistogram) {
    family.kind = Kind::kHistogram;
    if (family.buckets.empty()) family.buckets = kDefaultBuckets;
  }
  Series& series = family.series[key];
  if (series.hits.empty()) series.hits.assign(family.buckets.size(), 0);
  std::size_t bucket = 0;
  while (bucket < family.buckets.size() && value > family.buckets[bucket]) ++bucket;
  if (bucket < family.buckets.size()) ++series.hits[bucket];
  series.value += value;
  ++series.count;
}

std::string Metrics::render() const {
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges;
  std::string out;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& [name, family] : state_->families) {
      if (family.kind == Kind::kGauge) {
        gauges.push_back({name, family.help, family.read});
        continue;
      }
      if (!family.help.empty()) out += "# HELP " + name + " " + family.help + "\n";
      out += "# TYPE " + name + (family.kind == Kind::kCounter ? " counter\n" : " histogram\n");
      for (const auto& [labels, series] : family.series) {
        if (family.kind == Kind::kCounter) {
          out += name + labels + " " + format_number(series.value) + "\n";
          continue;
        }
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < family.buckets.size(); ++i) {
          cumulative += series.hits[i];
          out += name + "_bucket" + with_label(labels, "le", format_number(family.buckets[i])) + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += name + "_bucket" + with_label(labels, "le", "+Inf") + " " + std::to_string(series.count) + "\n";
        out += name + "_sum" + labels + " " + format_number(series.value) + "\n";
        out += name + "_count" + labels + " " + std::to_string(series.count) + "\n";
      }
    }
  }
  // Gauges are read outside the lock: their callbacks may take locks of their own.
  for (const Gauge& gauge : gauges) {
    if (!gauge.help.empty()) out += "# HELP " + gauge.name + " " + gauge.help + "\n";
    out += "# TYPE " + gauge.name + " gauge\n" + gauge.name + " " + format_number(gauge.read ? gauge.read() : 0) + "\n";
  }
  return out;
}

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

}  // namespace repute::obs
