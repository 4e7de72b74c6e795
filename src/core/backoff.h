#pragma once

#include <chrono>

namespace inkwell::core {

// How long to wait before reconnect attempt number `failures` (0-based): 100 ms doubling to a
// 5 s cap, with jitter over the upper half so that many instances do not reconnect in step
// after a broker restart. Thread-safe.
std::chrono::milliseconds ReconnectDelay(int failures);

}  // namespace inkwell::core
