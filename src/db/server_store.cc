// ServerStore: the connection pool, transactions, migrations and the relay's outbox.
#include "db/server_store.h"

#include <algorithm>
#include <thread>

#include "core/ids.h"

namespace inkwell::db {

using core::ErrorCode;

namespace {

// Rows per `WHERE id IN (...)` statement: a fixed list length keeps one prepared statement.
constexpr std::size_t kIdChunk = 64;

// The migration lock: server-wide locks, so keyed by the database's name (one server may hold
// several inkwell databases). Taken on a connection without a statement timeout.
constexpr const char* kPostgresMigrationLock =
    "SELECT pg_advisory_lock(7361626, hashtext(current_database()))";
constexpr const char* kPostgresMigrationUnlock =
    "SELECT pg_advisory_unlock(7361626, hashtext(current_database()))";
constexpr const char* kMysqlMigrationLock =
    "SELECT GET_LOCK(CONCAT('inkwell.migrate.', DATABASE()), 120)";
constexpr const char* kMysqlMigrationUnlock =
    "SELECT RELEASE_LOCK(CONCAT('inkwell.migrate.', DATABASE()))";

std::string IdList(std::size_t count) {
  std::string list = "(";
  for (std::size_t i = 0; i < count; ++i) list += i == 0 ? "?" : ", ?";
  return list + ")";
}

}  // namespace

// ---------------------------------------------------------------- schema

const std::vector<std::vector<std::string>>& ServerStore::Migrations(DbUrl::Engine engine) {
  // The same tables as the SQLite engine's migrations 1 and 2, in one step: the server engines
  // started at that schema. email_key is the address lower-cased (ASCII), which the unique index
  // holds, as SQLite's COLLATE NOCASE does.
  static const std::vector<std::vector<std::string>> postgres = {
      {
          "CREATE TABLE users ("
          "  id BIGSERIAL PRIMARY KEY,"
          "  name TEXT NOT NULL,"
          "  email TEXT NOT NULL,"
          "  email_key TEXT NOT NULL UNIQUE,"
          "  password_hash TEXT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  confirmed_at_ms BIGINT)",
          "CREATE TABLE confirmation_tokens ("
          "  token_hash TEXT PRIMARY KEY,"
          "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
          "  expires_at_ms BIGINT NOT NULL,"
          "  used_at_ms BIGINT)",
          "CREATE INDEX confirmation_tokens_user ON confirmation_tokens(user_id)",
          "CREATE TABLE sessions ("
          "  session_hash TEXT PRIMARY KEY,"
          "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
          "  created_at_ms BIGINT NOT NULL,"
          "  expires_at_ms BIGINT NOT NULL)",
          "CREATE INDEX sessions_user ON sessions(user_id)",
          "CREATE TABLE pages ("
          "  id BIGSERIAL PRIMARY KEY,"
          "  slug TEXT NOT NULL UNIQUE,"
          "  title TEXT NOT NULL,"
          "  body TEXT NOT NULL,"
          "  author_id BIGINT NOT NULL REFERENCES users(id),"
          "  created_at_ms BIGINT NOT NULL,"
          "  updated_at_ms BIGINT NOT NULL)",
          "CREATE INDEX pages_updated ON pages(updated_at_ms)",
          "CREATE TABLE posts ("
          "  id BIGSERIAL PRIMARY KEY,"
          "  title TEXT NOT NULL,"
          "  body TEXT NOT NULL,"
          "  is_published SMALLINT NOT NULL DEFAULT 0,"
          "  author_id BIGINT NOT NULL REFERENCES users(id),"
          "  created_at_ms BIGINT NOT NULL,"
          "  updated_at_ms BIGINT NOT NULL)",
          "CREATE INDEX posts_created ON posts(created_at_ms)",
          "CREATE TABLE comments ("
          "  id BIGSERIAL PRIMARY KEY,"
          "  post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
          "  author_id BIGINT NOT NULL REFERENCES users(id),"
          "  body TEXT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL)",
          "CREATE INDEX comments_post ON comments(post_id, created_at_ms)",
          "CREATE TABLE outbox ("
          "  id BIGSERIAL PRIMARY KEY,"
          "  message_id TEXT NOT NULL UNIQUE,"
          "  exchange TEXT NOT NULL,"
          "  routing_key TEXT NOT NULL,"
          "  type TEXT NOT NULL,"
          "  body TEXT NOT NULL,"
          "  traceparent TEXT NOT NULL DEFAULT '',"
          "  created_at_ms BIGINT NOT NULL,"
          "  sent_at_ms BIGINT,"
          "  attempts INTEGER NOT NULL DEFAULT 0,"
          "  next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,"
          "  last_error TEXT,"
          "  claimed_by TEXT,"
          "  claimed_until_ms BIGINT)",
          "CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at_ms IS NULL",
      },
  };
  // InnoDB, utf8mb4. Keys that must compare byte for byte (hashes, slugs, message ids, the
  // lower-cased e-mail) are utf8mb4_nopad_bin (utf8mb4_bin ignores trailing spaces: 'about '
  // would find 'about'); long text is MEDIUMTEXT (TEXT stops at 64 KiB). IF NOT EXISTS: MariaDB
  // commits each DDL statement, so a migration that failed half-way can be run again.
  static const std::vector<std::vector<std::string>> mysql = {
      {
          "CREATE TABLE IF NOT EXISTS users ("
          "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          "  name TEXT NOT NULL,"
          "  email VARCHAR(254) NOT NULL,"
          "  email_key VARCHAR(254) COLLATE utf8mb4_nopad_bin NOT NULL UNIQUE,"
          "  password_hash TEXT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  confirmed_at_ms BIGINT NULL"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS confirmation_tokens ("
          "  token_hash VARCHAR(128) COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,"
          "  user_id BIGINT NOT NULL,"
          "  expires_at_ms BIGINT NOT NULL,"
          "  used_at_ms BIGINT NULL,"
          "  KEY confirmation_tokens_user (user_id),"
          "  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS sessions ("
          "  session_hash VARCHAR(128) COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,"
          "  user_id BIGINT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  expires_at_ms BIGINT NOT NULL,"
          "  KEY sessions_user (user_id),"
          "  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS pages ("
          "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          "  slug VARCHAR(255) COLLATE utf8mb4_nopad_bin NOT NULL UNIQUE,"
          "  title TEXT NOT NULL,"
          "  body MEDIUMTEXT NOT NULL,"
          "  author_id BIGINT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  updated_at_ms BIGINT NOT NULL,"
          "  KEY pages_updated (updated_at_ms),"
          "  FOREIGN KEY (author_id) REFERENCES users(id)"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS posts ("
          "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          "  title TEXT NOT NULL,"
          "  body MEDIUMTEXT NOT NULL,"
          "  is_published SMALLINT NOT NULL DEFAULT 0,"
          "  author_id BIGINT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  updated_at_ms BIGINT NOT NULL,"
          "  KEY posts_created (created_at_ms),"
          "  FOREIGN KEY (author_id) REFERENCES users(id)"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS comments ("
          "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          "  post_id BIGINT NOT NULL,"
          "  author_id BIGINT NOT NULL,"
          "  body TEXT NOT NULL,"
          "  created_at_ms BIGINT NOT NULL,"
          "  KEY comments_post (post_id, created_at_ms),"
          "  FOREIGN KEY (post_id) REFERENCES posts(id) ON DELETE CASCADE,"
          "  FOREIGN KEY (author_id) REFERENCES users(id)"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
          "CREATE TABLE IF NOT EXISTS outbox ("
          "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          "  message_id VARCHAR(255) COLLATE utf8mb4_nopad_bin NOT NULL UNIQUE,"
          "  exchange VARCHAR(255) NOT NULL,"
          "  routing_key VARCHAR(255) NOT NULL,"
          "  type VARCHAR(255) NOT NULL,"
          "  body MEDIUMTEXT NOT NULL,"
          "  traceparent VARCHAR(255) NOT NULL DEFAULT '',"
          "  created_at_ms BIGINT NOT NULL,"
          "  sent_at_ms BIGINT NULL,"
          "  attempts INT NOT NULL DEFAULT 0,"
          "  next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,"
          "  last_error TEXT NULL,"
          "  claimed_by VARCHAR(64) COLLATE utf8mb4_nopad_bin NULL,"
          "  claimed_until_ms BIGINT NULL,"
          "  KEY outbox_pending (sent_at_ms, id)"
          ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
      },
  };
  return engine == DbUrl::Engine::kPostgresql ? postgres : mysql;
}

// ---------------------------------------------------------------- opening and the pool

ServerStore::ServerStore(DbUrl url, const Options& options, std::string owner)
    : url_(std::move(url)), options_(options), owner_(std::move(owner)) {}

std::int64_t ServerStore::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::Result<std::unique_ptr<ServerStore>> ServerStore::Open(const DbUrl& url,
                                                             const Options& options,
                                                             bool migrate) {
  if (url.engine == DbUrl::Engine::kSqlite) {
    return core::Fail(ErrorCode::kInvalidArgument, "ServerStore serves PostgreSQL and MariaDB only");
  }
  std::unique_ptr<ServerStore> store(new ServerStore(url, options, core::RandomHex(16)));
  // The first connection tells a wrong URL, password or database at once, before any request.
  auto connection = store->Connect();
  if (!connection) return tl::unexpected(connection.error());
  {
    std::lock_guard lock(store->pool_mutex_);
    store->idle_.push_back(std::move(*connection));
    store->open_ = 1;
  }
  if (migrate) {
    if (auto migrated = store->Migrate(); !migrated) return tl::unexpected(migrated.error());
  }
  return store;
}

core::Result<std::unique_ptr<SqlConnection>> ServerStore::Connect() const {
  return IsPostgres() ? ConnectPostgres(url_, options_.connect)
                      : ConnectMysql(url_, options_.connect);
}

ServerStore::Lease::~Lease() {
  if (store_ == nullptr || connection_ == nullptr) return;
  std::vector<std::unique_ptr<SqlConnection>> closing;  // closed after the lock: socket I/O
  {
    std::lock_guard lock(store_->pool_mutex_);
    if (connection_->IsUsable() && !is_discarded_) {
      store_->idle_.push_back(std::move(connection_));
      store_->pool_returned_.notify_one();
      return;
    }
    if (connection_->IsUsable()) {  // discarded: only this one goes
      --store_->open_;
      store_->pool_returned_.notify_one();
      closing.push_back(std::move(connection_));
      return;  // closed after the lock is released
    }
    // A lost connection usually means the server restarted: its idle siblings are dead too.
    // Close them all, so that the next calls open fresh ones instead of each finding out.
    closing = std::move(store_->idle_);
    store_->idle_.clear();
    store_->open_ -= 1 + closing.size();
    store_->pool_returned_.notify_all();  // every waiter may now open a connection
  }
  closing.push_back(std::move(connection_));
}

core::Result<ServerStore::Lease> ServerStore::Acquire() {
  std::unique_lock lock(pool_mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  while (idle_.empty() && open_ >= options_.pool_size) {
    if (pool_returned_.wait_until(lock, deadline) == std::cv_status::timeout &&
        idle_.empty() && open_ >= options_.pool_size) {
      return core::Fail(ErrorCode::kUnavailable,
                        "all " + std::to_string(options_.pool_size) +
                            " database connections are busy; try again later");
    }
  }
  if (!idle_.empty()) {
    std::unique_ptr<SqlConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }
  ++open_;  // reserve the slot, connect without holding the lock
  lock.unlock();
  core::Result<std::unique_ptr<SqlConnection>> connection =
      core::Fail(ErrorCode::kInternal, "no connection attempt");
  try {
    connection = Connect();
  } catch (const std::exception& error) {
    connection = core::Fail(ErrorCode::kInternal, std::string("connecting: ") + error.what());
  }
  if (!connection) {
    lock.lock();
    --open_;
    pool_returned_.notify_one();
    return tl::unexpected(connection.error());
  }
  return Lease(*this, std::move(*connection));
}

namespace {

// Runs body, turning an exception (a bug: a malformed row, a throwing callback) into kInternal,
// so that the caller can roll back instead of leaving the connection inside a transaction.
core::Result<void> Guarded(const std::function<core::Result<void>(SqlConnection&)>& body,
                           SqlConnection& sql) {
  try {
    return body(sql);
  } catch (const std::exception& error) {
    return core::Fail(ErrorCode::kInternal, std::string("database work threw: ") + error.what());
  }
}

}  // namespace

core::Result<void> ServerStore::Run(const Body& body) {
  for (int attempt = 1;; ++attempt) {
    auto connection = Acquire();
    if (!connection) return tl::unexpected(connection.error());
    auto result = Guarded(body, **connection);
    // A read that found its pooled connection dead runs once more on a fresh one.
    if (result || (*connection)->IsUsable() || attempt == 2) return result;
  }
}

core::Result<void> ServerStore::InTransaction(const Body& body) {
  for (int attempt = 1;; ++attempt) {
    auto connection = Acquire();
    if (!connection) return tl::unexpected(connection.error());
    SqlConnection& sql = **connection;
    bool stale = false;  // the connection died before this transaction did anything
    auto result = [&]() -> core::Result<void> {
      if (auto begun = sql.Execute("BEGIN"); !begun) {
        stale = !sql.IsUsable();
        return begun;
      }
      if (auto done = Guarded(body, sql); !done) return done;
      return sql.Execute("COMMIT");
    }();
    if (result) return result;
    // Retried: a deadlock or serialization failure (the server rolled it all back), or a pooled
    // connection found dead at BEGIN. Never a failure after that: a lost COMMIT may have
    // committed, and running the transaction again could write it twice.
    const bool retry = (sql.LastErrorRetryable() || stale) && attempt < kMaxAttempts;
    if (sql.IsUsable() && !sql.Execute("ROLLBACK")) {
      connection->Discard();  // never back to the pool in the middle of a transaction
    }
    if (!retry) return result;
    // Deadlock victims retry after a short, growing pause so the winner can finish.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
  }
}

core::Result<void> ServerStore::Ping() {
  return Run([](SqlConnection& sql) -> core::Result<void> {
    auto row = sql.Query("SELECT 1", {});
    if (!row) return tl::unexpected(row.error());
    return {};
  });
}

// ---------------------------------------------------------------- migrations

core::Result<SchemaStatus> ServerStore::Status() {
  SchemaStatus status;
  status.engine = std::string(EngineName(url_.engine));
  status.latest = static_cast<int>(Migrations(url_.engine).size());
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto table = sql.Query(IsPostgres() ? "SELECT COUNT(*) FROM information_schema.tables"
                                          " WHERE table_schema = current_schema()"
                                          " AND table_name = 'schema_migrations'"
                                        : "SELECT COUNT(*) FROM information_schema.tables"
                                          " WHERE table_schema = DATABASE()"
                                          " AND table_name = 'schema_migrations'",
                           {});
    if (!table) return tl::unexpected(table.error());
    if (table->rows.at(0).Int(0) == 0) return {};
    auto version = sql.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {});
    if (!version) return tl::unexpected(version.error());
    status.current = static_cast<int>(version->rows.at(0).Int(0));
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return status;
}

core::Result<std::vector<int>> ServerStore::Migrate() {
  // A connection of its own without a statement timeout: waiting for the lock, and a migration
  // on a big table, may take longer than any request should.
  ConnectOptions unbounded = options_.connect;
  unbounded.statement_timeout = std::chrono::milliseconds(0);
  auto connection = IsPostgres() ? ConnectPostgres(url_, unbounded) : ConnectMysql(url_, unbounded);
  if (!connection) return tl::unexpected(connection.error());
  SqlConnection& sql = **connection;
  // A session-level lock on the server: a second instance starting at the same moment waits
  // here, then finds nothing left to apply.
  auto locked = sql.Query(IsPostgres() ? kPostgresMigrationLock : kMysqlMigrationLock, {});
  if (!locked) return tl::unexpected(locked.error());
  if (!IsPostgres() && locked->rows.at(0).Int(0) != 1) {
    return core::Fail(ErrorCode::kUnavailable,
                      "another instance has held the migration lock for 120 s; try again");
  }
  auto applied = MigrateOn(sql);
  // The lock also ends with the connection, closed here.
  if (sql.IsUsable()) (void)sql.Query(IsPostgres() ? kPostgresMigrationUnlock : kMysqlMigrationUnlock, {});
  return applied;
}

core::Result<std::vector<int>> ServerStore::MigrateOn(SqlConnection& sql) {
  if (auto created = sql.Execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 " version INTEGER NOT NULL PRIMARY KEY,"
                                 " applied_at_ms BIGINT NOT NULL)");
      !created) {
    return tl::unexpected(created.error());
  }
  auto current = sql.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {});
  if (!current) return tl::unexpected(current.error());
  const auto& migrations = Migrations(url_.engine);
  std::vector<int> applied;
  for (auto version = static_cast<std::size_t>(current->rows.at(0).Int(0));
       version < migrations.size(); ++version) {
    const int number = static_cast<int>(version + 1);
    auto fail = [&](const core::Error& error) {
      return core::Fail(error.code, "database migration " + std::to_string(number) + " (" +
                                        std::string(EngineName(url_.engine)) +
                                        ") failed: " + error.message);
    };
    // PostgreSQL runs DDL in a transaction: a failed migration leaves nothing behind. MariaDB
    // commits each DDL statement by itself; a failure there names the migration to repair.
    if (IsPostgres()) {
      if (auto begun = sql.Execute("BEGIN"); !begun) return fail(begun.error());
    }
    for (const std::string& statement : migrations[version]) {
      if (auto done = sql.Execute(statement); !done) {
        if (IsPostgres() && sql.IsUsable()) (void)sql.Execute("ROLLBACK");
        return fail(done.error());
      }
    }
    auto recorded = sql.Query("INSERT INTO schema_migrations(version, applied_at_ms) VALUES (?, ?)",
                              {std::int64_t{number}, NowMs()});
    if (!recorded) {
      if (IsPostgres() && sql.IsUsable()) (void)sql.Execute("ROLLBACK");
      return fail(recorded.error());
    }
    if (IsPostgres()) {
      if (auto committed = sql.Execute("COMMIT"); !committed) {
        if (sql.IsUsable()) (void)sql.Execute("ROLLBACK");
        return fail(committed.error());
      }
    }
    applied.push_back(number);
  }
  return applied;
}

// ---------------------------------------------------------------- shared helpers

core::Result<std::int64_t> ServerStore::Insert(SqlConnection& sql, const std::string& statement,
                                               std::initializer_list<SqlValue> params) const {
  if (IsPostgres()) {
    auto inserted = sql.Query(statement + " RETURNING id", params);
    if (!inserted) return tl::unexpected(inserted.error());
    if (inserted->rows.empty()) return core::Fail(ErrorCode::kInternal, "INSERT returned no id");
    return inserted->rows.front().Int(0);
  }
  auto inserted = sql.Query(statement, params);
  if (!inserted) return tl::unexpected(inserted.error());
  return inserted->last_insert_id;
}

core::Result<void> ServerStore::InsertOutbox(SqlConnection& sql,
                                             const std::vector<OutboxMessage>& messages,
                                             std::int64_t now_ms) const {
  for (const OutboxMessage& message : messages) {
    auto inserted = sql.Query(
        "INSERT INTO outbox(message_id, exchange, routing_key, type, body, traceparent,"
        " created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {message.message_id, message.exchange, message.routing_key, message.type, message.body,
         message.traceparent, now_ms});
    if (!inserted) return tl::unexpected(inserted.error());
  }
  return {};
}

core::Result<void> ServerStore::UpdateOutboxRows(SqlConnection& sql, const std::string& set,
                                                 const std::vector<SqlValue>& set_params,
                                                 std::span<const std::int64_t> ids) const {
  const std::string statement = "UPDATE outbox SET " + set + " WHERE id IN " + IdList(kIdChunk);
  std::vector<SqlValue> params;
  for (std::size_t start = 0; start < ids.size(); start += kIdChunk) {
    params = set_params;
    const std::size_t end = std::min(ids.size(), start + kIdChunk);
    for (std::size_t i = start; i < start + kIdChunk; ++i) {
      params.emplace_back(ids[std::min(i, end - 1)]);  // pad with the chunk's last id
    }
    if (auto updated = sql.Query(statement, params); !updated) {
      return tl::unexpected(updated.error());
    }
  }
  return {};
}

// ---------------------------------------------------------------- outbox (the relay's side)

namespace {

constexpr const char* kOutboxColumns =
    "SELECT id, message_id, exchange, routing_key, type, body, traceparent, created_at_ms,"
    " attempts, COALESCE(last_error, '') FROM outbox WHERE ";

std::vector<OutboxRow> OutboxRowsFrom(const SqlResult& result) {
  std::vector<OutboxRow> rows;
  rows.reserve(result.rows.size());
  for (const SqlRow& row : result.rows) {
    OutboxRow outbox;
    outbox.id = row.Int(0);
    outbox.message = OutboxMessage{row.Text(1), row.Text(2), row.Text(3),
                                   row.Text(4), row.Text(5), row.Text(6)};
    outbox.created_at_ms = row.Int(7);
    outbox.attempts = static_cast<int>(row.Int(8));
    outbox.last_error = row.Text(9);
    rows.push_back(std::move(outbox));
  }
  return rows;
}

}  // namespace

core::Result<std::vector<OutboxRow>> ServerStore::PendingOutboxAfter(std::size_t limit,
                                                                     std::int64_t after_id) {
  if (limit == 0) return std::vector<OutboxRow>();
  std::vector<OutboxRow> claimed;
  // Lease times come from the database server's clock, not this host's: instances on hosts
  // whose clocks disagree must still agree on whether a lease has run out.
  const std::string now = NowSql();
  auto done = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    // SKIP LOCKED: rows another relay is claiming right now are passed over, not waited for;
    // the lease keeps them apart after that transaction commits.
    auto rows = sql.Query(
        std::string(kOutboxColumns) + "sent_at_ms IS NULL AND id > ? AND next_attempt_at_ms <= " +
            now + " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until_ms <= " + now +
            ") ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
        {after_id, owner_, static_cast<std::int64_t>(limit)});
    if (!rows) return tl::unexpected(rows.error());
    claimed = OutboxRowsFrom(*rows);
    std::vector<std::int64_t> ids;
    ids.reserve(claimed.size());
    for (const OutboxRow& row : claimed) ids.push_back(row.id);
    return UpdateOutboxRows(sql, "claimed_by = ?, claimed_until_ms = " + now + " + ?",
                            {owner_, static_cast<std::int64_t>(options_.outbox_lease.count())},
                            ids);
  });
  if (!done) return tl::unexpected(done.error());
  return claimed;
}

