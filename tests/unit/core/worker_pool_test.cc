#include "core/worker_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

using std::chrono::seconds;

// Occupies a pool thread until Release(); Started() says the thread has taken it.
class Blocker {
 public:
  std::function<void()> Task() {
    return [this] {
      started_.set_value();
      release_future_.wait();
    };
  }
  bool WaitStarted() { return started_future_.wait_for(seconds(5)) == std::future_status::ready; }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> started_;
  std::future<void> started_future_ = started_.get_future();
  std::promise<void> release_;
  std::shared_future<void> release_future_ = release_.get_future().share();
};

TEST(WorkerPoolTest, RunsSubmittedTasks) {
  WorkerPool pool(2, 100);
  std::atomic<int> done{0};

  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  pool.Stop();

  EXPECT_EQ(done.load(), 50);
}

TEST(WorkerPoolTest, OneThreadRunsTasksInSubmissionOrder) {
  WorkerPool pool(1, 100);
  std::mutex mutex;
  std::vector<int> order;

  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.Submit([&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
    }));
  }
  pool.Stop();

  ASSERT_EQ(order.size(), 20U);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkerPoolTest, SubmitReturnsFalseWhenQueueIsFull) {
  WorkerPool pool(1, 2);
  Blocker blocker;
  ASSERT_TRUE(pool.Submit(blocker.Task()));
  ASSERT_TRUE(blocker.WaitStarted());
  std::atomic<int> done{0};
  ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  ASSERT_TRUE(pool.Submit([&done] { ++done; }));

  const bool is_accepted = pool.Submit([&done] { done += 100; });

  EXPECT_FALSE(is_accepted);
  EXPECT_EQ(pool.queued(), 2U);
  blocker.Release();
  pool.Stop();
  EXPECT_EQ(done.load(), 2);
}

TEST(WorkerPoolTest, StopRunsQueuedTasksBeforeJoining) {
  WorkerPool pool(1, 10);
  Blocker blocker;
  ASSERT_TRUE(pool.Submit(blocker.Task()));
  ASSERT_TRUE(blocker.WaitStarted());
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  std::thread releaser([&blocker] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    blocker.Release();
  });

  pool.Stop();
  releaser.join();

  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(pool.queued(), 0U);
}

TEST(WorkerPoolTest, RefusesTasksAfterStop) {
  WorkerPool pool(1, 10);
  pool.Stop();
  bool has_run = false;

  const bool is_accepted = pool.Submit([&has_run] { has_run = true; });
  pool.Stop();  // idempotent

  EXPECT_FALSE(is_accepted);
  EXPECT_FALSE(has_run);
}

TEST(WorkerPoolTest, DestructorRunsQueuedTasks) {
  std::atomic<int> done{0};

  {
    WorkerPool pool(1, 10);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  }

  EXPECT_EQ(done.load(), 5);
}

TEST(WorkerPoolTest, SurvivesTaskThatThrows) {
  WorkerPool pool(1, 10);
  std::atomic<int> done{0};

  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  pool.Stop();

  EXPECT_EQ(done.load(), 1);
}

TEST(WorkerPoolTest, NicedPoolRunsTasksLowerAndAsSchedBatch) {
  const int own_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  std::promise<std::pair<int, int>> seen;
  {
    WorkerPool pool(1, 4, /*nice_increment=*/3);
    ASSERT_TRUE(pool.Submit([&seen] {
      seen.set_value({getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), sched_getscheduler(0)});
    }));
  }
  const auto [nice, policy] = seen.get_future().get();
  EXPECT_EQ(nice, std::min(19, own_nice + 3));
  EXPECT_EQ(policy, SCHED_BATCH);
}

TEST(WorkerPoolTest, PlainPoolKeepsTheNormalPolicy) {
  std::promise<int> seen;
  {
    WorkerPool pool(1, 4);
    ASSERT_TRUE(pool.Submit([&seen] { seen.set_value(sched_getscheduler(0)); }));
  }
  EXPECT_EQ(seen.get_future().get(), SCHED_OTHER);
}

}  // namespace
}  // namespace inkwell::core
