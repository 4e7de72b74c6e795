#include "mailer/delivery_recorder.h"

#include <chrono>

namespace inkwell::mailer {
namespace {

// A failed commit is tried again before the batch is given up: SQLite's busy and I/O errors
// are often brief, and a record that never lands leaves the mail open to a duplicate send.
constexpr int kCommitAttempts = 3;
constexpr std::chrono::milliseconds kRetryPause{20};

}  // namespace

DeliveryRecorder::DeliveryRecorder(db::DeliveryLog& delivery_log, OnRecorded on_recorded)
    : delivery_log_(delivery_log), on_recorded_(std::move(on_recorded)), thread_([this] { Run(); }) {}

DeliveryRecorder::~DeliveryRecorder() {
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
  }
  submitted_.notify_one();
  thread_.join();
}

void DeliveryRecorder::Submit(PendingAck pending) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(pending));
  }
  submitted_.notify_one();
}

void DeliveryRecorder::Run() {
  std::vector<PendingAck> batch;
  std::vector<std::string> ids;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      submitted_.wait(lock, [this] { return is_stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything submitted is recorded
      batch.swap(queue_);
    }
    ids.clear();
    for (const PendingAck& pending : batch) ids.push_back(pending.message_id);
    core::Result<void> recorded = delivery_log_.RecordAll(ids);
    for (int attempt = 1; !recorded && attempt < kCommitAttempts; ++attempt) {
      std::this_thread::sleep_for(kRetryPause * attempt);
      recorded = delivery_log_.RecordAll(ids);
    }
    // Only now, after the commit: the caller acks these.
    on_recorded_(std::move(batch), recorded);
    batch.clear();
  }
}

}  // namespace inkwell::mailer
