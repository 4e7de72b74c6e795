#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace inkwell::core {

// A monotonically increasing count. Lock-free; safe from any thread.
class Counter {
 public:
  void Increment(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Observations counted into fixed buckets (Prometheus histogram). Lock-free; safe from any thread.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative count of observations <= upper_bounds()[i]; i == size() is +Inf (the total).
  std::uint64_t CumulativeCount(std::size_t i) const;
  double Sum() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, last one is +Inf
  std::atomic<std::uint64_t> sum_micros_{0};              // sum in millionths, for atomicity
};

// Latency buckets in seconds, 1 ms to 10 s.
std::vector<double> LatencyBuckets();

// The metrics of one process, rendered in the Prometheus text exposition format (version 0.0.4).
// Register at start-up; counters and gauges live as long as the registry. Thread-safe.
class Metrics {
 public:
  // A counter series: name like "inkwell_http_requests_total", labels like
  // R"(route="/register",status="303")" (already in Prometheus syntax, or empty).
  Counter& AddCounter(const std::string& name, const std::string& help,
                      const std::string& labels = "");
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          const std::string& labels, std::vector<double> upper_bounds);
  // A gauge whose value is read by calling sample when /metrics is scraped.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> sample);

  std::string Render() const;

 private:
  struct Series {
    std::string name;
    std::string help;
    std::string type;
    std::string labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> sample;
  };
  mutable std::mutex mutex_;
  std::vector<Series> series_;
  // name + '\0' + labels -> the series' counter or histogram (they never move: unique_ptr), so
  // that the per-request Add* lookups cost one hash, not a scan of every series.
  std::unordered_map<std::string, Counter*> counters_;
  std::unordered_map<std::string, Histogram*> histograms_;
};

}  // namespace inkwell::core
