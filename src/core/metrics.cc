#include "core/metrics.h"

#include <cmath>
#include <set>
#include <sstream>

namespace inkwell::core {

Counter& Metrics::AddCounter(const std::string& name, const std::string& help,
                             const std::string& labels) {
  std::lock_guard lock(mutex_);
  for (auto& series : series_) {
    if (series.name == name && series.labels == labels) return *series.counter;
  }
  series_.push_back(Series{name, help, "counter", labels, std::make_unique<Counter>(), {}});
  return *series_.back().counter;
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<double()> sample) {
  std::lock_guard lock(mutex_);
  series_.push_back(Series{name, help, "gauge", "", nullptr, std::move(sample)});
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  std::set<std::string> described;
  // Series of one name must be contiguous in the exposition format.
  for (const auto& first : series_) {
    if (!described.insert(first.name).second) continue;
    out << "# HELP " << first.name << ' ' << first.help << '\n';
    out << "# TYPE " << first.name << ' ' << first.type << '\n';
    for (const auto& series : series_) {
      if (series.name != first.name) continue;
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