core::Result<std::vector<OutboxRow>> ServerStore::FailingOutbox(std::size_t limit) {
  std::vector<OutboxRow> rows;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto result = sql.Query(std::string(kOutboxColumns) +
                                "sent_at_ms IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT ?",
                            {static_cast<std::int64_t>(limit)});
    if (!result) return tl::unexpected(result.error());
    rows = OutboxRowsFrom(*result);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return rows;
}

core::Result<void> ServerStore::MarkOutboxSent(std::span<const std::int64_t> ids) {
  if (ids.empty()) return {};
  return InTransaction([&](SqlConnection& sql) {
    return UpdateOutboxRows(sql, "sent_at_ms = ?, attempts = attempts + 1, last_error = NULL",
                            {NowMs()}, ids);
  });
}

core::Result<void> ServerStore::RecordOutboxFailure(std::span<const std::int64_t> ids,
                                                    const std::string& reason) {
  if (ids.empty()) return {};
  // Back off per row (1 s, 2 s, 4 s ... capped at 5 min), as the SQLite engine does, on the
  // server's clock (as the lease). The claim goes (if it is still ours) so that whichever relay
  // is free when the backoff ends may take the row. MariaDB evaluates SET left to right with
  // the new values, PostgreSQL with the old ones: each column is read before it is assigned,
  // so both compute the same.
  return InTransaction([&](SqlConnection& sql) {
    return UpdateOutboxRows(
        sql,
        std::string("next_attempt_at_ms = ") + NowSql() +
            " + LEAST(300000, 1000 * (1 << LEAST(attempts, 9))),"
            " attempts = attempts + 1, last_error = ?,"
            " claimed_until_ms = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_until_ms END,"
            " claimed_by = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_by END",
        {reason, owner_, owner_}, ids);
  });
}

core::Result<void> ServerStore::ReleaseOutboxClaims() {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    auto released = sql.Query(
        "UPDATE outbox SET claimed_by = NULL, claimed_until_ms = NULL"
        " WHERE sent_at_ms IS NULL AND claimed_by = ?",
        {owner_});
    if (!released) return tl::unexpected(released.error());
    return {};
  });
}

core::Result<OutboxBacklog> ServerStore::Backlog() {
  OutboxBacklog backlog;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto row = sql.Query(
        "SELECT COUNT(*), COALESCE(MIN(created_at_ms), 0),"
        " COALESCE(SUM(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END), 0)"
        " FROM outbox WHERE sent_at_ms IS NULL",
        {});
    if (!row) return tl::unexpected(row.error());
    const SqlRow& values = row->rows.at(0);
    backlog = OutboxBacklog{values.Int(0), values.Int(1), values.Int(2)};
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return backlog;
}

}  // namespace inkwell::db
