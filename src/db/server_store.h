#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/db_url.h"
#include "db/sql_connection.h"
#include "db/store.h"

namespace inkwell::db {

// Store on a database server: PostgreSQL or MariaDB/MySQL, through a bounded pool of
// SqlConnections. Every mutation is one transaction (READ COMMITTED) on one pooled connection,
// retried (at most kMaxAttempts) when the server aborts it for a deadlock or a serialization
// failure. A connection found broken is closed and a new one opened on the next use, so the
// store recovers by itself when the server comes back; meanwhile calls fail with kUnavailable.
// Outbox rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED and a lease, so that several
// web instances on one database never publish a row twice at once.
class ServerStore final : public Store {
 public:
  struct Options {
    std::size_t pool_size = 6;
    // How long a call waits for a free connection before failing with kUnavailable.
    std::chrono::milliseconds acquire_timeout{5000};
    ConnectOptions connect;
    std::chrono::milliseconds outbox_lease{30000};
  };
  static constexpr int kMaxAttempts = 4;

  // Connects, and applies pending migrations under a database-wide lock (so that two instances
  // starting together cannot both migrate) unless migrate is false.
  static core::Result<std::unique_ptr<ServerStore>> Open(const DbUrl& url, const Options& options,
                                                         bool migrate = true);

  // The schema for engine (kMysql or kPostgresql): version N at index N-1, each a list of
  // statements. Append only.
  static const std::vector<std::vector<std::string>>& Migrations(DbUrl::Engine engine);

  core::Result<SchemaStatus> Status();
  // Applies pending migrations under the lock; returns the versions it applied.
  core::Result<std::vector<int>> Migrate();

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
  core::Result<void> Ping() override;

 private:
  using Body = std::function<core::Result<void>(SqlConnection&)>;

  ServerStore(DbUrl url, const Options& options, std::string owner);

  // A connection borrowed from the pool; back to the pool when it goes out of scope (closed
  // instead if it is no longer usable).
  class Lease {
   public:
    Lease(ServerStore& store, std::unique_ptr<SqlConnection> connection)
        : store_(&store), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    SqlConnection& operator*() const { return *connection_; }
    SqlConnection* operator->() const { return connection_.get(); }
    // Closes the connection when the lease ends instead of returning it to the pool.
    void Discard() { is_discarded_ = true; }

   private:
    ServerStore* store_;
    std::unique_ptr<SqlConnection> connection_;
    bool is_discarded_ = false;
  };
  core::Result<Lease> Acquire();
  core::Result<std::unique_ptr<SqlConnection>> Connect() const;

  // Runs body on one pooled connection without a transaction (a single read).
  core::Result<void> Run(const Body& body);
  // Runs body between BEGIN and COMMIT on one pooled connection, rolling back if it fails, and
  // running it again (up to kMaxAttempts in all) if the server aborted it as a deadlock victim
  // or for a serialization failure.
  core::Result<void> InTransaction(const Body& body);

  bool IsPostgres() const { return url_.engine == DbUrl::Engine::kPostgresql; }
  // The database server's time, Unix milliseconds, as an SQL expression.
  const char* NowSql() const {
    return IsPostgres() ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                        : "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";
  }
  // The clause that share-locks the rows a SELECT reads (MariaDB has no FOR SHARE).
  const char* ForShare() const { return IsPostgres() ? " FOR SHARE" : " LOCK IN SHARE MODE"; }
  // Runs an INSERT and returns the new row's id (RETURNING id on PostgreSQL, the AUTO_INCREMENT
  // id on MariaDB).
  core::Result<std::int64_t> Insert(SqlConnection& connection, const std::string& sql,
                                    std::initializer_list<SqlValue> params) const;
  core::Result<void> InsertOutbox(SqlConnection& connection,
                                  const std::vector<OutboxMessage>& messages,
                                  std::int64_t now_ms) const;
  // Runs `UPDATE outbox SET <set> WHERE id IN (...)` for ids, in chunks of a fixed size (so that
  // the statement text, and its prepared statement, is always the same). set_params bind the ?s
  // in set.
  core::Result<void> UpdateOutboxRows(SqlConnection& connection, const std::string& set,
                                      const std::vector<SqlValue>& set_params,
                                      std::span<const std::int64_t> ids) const;
  core::Result<std::vector<int>> MigrateOn(SqlConnection& connection);

  static std::int64_t NowMs();

  const DbUrl url_;
  const Options options_;
  const std::string owner_;  // random per instance: the claimed_by of this store's outbox claims

  std::mutex pool_mutex_;
  std::condition_variable pool_returned_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  std::size_t open_ = 0;  // connections in idle_ plus those lent out
};

}  // namespace inkwell::db
