#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <set>
#include <sstream>

namespace inkwell::core {
namespace {

void RenderHistogram(std::ostream& out, const std::string& name, const std::string& labels,
                     const Histogram& histogram) {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  const auto& bounds = histogram.upper_bounds();
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    out << name << "_bucket{" << prefix << "le=\"";
    if (i == bounds.size()) {
      out << "+Inf";
    } else {
      out << bounds[i];
    }
    out << "\"} " << histogram.CumulativeCount(i) << '\n';
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_sum" << braces << ' ' << histogram.Sum() << '\n';
  out << name << "_count" << braces << ' ' << histogram.CumulativeCount(bounds.size()) << '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<std::uint64_t>[upper_bounds_.size() + 1]) {
  std::sort(upper_bounds_.begin(), upper_bounds_.end());
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double value) {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_micros_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
  }
}

std::uint64_t Histogram::CumulativeCount(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t bucket = 0; bucket <= i && bucket <= upper_bounds_.size(); ++bucket) {
    total += counts_[bucket].load(std::memory_order_relaxed);
  }
  return total;
}

double Histogram::Sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram& Metrics::AddHistogram(const std::string& name, const std::string& help,
                                 const std::string& labels, std::vector<double> upper_bounds) {
  std::string key = name + '\0' + labels;
  std::lock_guard lock(mutex_);
  if (auto found = histograms_.find(key); found != histograms_.end()) return *found->second;
  series_.push_back(Series{name, help, "histogram", labels, nullptr,
                           std::make_unique<Histogram>(std::move(upper_bounds)), {}});
  histograms_.emplace(std::move(key), series_.back().histogram.get());
  return *series_.back().histogram;
}

Counter& Metrics::AddCounter(const std::string& name, const std::string& help,
                             const std::string& labels) {
  std::string key = name + '\0' + labels;
  std::lock_guard lock(mutex_);
  if (auto found = counters_.find(key); found != counters_.end()) return *found->second;
  series_.push_back(Series{name, help, "counter", labels, std::make_unique<Counter>(), nullptr, {}});
  counters_.emplace(std::move(key), series_.back().counter.get());
  return *series_.back().counter;
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<double()> sample) {
  std::lock_guard lock(mutex_);
  series_.push_back(Series{name, help, "gauge", "", nullptr, nullptr, std::move(sample)});
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out.precision(15);  // the default 6 digits would print 1234567.5 as 1.23457e+06
  std::set<std::string> described;
  // Series of one name must be contiguous in the exposition format.
  for (const auto& first : series_) {
    if (!described.insert(first.name).second) continue;
    out << "# HELP " << first.name << ' ' << first.help << '\n';
    out << "# TYPE " << first.name << ' ' << first.type << '\n';
    for (const auto& series : series_) {
      if (series.name != first.name) continue;
      if (series.histogram) {
        RenderHistogram(out, series.name, series.labels, *series.histogram);
        continue;
      }
      out << series.name;
      if (!series.labels.empty()) out << '{' << series.labels << '}';
      if (series.counter) {
        out << ' ' << series.counter->Value() << '\n';
      } else {
        const double value = series.sample();
        if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
          out << ' ' << static_cast<long long>(value) << '\n';
        } else {
          out << ' ' << value << '\n';
        }
      }
    }
  }
  return out.str();
}

}  // namespace inkwell::core
