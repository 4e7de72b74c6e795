#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/delivery_log.h"

namespace inkwell::fakes {

// An in-memory DeliveryLog. FailContainsWith / FailRecordWith make every later call fail with
// that code until cleared with std::nullopt. Thread-safe.
class FakeDeliveryLog final : public db::DeliveryLog {
 public:
  core::Result<bool> Contains(const std::string& message_id) override {
    std::lock_guard lock(mutex_);
    if (contains_failure_) return core::Fail(*contains_failure_, "fake delivery log failure");
    return ids_.contains(message_id);
  }
  core::Result<void> Record(const std::string& message_id) override {
    std::lock_guard lock(mutex_);
    if (record_failure_) return core::Fail(*record_failure_, "fake delivery log failure");
    ids_.insert(message_id);
    return {};
  }
  core::Result<void> RecordAll(const std::vector<std::string>& message_ids) override {
    std::lock_guard lock(mutex_);
    ++record_all_calls_;
    if (record_failure_) return core::Fail(*record_failure_, "fake delivery log failure");
    ids_.insert(message_ids.begin(), message_ids.end());
    return {};
  }

  void FailContainsWith(std::optional<core::ErrorCode> code) {
    std::lock_guard lock(mutex_);
    contains_failure_ = code;
  }
  void FailRecordWith(std::optional<core::ErrorCode> code) {
    std::lock_guard lock(mutex_);
    record_failure_ = code;
  }
  int record_all_calls() const {
    std::lock_guard lock(mutex_);
    return record_all_calls_;
  }
  std::set<std::string> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> ids_;
  int record_all_calls_ = 0;
  std::optional<core::ErrorCode> contains_failure_;
  std::optional<core::ErrorCode> record_failure_;
};

}  // namespace inkwell::fakes
