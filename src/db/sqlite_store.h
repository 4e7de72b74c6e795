#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "db/group_commit.h"
#include "db/sqlite_database.h"
#include "db/store.h"

namespace inkwell::db {

// Store on one SQLite connection; a mutex serialises all access (SQLite has one writer).
class SqliteStore final : public Store {
 public:
  // Opens path (":memory:" for tests) and migrates it.
  static core::Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);

  using Store::CreateUser;
  core::Result<std::int64_t> CreateUser(
      const NewUser& user,
      const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) override;
  core::Result<std::vector<OutboxRow>> PendingOutbox(std::size_t limit) override;
  core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) override;
  core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                         const std::string& reason) override;
  core::Result<OutboxBacklog> Backlog() override;
  core::Result<std::vector<OutboxRow>> FailingOutbox(std::size_t limit) override;
  core::Result<void> Ping() override;

 private:
  explicit SqliteStore(SqliteDatabase database)
      : database_(std::move(database)), group_commit_(database_, mutex_) {}
  // Runs body inside BEGIN IMMEDIATE ... COMMIT, rolling back if it fails.
  core::Result<std::vector<OutboxRow>> SelectOutbox(const char* condition, std::size_t limit);
  template <typename Body>
  auto InTransaction(Body&& body) -> decltype(body());

  std::mutex mutex_;
  SqliteDatabase database_;
  GroupCommit group_commit_;  // registrations
};

}  // namespace inkwell::db
