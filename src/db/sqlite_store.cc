#include "db/sqlite_store.h"

#include <array>
#include <random>

#include "core/log.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;

// A random 128-bit id, hex: tells this store's outbox claims from other instances'.
std::string RandomOwnerId() {
  std::random_device random;
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string id;
  for (int i = 0; i < 32; ++i) id.push_back(kHex[random() % kHex.size()]);
  return id;
}

}  // namespace

const std::vector<std::string>& SqliteStore::Migrations() {
  // Version N is element N-1. Append only: a released migration never changes.
  static const std::vector<std::string> migrations = {
      // 1: accounts and the transactional outbox.
      "CREATE TABLE users ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  name TEXT NOT NULL,"
      "  email TEXT NOT NULL,"
      "  password_hash TEXT NOT NULL,"
      "  created_at_ms INTEGER NOT NULL);"
      "CREATE UNIQUE INDEX users_email ON users(email COLLATE NOCASE);"
      "CREATE TABLE outbox ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  message_id TEXT NOT NULL UNIQUE,"
      "  exchange TEXT NOT NULL,"
      "  routing_key TEXT NOT NULL,"
      "  type TEXT NOT NULL,"
      "  body TEXT NOT NULL,"
      "  traceparent TEXT NOT NULL DEFAULT '',"
      "  created_at_ms INTEGER NOT NULL,"
      "  sent_at_ms INTEGER,"
      "  attempts INTEGER NOT NULL DEFAULT 0,"
      "  next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,"
      "  last_error TEXT);"
      "CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at_ms IS NULL",
      // 2: e-mail confirmation, sessions, content, and outbox claims for several relays.
      // Users who registered before confirmation existed count as confirmed.
      "ALTER TABLE users ADD COLUMN confirmed_at_ms INTEGER;"
      "UPDATE users SET confirmed_at_ms = created_at_ms;"
      "CREATE TABLE confirmation_tokens ("
      "  token_hash TEXT PRIMARY KEY,"
      "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
      "  expires_at_ms INTEGER NOT NULL,"
      "  used_at_ms INTEGER);"
      "CREATE INDEX confirmation_tokens_user ON confirmation_tokens(user_id);"
      "CREATE TABLE sessions ("
      "  session_hash TEXT PRIMARY KEY,"
      "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
      "  created_at_ms INTEGER NOT NULL,"
      "  expires_at_ms INTEGER NOT NULL);"
      "CREATE INDEX sessions_user ON sessions(user_id);"
      "CREATE TABLE pages ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  slug TEXT NOT NULL UNIQUE,"
      "  title TEXT NOT NULL,"
      "  body TEXT NOT NULL,"
      "  author_id INTEGER NOT NULL REFERENCES users(id),"
      "  created_at_ms INTEGER NOT NULL,"
      "  updated_at_ms INTEGER NOT NULL);"
      "CREATE INDEX pages_updated ON pages(updated_at_ms);"
      "CREATE TABLE posts ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  title TEXT NOT NULL,"
      "  body TEXT NOT NULL,"
      "  is_published INTEGER NOT NULL DEFAULT 0,"
      "  author_id INTEGER NOT NULL REFERENCES users(id),"
      "  created_at_ms INTEGER NOT NULL,"
      "  updated_at_ms INTEGER NOT NULL);"
      "CREATE INDEX posts_created ON posts(created_at_ms);"
      "CREATE TABLE comments ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
      "  author_id INTEGER NOT NULL REFERENCES users(id),"
      "  body TEXT NOT NULL,"
      "  created_at_ms INTEGER NOT NULL);"
      "CREATE INDEX comments_post ON comments(post_id, created_at_ms);"
      "ALTER TABLE outbox ADD COLUMN claimed_by TEXT;"
      "ALTER TABLE outbox ADD COLUMN claimed_until_ms INTEGER",
  };
  return migrations;
}

std::int64_t SqliteStore::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::Result<void> SqliteStore::CheckPaging(std::int64_t offset, std::int64_t limit) {
  if (offset < 0 || limit < 0) {
    return core::Fail(ErrorCode::kInvalidArgument, "offset and limit must not be negative");
  }
  return {};
}

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, std::chrono::milliseconds outbox_lease) {
  auto database = SqliteDatabase::Open(path);
  if (!database) return tl::unexpected(database.error());
  if (auto migrated = database->Migrate(Migrations()); !migrated) {
    return tl::unexpected(migrated.error());
  }
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(std::move(*database), RandomOwnerId(), outbox_lease));
  if (!path.empty() && path != ":memory:") {
    auto checkpointer = WalCheckpointer::Take(store->database_, path);
    if (checkpointer) {
      store->checkpointer_ = std::move(*checkpointer);
    } else {
      core::LogWarn("SQLite checkpoints stay in the commits (slower tail latency)",
                    {{"database", path}, {"error", checkpointer.error().message}});
    }
  }
  return store;
}

