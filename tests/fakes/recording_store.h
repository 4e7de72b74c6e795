#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "db/store.h"

namespace inkwell::fakes {

// Wraps a real Store, remembering each user it was asked to create; FailNextWith makes the next
// CreateUser fail with that code without touching the wrapped store. Every other method
// delegates to the wrapped store unchanged.
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
  core::Result<std::optional<db::User>> FindUserByEmail(const std::string& email) override {
    return store_.FindUserByEmail(email);
  }
  core::Result<std::optional<db::User>> FindUser(std::int64_t id) override {
    return store_.FindUser(id);
  }
  core::Result<void> ReplaceConfirmationToken(
      std::int64_t user_id, const std::string& token_hash, std::int64_t expires_at_ms,
      const std::vector<db::OutboxMessage>& outbox) override {
    return store_.ReplaceConfirmationToken(user_id, token_hash, expires_at_ms, outbox);
  }
  core::Result<db::User> ConfirmUser(
      const std::string& token_hash, std::int64_t now_ms,
      const std::function<std::vector<db::OutboxMessage>(const db::User&)>& outbox_for) override {
    return store_.ConfirmUser(token_hash, now_ms, outbox_for);
  }

  core::Result<void> CreateSession(const std::string& session_hash, std::int64_t user_id,
                                   std::int64_t expires_at_ms) override {
    return store_.CreateSession(session_hash, user_id, expires_at_ms);
  }
  core::Result<std::optional<db::User>> FindSession(const std::string& session_hash,
                                                    std::int64_t now_ms) override {
    return store_.FindSession(session_hash, now_ms);
  }
  core::Result<void> DeleteSession(const std::string& session_hash) override {
    return store_.DeleteSession(session_hash);
  }

  core::Result<db::Page> CreatePage(
      std::int64_t author_id, const db::PageInput& input,
      const std::function<std::vector<db::OutboxMessage>(const db::Page&)>& outbox_for) override {
    return store_.CreatePage(author_id, input, outbox_for);
  }
  core::Result<std::optional<db::Page>> FindPage(const std::string& slug) override {
    return store_.FindPage(slug);
  }
  core::Result<db::Listing<db::Page>> ListPages(std::int64_t offset, std::int64_t limit) override {
    return store_.ListPages(offset, limit);
  }
  core::Result<db::Page> UpdatePage(
      std::int64_t id, const db::PageInput& input,
      const std::function<std::vector<db::OutboxMessage>(const db::Page&)>& outbox_for) override {
    return store_.UpdatePage(id, input, outbox_for);
  }
  core::Result<void> DeletePage(std::int64_t id,
                                const std::vector<db::OutboxMessage>& outbox) override {
    return store_.DeletePage(id, outbox);
  }

  core::Result<db::Post> CreatePost(
      std::int64_t author_id, const db::PostInput& input,
      const std::function<std::vector<db::OutboxMessage>(const db::Post&)>& outbox_for) override {
    return store_.CreatePost(author_id, input, outbox_for);
  }
  core::Result<std::optional<db::Post>> FindPost(std::int64_t id) override {
    return store_.FindPost(id);
  }
  core::Result<db::Listing<db::Post>> ListPosts(std::int64_t viewer_id, std::int64_t offset,
                                                std::int64_t limit) override {
    return store_.ListPosts(viewer_id, offset, limit);
  }
  core::Result<db::Post> UpdatePost(
      std::int64_t id, const db::PostInput& input,
      const std::function<std::vector<db::OutboxMessage>(
          const db::Post& before, const db::Post& after)>& outbox_for) override {
    return store_.UpdatePost(id, input, outbox_for);
  }
  core::Result<void> DeletePost(std::int64_t id,
                                const std::vector<db::OutboxMessage>& outbox) override {
    return store_.DeletePost(id, outbox);
  }
  core::Result<db::Comment> CreateComment(
      std::int64_t post_id, std::int64_t author_id, const std::string& body,
      const std::function<std::vector<db::OutboxMessage>(const db::Comment&)>& outbox_for)
      override {
    return store_.CreateComment(post_id, author_id, body, outbox_for);
  }
  core::Result<db::Listing<db::Comment>> ListComments(std::int64_t post_id, std::int64_t offset,
                                                      std::int64_t limit) override {
    return store_.ListComments(post_id, offset, limit);
  }

  core::Result<std::vector<db::OutboxRow>> PendingOutboxAfter(std::size_t limit,
                                                              std::int64_t after_id) override {
    return store_.PendingOutboxAfter(limit, after_id);
  }
  core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) override {
    return store_.MarkOutboxSent(ids);
  }
  core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                         const std::string& reason) override {
    return store_.RecordOutboxFailure(ids, reason);
  }
  core::Result<void> ReleaseOutboxClaims() override { return store_.ReleaseOutboxClaims(); }
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
