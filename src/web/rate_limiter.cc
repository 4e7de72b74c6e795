#include "web/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

namespace inkwell::web {

void RateLimiter::Refill(Bucket& bucket, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0) {
    bucket.tokens = std::min<double>(per_minute_, bucket.tokens + elapsed * per_minute_ / 60.0);
    bucket.updated = now;
  }
}

std::chrono::seconds RateLimiter::Acquire(const std::string& key, Clock::time_point now) {
  if (per_minute_ == 0) return std::chrono::seconds(0);
  std::lock_guard lock(mutex_);
  auto found = buckets_.find(key);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // Full: forget the buckets that have refilled (they limit nobody), and if that is not a
      // tenth of the table, the least recently used half. Refusing new keys instead would let
      // one client with many addresses lock everybody else out. O(n), once per n/10 new keys.
      for (auto it = buckets_.begin(); it != buckets_.end();) {
        Refill(it->second, now);
        it = it->second.tokens >= per_minute_ ? buckets_.erase(it) : std::next(it);
      }
      if (buckets_.size() >= max_keys_ - max_keys_ / 10) {
        std::vector<Clock::time_point> ages;
        ages.reserve(buckets_.size());
        for (const auto& entry : buckets_) ages.push_back(entry.second.last_used);
        auto middle = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
        std::nth_element(ages.begin(), middle, ages.end());
        const Clock::time_point cutoff = *middle;
        std::erase_if(buckets_, [cutoff](const auto& entry) { return entry.second.last_used <= cutoff; });
      }
    }
    found = buckets_.emplace(key, Bucket{static_cast<double>(per_minute_), now, now}).first;
  }
  Bucket& bucket = found->second;
  Refill(bucket, now);
  bucket.last_used = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::chrono::seconds(0);
  }
  const double wait = (1.0 - bucket.tokens) * 60.0 / per_minute_;
  return std::chrono::seconds(std::max<long>(1, static_cast<long>(std::ceil(wait))));
}

}  // namespace inkwell::web
