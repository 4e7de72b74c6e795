#include "core/backoff.h"

#include <algorithm>
#include <random>

namespace inkwell::core {

std::chrono::milliseconds ReconnectDelay(int failures) {
  const long cap = std::min(5000L, 100L << std::clamp(failures, 0, 6));
  static thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<long> jitter(cap / 2, cap);
  return std::chrono::milliseconds(jitter(random));
}

}  // namespace inkwell::core
