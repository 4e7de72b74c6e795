#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace inkwell::web {

// Per-key token buckets ("login" + client address): `per_minute` requests, refilled evenly, with
// a burst of the same size. Thread-safe. Bounded: at most max_keys buckets are kept; when full,
// buckets that have refilled completely are forgotten, then if need be the least recently used
// half (an attacker spraying addresses can neither grow memory nor lock others out; at worst
// old buckets restart full). per_minute 0 disables limiting.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(unsigned per_minute, std::size_t max_keys = 100000)
      : per_minute_(per_minute), max_keys_(max_keys) {}

  // Takes one token. Zero when allowed, otherwise how long until a token is available (for
  // Retry-After, at least one second).
  std::chrono::seconds Acquire(const std::string& key, Clock::time_point now = Clock::now());
  bool is_enabled() const { return per_minute_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;    // of the token count
    Clock::time_point last_used;  // for forgetting the least recently used
  };
  void Refill(Bucket& bucket, Clock::time_point now) const;

  const unsigned per_minute_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace inkwell::web