core::Result<void> SqliteStore::InTransaction(const char* begin,
                                              const std::function<core::Result<void>()>& body) {
  if (auto begun = database_.Execute(begin); !begun) return begun;
  auto result = body();
  if (!result) {
    (void)database_.Execute("ROLLBACK");
    return result;
  }
  if (auto committed = database_.Execute("COMMIT"); !committed) {
    (void)database_.Execute("ROLLBACK");
    return committed;
  }
  return {};
}

core::Result<void> SqliteStore::InUnsyncedTransaction(const std::function<core::Result<void>()>& body) {
  if (auto relaxed = database_.Execute("PRAGMA synchronous=NORMAL"); !relaxed) return relaxed;
  auto result = InTransaction("BEGIN IMMEDIATE", body);
  // Every other commit on this connection must stay durable: restoring is not optional.
  if (auto restored = database_.Execute("PRAGMA synchronous=FULL"); !restored) {
    core::LogError("restoring synchronous=FULL failed", {{"error", restored.error().message}});
    return core::Fail(core::ErrorCode::kInternal,
                      "SQLite: restoring synchronous=FULL failed: " + restored.error().message);
  }
  return result;
}

bool SqliteStore::SetOutboxListener(OutboxListener listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
  return true;
}

core::Result<void> SqliteStore::Write(const std::function<core::Result<void>()>& write) {
  bool is_listened;
  {
    std::lock_guard lock(listener_mutex_);
    is_listened = static_cast<bool>(listener_);
  }
  // Concurrent writers share one commit (group commit): one fsync for all of them.
  if (!is_listened) return group_commit_.Run(write);
  std::vector<OutboxRow> written;
  return group_commit_.Run(
      [&]() -> core::Result<void> {
        // The group commit's leader runs this with mutex_ held; the pointer is reset on every
        // way out, an exception included, before another write of the batch starts.
        struct Collect {
          std::vector<OutboxRow>*& slot;
          ~Collect() { slot = nullptr; }
        } collect{written_outbox_ = &written};
        auto result = write();
        if (!result) written.clear();  // rolled back to its savepoint
        return result;
      },
      // Handed over before the leader lets go of the connection: a claim (which also returns
      // this instance's rows) cannot read them first, publish them and have them settled
      // before the relay hears of them (it would then publish them again).
      [&] {
        if (written.empty()) return;
        std::lock_guard lock(listener_mutex_);
        // Unset meanwhile: the rows stay claimed by this instance, and its PendingOutbox
        // returns them (ReleaseOutboxClaims at shutdown gives them to the others).
        if (listener_) listener_(std::move(written));
      });
}

core::Result<void> SqliteStore::InsertOutbox(const std::vector<OutboxMessage>& messages,
                                             std::int64_t now_ms) {
  if (messages.empty()) return {};
  // Rows a listener will be handed are born claimed (the relay publishes them from memory, so
  // no other instance may take them meanwhile); otherwise claimed_by stays NULL.
  const bool is_handed = written_outbox_ != nullptr;
  auto insert = database_.Prepare(
      "INSERT INTO outbox(message_id, exchange, routing_key, type, body, traceparent,"
      " created_at_ms, claimed_by, claimed_until_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return tl::unexpected(insert.error());
  for (const OutboxMessage& message : messages) {
    insert->Bind(1, message.message_id)
        .Bind(2, message.exchange)
        .Bind(3, message.routing_key)
        .Bind(4, message.type)
        .Bind(5, message.body)
        .Bind(6, message.traceparent)
        .Bind(7, now_ms);
    if (is_handed) {
      insert->Bind(8, owner_).Bind(9, now_ms + outbox_lease_.count());
    } else {
      insert->BindNull(8).BindNull(9);
    }
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    if (auto reset = insert->Reset(); !reset) return tl::unexpected(reset.error());
    if (is_handed) {
      OutboxRow row;
      row.id = database_.LastInsertId();
      row.message = message;
      row.created_at_ms = now_ms;
      written_outbox_->push_back(std::move(row));
    }
  }
  return {};
}

core::Result<void> SqliteStore::RequireUser(std::int64_t id) {
  auto select = database_.Prepare("SELECT 1 FROM users WHERE id = ?");
  if (!select) return tl::unexpected(select.error());
  select->Bind(1, id);
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  if (!*has_row) return core::Fail(ErrorCode::kNotFound, "no user " + std::to_string(id));
  return {};
}

core::Result<void> SqliteStore::Ping() {
  std::lock_guard lock(mutex_);
  auto select = database_.Prepare("SELECT 1");
  if (!select) return tl::unexpected(select.error());
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  return {};
}

}  // namespace inkwell::db
