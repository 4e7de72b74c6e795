#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/group_commit.h"
#include "db/sqlite_database.h"
#include "db/store.h"
#include "db/wal_checkpointer.h"

namespace inkwell::db {

// Store on one SQLite connection; a mutex serialises all access (SQLite has one writer).
// Request-path writes (accounts, sessions, content) share commits through GroupCommit; the
// relay's outbox writes run in their own BEGIN IMMEDIATE transactions. Several stores, in one
// process or several, may share one database file: outbox claims keep their relays apart.
class SqliteStore final : public Store {
 public:
  // Opens path (":memory:" for tests) and migrates it. outbox_lease is how long the rows that
  // PendingOutbox returns stay claimed for this store; tests shorten it.
  static core::Result<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, std::chrono::milliseconds outbox_lease = std::chrono::seconds(30));

  // The schema, version N at index N-1 (append only). Public for tests that build an old
  // database.
  static const std::vector<std::string>& Migrations();

  using Store::CreateUser;
  core::Result<std::int64_t> CreateUser(
      const NewUser& user,
      const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) override;
  core::Result<std::optional<User>> FindUserByEmail(const std::string& email) override;
  core::Result<std::optional<User>> FindUser(std::int64_t id) override;
  core::Result<void> ReplaceConfirmationToken(std::int64_t user_id, const std::string& token_hash,
                                              std::int64_t expires_at_ms,
                                              const std::vector<OutboxMessage>& outbox) override;
  core::Result<User> ConfirmUser(
      const std::string& token_hash, std::int64_t now_ms,
      const std::function<std::vector<OutboxMessage>(const User&)>& outbox_for) override;

  core::Result<void> CreateSession(const std::string& session_hash, std::int64_t user_id,
                                   std::int64_t expires_at_ms) override;
  core::Result<std::optional<User>> FindSession(const std::string& session_hash,
                                                std::int64_t now_ms) override;
  core::Result<void> DeleteSession(const std::string& session_hash) override;

  core::Result<Page> CreatePage(
      std::int64_t author_id, const PageInput& input,
      const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) override;
  core::Result<std::optional<Page>> FindPage(const std::string& slug) override;
  core::Result<Listing<Page>> ListPages(std::int64_t offset, std::int64_t limit) override;
  core::Result<Page> UpdatePage(
      std::int64_t id, const PageInput& input,
      const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) override;
  core::Result<void> DeletePage(std::int64_t id, const std::vector<OutboxMessage>& outbox) override;

  core::Result<Post> CreatePost(
      std::int64_t author_id, const PostInput& input,
      const std::function<std::vector<OutboxMessage>(const Post&)>& outbox_for) override;
  core::Result<std::optional<Post>> FindPost(std::int64_t id) override;
  core::Result<Listing<Post>> ListPosts(std::int64_t viewer_id, std::int64_t offset,
                                        std::int64_t limit) override;
  core::Result<Post> UpdatePost(
      std::int64_t id, const PostInput& input,
      const std::function<std::vector<OutboxMessage>(const Post& before, const Post& after)>&
          outbox_for) override;
  core::Result<void> DeletePost(std::int64_t id, const std::vector<OutboxMessage>& outbox) override;
  core::Result<Comment> CreateComment(
      std::int64_t post_id, std::int64_t author_id, const std::string& body,
      const std::function<std::vector<OutboxMessage>(const Comment&)>& outbox_for) override;
  core::Result<Listing<Comment>> ListComments(std::int64_t post_id, std::int64_t offset,
                                              std::int64_t limit) override;

  core::Result<std::vector<OutboxRow>> PendingOutboxAfter(std::size_t limit,
                                                          std::int64_t after_id) override;
  core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) override;
  core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                         const std::string& reason) override;
  core::Result<void> ReleaseOutboxClaims() override;
  core::Result<OutboxBacklog> Backlog() override;
  core::Result<std::vector<OutboxRow>> FailingOutbox(std::size_t limit) override;
  bool SetOutboxListener(OutboxListener listener) override;
  core::Result<void> Ping() override;

 private:
  SqliteStore(SqliteDatabase database, std::string owner, std::chrono::milliseconds outbox_lease)
      : database_(std::move(database)),
        group_commit_(database_, mutex_),
        owner_(std::move(owner)),
        outbox_lease_(outbox_lease) {}

  static std::int64_t NowMs();  // Unix time in milliseconds
  // kInvalidArgument for a negative offset or limit (SQLite would read -1 as "no limit").
  static core::Result<void> CheckPaging(std::int64_t offset, std::int64_t limit);
  // Like InTransaction, but its commit does not wait for fsync (synchronous=NORMAL for this
  // transaction only; the next durable commit makes it durable too). Only for the relay's
  // bookkeeping, whose loss in a power cut means rows published again, which the mailer's
  // de-duplication absorbs; never for what a client was told succeeded. The caller holds mutex_.
  core::Result<void> InUnsyncedTransaction(const std::function<core::Result<void>()>& body);
  // Runs body between `begin` (BEGIN or BEGIN IMMEDIATE) and COMMIT, rolling back if it fails.
  // The caller holds mutex_.
  core::Result<void> InTransaction(const char* begin,
                                   const std::function<core::Result<void>()>& body);
  // Runs write in the next group commit (it holds mutex_ while it runs), then hands the outbox
  // rows it wrote to the listener, if one is set.
  core::Result<void> Write(const std::function<core::Result<void>()>& write);
  // Inserts outbox rows created at now_ms; the caller's transaction makes them atomic with the
  // change that caused them. Every mutation writes its messages through here. Inside a Write
  // with a listener, the rows are born claimed and collected for the listener.
  core::Result<void> InsertOutbox(const std::vector<OutboxMessage>& messages, std::int64_t now_ms);
  // kNotFound unless a user with this id exists. The caller holds mutex_.
  core::Result<void> RequireUser(std::int64_t id);
  // The first user / page matching condition (SQL over the query's columns, with ?1 bound by
  // bind). The caller holds mutex_.
  using Binder = std::function<void(SqliteDatabase::Statement&)>;
  core::Result<std::optional<User>> SelectUser(const char* condition, const Binder& bind);
  core::Result<std::optional<Page>> SelectPage(const char* condition, const Binder& bind);
  core::Result<std::optional<Post>> SelectPost(std::int64_t id);
  // Outbox rows selected by `clause` (what follows WHERE, with its parameters bound by bind).
  core::Result<std::vector<OutboxRow>> SelectOutbox(const char* clause, const Binder& bind);

  std::mutex mutex_;
  SqliteDatabase database_;
  GroupCommit group_commit_;
  // Checkpoints the WAL off the request path (null for ":memory:", or if it could not start).
  std::unique_ptr<WalCheckpointer> checkpointer_;
  const std::string owner_;  // random per instance: the claimed_by of this store's outbox claims
  const std::chrono::milliseconds outbox_lease_;
  // Where InsertOutbox collects the rows of the write running now (null: none wanted). Guarded
  // by mutex_, like the connection.
  std::vector<OutboxRow>* written_outbox_ = nullptr;
  std::mutex listener_mutex_;  // held while the listener is set or called
  OutboxListener listener_;
};

}  // namespace inkwell::db
