#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace inkwell::core {

// A fixed set of threads running submitted tasks in order of submission, with a bounded queue
// so that overload is refused at once instead of piling up. Thread-safe.
class WorkerPool {
 public:
  // nice_increment > 0 lowers the threads' scheduling priority (setpriority per thread), so
  // CPU-bound tasks never starve latency-sensitive threads such as HTTP I/O.
  WorkerPool(unsigned threads, std::size_t max_queued, int nice_increment = 0);
  ~WorkerPool();  // runs the queued tasks, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and the task is not run) when max_queued tasks are already waiting or the pool is
  // stopping. Tasks must not throw; an escaping exception is logged and swallowed.
  bool Submit(std::function<void()> task);
  std::size_t queued() const;
  // Runs what is queued, then joins; idempotent.
  void Stop();

 private:
  void Run(int nice_increment);

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::size_t max_queued_;
  bool is_stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace inkwell::core
