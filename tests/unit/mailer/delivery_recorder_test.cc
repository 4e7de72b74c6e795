#include "mailer/delivery_recorder.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/fake_delivery_log.h"

namespace inkwell::mailer {
namespace {

using namespace std::chrono_literals;

// What the consumer sees: the batches handed back, with what the log held at that moment.
class Acks {
 public:
  explicit Acks(const fakes::FakeDeliveryLog& log) : log_(log) {}

  void OnRecorded(std::vector<PendingAck> batch, const core::Result<void>& recorded) {
    const std::set<std::string> durable = log_.ids();
    std::lock_guard lock(mutex_);
    for (const PendingAck& pending : batch) {
      if (!durable.contains(pending.message_id)) ++acked_before_durable_;
      if (recorded) acked_.push_back(pending.delivery_tag);
      if (!recorded) failed_.push_back(pending.delivery_tag);
    }
    changed_.notify_all();
  }
  void WaitFor(std::size_t count) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return acked_.size() + failed_.size() >= count; }));
  }
  std::vector<std::uint64_t> acked() {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<std::uint64_t> failed() {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  int acked_before_durable() {
    std::lock_guard lock(mutex_);
    return acked_before_durable_;
  }

 private:
  const fakes::FakeDeliveryLog& log_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> acked_;
  std::vector<std::uint64_t> failed_;
  int acked_before_durable_ = 0;
};

TEST(DeliveryRecorderTest, BatchIsHandedBackOnlyAfterItsIdsAreDurable) {
  fakes::FakeDeliveryLog log;
  Acks acks(log);
  DeliveryRecorder recorder(log, [&](auto batch, const auto& recorded) {
    acks.OnRecorded(std::move(batch), recorded);
  });

  for (std::uint64_t tag = 1; tag <= 100; ++tag) {
    recorder.Submit(PendingAck{1, tag, "m-" + std::to_string(tag)});
  }
  acks.WaitFor(100);

  EXPECT_EQ(acks.acked().size(), 100U);
  EXPECT_EQ(acks.acked_before_durable(), 0);
  EXPECT_EQ(log.ids().size(), 100U);
}

TEST(DeliveryRecorderTest, SubmissionsWhileACommitRunsShareTheNextCommit) {
  fakes::FakeDeliveryLog log;
  std::mutex gate;
  std::unique_lock hold(gate);  // the first batch's callback blocks until released
  Acks acks(log);
  DeliveryRecorder recorder(log, [&](auto batch, const auto& recorded) {
    std::lock_guard wait(gate);
    acks.OnRecorded(std::move(batch), recorded);
  });
  recorder.Submit(PendingAck{1, 1, "m-1"});
  while (log.record_all_calls() < 1) std::this_thread::sleep_for(1ms);

  for (std::uint64_t tag = 2; tag <= 50; ++tag) {
    recorder.Submit(PendingAck{1, tag, "m-" + std::to_string(tag)});
  }
  hold.unlock();
  acks.WaitFor(50);

  EXPECT_EQ(log.record_all_calls(), 2);  // one commit for the first, one for the 49 behind it
}

TEST(DeliveryRecorderTest, FailedCommitIsRetriedThenReportedAsFailed) {
  fakes::FakeDeliveryLog log;
  log.FailRecordWith(core::ErrorCode::kUnavailable);
  Acks acks(log);
  DeliveryRecorder recorder(log, [&](auto batch, const auto& recorded) {
    acks.OnRecorded(std::move(batch), recorded);
  });

  recorder.Submit(PendingAck{1, 7, "m-7"});
  acks.WaitFor(1);

  EXPECT_TRUE(acks.acked().empty());
  EXPECT_EQ(acks.failed(), std::vector<std::uint64_t>{7});
  EXPECT_EQ(log.record_all_calls(), 3);
  EXPECT_FALSE(log.ids().contains("m-7"));
}

TEST(DeliveryRecorderTest, DestructionRecordsWhatIsStillQueued) {
  fakes::FakeDeliveryLog log;
  Acks acks(log);
  {
    DeliveryRecorder recorder(log, [&](auto batch, const auto& recorded) {
      acks.OnRecorded(std::move(batch), recorded);
    });
    for (std::uint64_t tag = 1; tag <= 20; ++tag) {
      recorder.Submit(PendingAck{1, tag, "m-" + std::to_string(tag)});
    }
  }

  EXPECT_EQ(log.ids().size(), 20U);
  EXPECT_EQ(acks.acked().size(), 20U);
}

}  // namespace
}  // namespace inkwell::mailer
