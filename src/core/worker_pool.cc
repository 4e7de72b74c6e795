#include "core/worker_pool.h"

#include <sched.h>

#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"

namespace inkwell::core {

WorkerPool::WorkerPool(unsigned threads, std::size_t max_queued, int nice_increment)
    : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, nice_increment] { Run(nice_increment); });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (is_stopping_ || tasks_.size() >= max_queued_) return false;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkerPool::Run(int nice_increment) {
  if (nice_increment > 0) {
    // On Linux a thread's nice value is per thread (the tid names it).
    const int current = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), current + nice_increment) != 0) {
      LogWarn("could not lower a worker thread's priority");
    }
    // SCHED_BATCH: the scheduler treats the thread as CPU-bound and does not let its wake-ups
    // preempt others, so an I/O thread that wakes while every core hashes runs at once.
    const sched_param batch{};
    if (sched_setscheduler(static_cast<pid_t>(gettid()), SCHED_BATCH, &batch) != 0) {
      LogWarn("could not make a worker thread SCHED_BATCH");
    }
  }
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return is_stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& exception) {
      LogError("worker task threw", {{"error", exception.what()}});
    }
  }
}

}  // namespace inkwell::core
