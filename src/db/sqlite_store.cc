#include "db/sqlite_store.h"

#include <chrono>

namespace inkwell::db {
namespace {

using core::ErrorCode;

// Version N is element N-1. Append only: a released migration never changes.
const std::vector<std::string>& Migrations() {
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
  };
  return migrations;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  auto database = SqliteDatabase::Open(path);
  if (!database) return tl::unexpected(database.error());
  if (auto migrated = database->Migrate(Migrations()); !migrated) {
    return tl::unexpected(migrated.error());
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*database)));
}

template <typename Body>
auto SqliteStore::InTransaction(Body&& body) -> decltype(body()) {
  if (auto begun = database_.Execute("BEGIN IMMEDIATE"); !begun) {
    return tl::unexpected(begun.error());
  }
  auto result = body();
  if (!result) {
    (void)database_.Execute("ROLLBACK");
    return result;
  }
  if (auto committed = database_.Execute("COMMIT"); !committed) {
    (void)database_.Execute("ROLLBACK");
    return tl::unexpected(committed.error());
  }
  return result;
}

core::Result<std::int64_t> SqliteStore::CreateUser(
    const NewUser& user,
    const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) {
  // Concurrent registrations share one commit (group commit): one fsync for all of them.
  std::int64_t created_id = 0;
  auto written = group_commit_.Run([&]() -> core::Result<void> {
    const std::int64_t now = NowMs();
    auto insert_user = database_.Prepare(
        "INSERT INTO users(name, email, password_hash, created_at_ms) VALUES (?, ?, ?, ?)");
    if (!insert_user) return tl::unexpected(insert_user.error());
    insert_user->Bind(1, user.name).Bind(2, user.email).Bind(3, user.password_hash).Bind(4, now);
    if (auto done = insert_user->Step(); !done) {
      if (done.error().code == ErrorCode::kConflict) {
        return core::Fail(ErrorCode::kConflict, "this e-mail address is already registered");
      }
      return tl::unexpected(done.error());
    }
    const std::int64_t user_id = database_.LastInsertId();
    auto insert_outbox = database_.Prepare(
        "INSERT INTO outbox(message_id, exchange, routing_key, type, body, traceparent,"
        " created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert_outbox) return tl::unexpected(insert_outbox.error());
    for (const OutboxMessage& message : outbox_for(user_id)) {
      insert_outbox->Bind(1, message.message_id)
          .Bind(2, message.exchange)
          .Bind(3, message.routing_key)
          .Bind(4, message.type)
          .Bind(5, message.body)
          .Bind(6, message.traceparent)
          .Bind(7, now);
      if (auto done = insert_outbox->Step(); !done) return tl::unexpected(done.error());
      if (auto reset = insert_outbox->Reset(); !reset) return tl::unexpected(reset.error());
    }
    created_id = user_id;
    return {};
  });
  if (!written) return tl::unexpected(written.error());
  return created_id;
}

core::Result<std::vector<OutboxRow>> SqliteStore::PendingOutbox(std::size_t limit) {
  std::lock_guard lock(mutex_);
  return SelectOutbox("sent_at_ms IS NULL AND next_attempt_at_ms <= ?1", limit);
}

core::Result<std::vector<OutboxRow>> SqliteStore::FailingOutbox(std::size_t limit) {
  std::lock_guard lock(mutex_);
  return SelectOutbox("sent_at_ms IS NULL AND last_error IS NOT NULL AND ?1 > 0", limit);
}

core::Result<std::vector<OutboxRow>> SqliteStore::SelectOutbox(const char* condition,
                                                               std::size_t limit) {
  auto select = database_.Prepare(
      std::string("SELECT id, message_id, exchange, routing_key, type, body, traceparent,"
                  " created_at_ms, attempts, COALESCE(last_error, '') FROM outbox WHERE ") +
      condition + " ORDER BY id LIMIT ?2");
  if (!select) return tl::unexpected(select.error());
  select->Bind(1, NowMs()).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxRow> rows;
  for (;;) {
    auto has_row = select->Step();
    if (!has_row) return tl::unexpected(has_row.error());
    if (!*has_row) break;
    OutboxRow row;
    row.id = select->Int(0);
    row.message = OutboxMessage{select->Text(1), select->Text(2), select->Text(3),
                                select->Text(4), select->Text(5), select->Text(6)};
    row.created_at_ms = select->Int(7);
    row.attempts = static_cast<int>(select->Int(8));
    row.last_error = select->Text(9);
    rows.push_back(std::move(row));
  }
  return rows;
}

core::Result<void> SqliteStore::MarkOutboxSent(std::span<const std::int64_t> ids) {
  if (ids.empty()) return {};
  std::lock_guard lock(mutex_);
  return InTransaction([&]() -> core::Result<void> {
    auto update = database_.Prepare("UPDATE outbox SET sent_at_ms = ?, attempts = attempts + 1,"
                                    " last_error = NULL WHERE id = ?");
    if (!update) return tl::unexpected(update.error());
    const std::int64_t now = NowMs();
    for (const std::int64_t id : ids) {
      update->Bind(1, now).Bind(2, id);
      if (auto done = update->Step(); !done) return tl::unexpected(done.error());
      if (auto reset = update->Reset(); !reset) return tl::unexpected(reset.error());
    }
    return {};
  });
}

core::Result<void> SqliteStore::RecordOutboxFailure(std::span<const std::int64_t> ids,
                                                    const std::string& reason) {
  if (ids.empty()) return {};
  std::lock_guard lock(mutex_);
  return InTransaction([&]() -> core::Result<void> {
    // Back off per row (1 s, 2 s, 4 s ... capped at 5 min) so that a message the broker keeps
    // refusing is retried, visibly, without a hot loop.
    auto update = database_.Prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
        " next_attempt_at_ms = ? + MIN(300000, 1000 * (1 << MIN(attempts, 9))) WHERE id = ?");
    if (!update) return tl::unexpected(update.error());
    const std::int64_t now = NowMs();
    for (const std::int64_t id : ids) {
      update->Bind(1, reason).Bind(2, now).Bind(3, id);
      if (auto done = update->Step(); !done) return tl::unexpected(done.error());
      if (auto reset = update->Reset(); !reset) return tl::unexpected(reset.error());
    }
    return {};
  });
}

core::Result<OutboxBacklog> SqliteStore::Backlog() {
  std::lock_guard lock(mutex_);
  auto select = database_.Prepare(
      "SELECT COUNT(*), COALESCE(MIN(created_at_ms), 0), COALESCE(SUM(last_error IS NOT NULL), 0)"
      " FROM outbox WHERE sent_at_ms IS NULL");
  if (!select) return tl::unexpected(select.error());
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  return OutboxBacklog{select->Int(0), select->Int(1), select->Int(2)};
}

core::Result<void> SqliteStore::Ping() {
  std::lock_guard lock(mutex_);
  auto select = database_.Prepare("SELECT 1");
  if (!select) return tl::unexpected(select.error());
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  return {};
}

core::Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  if (!url.starts_with("sqlite:")) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "INKWELL_DB_URL: '" + url.substr(0, url.find(':')) +
                          "' is not supported by this build; use sqlite:PATH");
  }
  auto store = SqliteStore::Open(url.substr(7));
  if (!store) return tl::unexpected(store.error());
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace inkwell::db
