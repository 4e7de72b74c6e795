#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "db/store.h"

namespace inkwell::fakes {

// Wraps a real Store, remembering each user it was asked to create; FailNextWith makes the next
// CreateUser fail with that code without touching the wrapped store.
class RecordingStore final : public db::Store {
 public:
  explicit RecordingStore(db::Store& store) : store_(store) {}

  using db::Store::CreateUser;
  core::Result<std::int64_t> CreateUser(
      const db::NewUser& user,
      const std::function<std::vector<db::OutboxMessage>(std::int64_t user_id)>& outbox_for)
      override {
    {
      std::lock_guard lock(mutex_);
      users_.push_back(user);
      if (next_failure_) {
        const core::ErrorCode code = *next_failure_;
        next_failure_.reset();
        return core::Fail(code, "recording store: injected failure");
      }
    }
    return store_.CreateUser(user, outbox_for);
  }
  core::Result<std::vector<db::OutboxRow>> PendingOutbox(std::size_t limit) override {
    return store_.PendingOutbox(limit);
  }
  core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) override {
    return store_.MarkOutboxSent(ids);
  }
  core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                         const std::string& reason) override {
    return store_.RecordOutboxFailure(ids, reason);
  }
  core::Result<db::OutboxBacklog> Backlog() override { return store_.Backlog(); }
  core::Result<std::vector<db::OutboxRow>> FailingOutbox(std::size_t limit) override {
    return store_.FailingOutbox(limit);
  }
  core::Result<void> Ping() override { return store_.Ping(); }

  void FailNextWith(core::ErrorCode code) {
    std::lock_guard lock(mutex_);
    next_failure_ = code;
  }
  std::vector<db::NewUser> users() const {
    std::lock_guard lock(mutex_);
    return users_;
  }

 private:
  db::Store& store_;
  mutable std::mutex mutex_;
  std::vector<db::NewUser> users_;
  std::optional<core::ErrorCode> next_failure_;
};

}  // namespace inkwell::fakes
