// SqliteStore: users, e-mail confirmation and sessions.
#include "db/sqlite_store.h"

#include "db/sql_shapes.h"

namespace inkwell::db {

using core::ErrorCode;

namespace {

using sql_shapes::kUserColumns;

}  // namespace

core::Result<std::optional<User>> SqliteStore::SelectUser(const char* condition,
                                                          const Binder& bind) {
  auto select = database_.Prepare(std::string(kUserColumns) + condition);
  if (!select) return tl::unexpected(select.error());
  bind(*select);
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  if (!*has_row) return std::optional<User>();
  return sql_shapes::UserFrom(*select);
}

core::Result<std::int64_t> SqliteStore::CreateUser(
    const NewUser& user,
    const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) {
  std::int64_t created_id = 0;
  auto written = Write([&]() -> core::Result<void> {
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
    if (!user.confirmation_token_hash.empty()) {
      auto insert_token = database_.Prepare(
          "INSERT INTO confirmation_tokens(token_hash, user_id, expires_at_ms) VALUES (?, ?, ?)");
      if (!insert_token) return tl::unexpected(insert_token.error());
      insert_token->Bind(1, user.confirmation_token_hash)
          .Bind(2, user_id)
          .Bind(3, user.confirmation_expires_at_ms);
      if (auto done = insert_token->Step(); !done) return tl::unexpected(done.error());
    }
    if (auto outbox = InsertOutbox(outbox_for(user_id), now); !outbox) return outbox;
    created_id = user_id;
    return {};
  });
  if (!written) return tl::unexpected(written.error());
  return created_id;
}

core::Result<std::optional<User>> SqliteStore::FindUserByEmail(const std::string& email) {
  std::lock_guard lock(mutex_);
  return SelectUser("WHERE users.email = ?1 COLLATE NOCASE",
                    [&](SqliteDatabase::Statement& select) { select.Bind(1, email); });
}

core::Result<std::optional<User>> SqliteStore::FindUser(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return SelectUser("WHERE users.id = ?1",
                    [&](SqliteDatabase::Statement& select) { select.Bind(1, id); });
}

core::Result<void> SqliteStore::ReplaceConfirmationToken(std::int64_t user_id,
                                                         const std::string& token_hash,
                                                         std::int64_t expires_at_ms,
                                                         const std::vector<OutboxMessage>& outbox) {
  return Write([&]() -> core::Result<void> {
    if (auto exists = RequireUser(user_id); !exists) return exists;
    // Used tokens stay, so that an old link still reads "already used" rather than unknown.
    auto remove = database_.Prepare(
        "DELETE FROM confirmation_tokens WHERE user_id = ? AND used_at_ms IS NULL");
    if (!remove) return tl::unexpected(remove.error());
    remove->Bind(1, user_id);
    if (auto done = remove->Step(); !done) return tl::unexpected(done.error());
    auto insert = database_.Prepare(
        "INSERT INTO confirmation_tokens(token_hash, user_id, expires_at_ms) VALUES (?, ?, ?)");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, token_hash).Bind(2, user_id).Bind(3, expires_at_ms);
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    return InsertOutbox(outbox, NowMs());
  });
}

core::Result<User> SqliteStore::ConfirmUser(
    const std::string& token_hash, std::int64_t now_ms,
    const std::function<std::vector<OutboxMessage>(const User&)>& outbox_for) {
  User confirmed;
  auto written = Write([&]() -> core::Result<void> {
    auto token = database_.Prepare(
        "SELECT user_id, expires_at_ms, used_at_ms IS NOT NULL FROM confirmation_tokens"
        " WHERE token_hash = ?");
    if (!token) return tl::unexpected(token.error());
    token->Bind(1, token_hash);
    auto has_row = token->Step();
    if (!has_row) return tl::unexpected(has_row.error());
    if (!*has_row) return core::Fail(ErrorCode::kNotFound, "unknown confirmation link");
    const std::int64_t user_id = token->Int(0);
    if (token->Int(2) != 0) {
      return core::Fail(ErrorCode::kInvalidArgument, "this confirmation link was already used");
    }
    if (token->Int(1) <= now_ms) {
      return core::Fail(ErrorCode::kInvalidArgument, "this confirmation link has expired");
    }
    auto use =
        database_.Prepare("UPDATE confirmation_tokens SET used_at_ms = ? WHERE token_hash = ?");
    if (!use) return tl::unexpected(use.error());
    use->Bind(1, now_ms).Bind(2, token_hash);
    if (auto done = use->Step(); !done) return tl::unexpected(done.error());
    auto confirm = database_.Prepare(
        "UPDATE users SET confirmed_at_ms = ? WHERE id = ? AND confirmed_at_ms IS NULL");
    if (!confirm) return tl::unexpected(confirm.error());
    confirm->Bind(1, now_ms).Bind(2, user_id);
    if (auto done = confirm->Step(); !done) return tl::unexpected(done.error());
    auto user = SelectUser("WHERE users.id = ?1",
                           [&](SqliteDatabase::Statement& select) { select.Bind(1, user_id); });
    if (!user) return tl::unexpected(user.error());
    if (!*user) return core::Fail(ErrorCode::kNotFound, "no user " + std::to_string(user_id));
    confirmed = std::move(**user);
    return InsertOutbox(outbox_for(confirmed), NowMs());
  });
  if (!written) return tl::unexpected(written.error());
  return confirmed;
}

core::Result<void> SqliteStore::CreateSession(const std::string& session_hash, std::int64_t user_id,
                                              std::int64_t expires_at_ms) {
  return Write([&]() -> core::Result<void> {
    if (auto exists = RequireUser(user_id); !exists) return exists;
    auto insert = database_.Prepare(
        "INSERT INTO sessions(session_hash, user_id, created_at_ms, expires_at_ms)"
        " VALUES (?, ?, ?, ?)");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, session_hash).Bind(2, user_id).Bind(3, NowMs()).Bind(4, expires_at_ms);
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    return {};
  });
}

core::Result<std::optional<User>> SqliteStore::FindSession(const std::string& session_hash,
                                                           std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return SelectUser(
      "JOIN sessions ON sessions.user_id = users.id"
      " WHERE sessions.session_hash = ?1 AND sessions.expires_at_ms > ?2",
      [&](SqliteDatabase::Statement& select) { select.Bind(1, session_hash).Bind(2, now_ms); });
}

core::Result<void> SqliteStore::DeleteSession(const std::string& session_hash) {
  return Write([&]() -> core::Result<void> {
    auto remove = database_.Prepare("DELETE FROM sessions WHERE session_hash = ?");
    if (!remove) return tl::unexpected(remove.error());
    remove->Bind(1, session_hash);
    if (auto done = remove->Step(); !done) return tl::unexpected(done.error());
    return {};
  });
}

}  // namespace inkwell::db
