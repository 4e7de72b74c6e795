// ServerStore: accounts, sessions, pages, posts and comments. Each mutation is one
// transaction with its outbox rows; reads of one row run without a transaction, listings read
// their count and their items in one (REPEATABLE READ on PostgreSQL would be needed for one
// snapshot; READ COMMITTED may let the total drift by a concurrent write, as on a busy site it
// would a moment later anyway).
#include "db/server_store.h"

#include <cctype>

#include "db/sql_shapes.h"

namespace inkwell::db {

using core::ErrorCode;

namespace {

// The unique key of an address: lower-cased in ASCII only, as SQLite's COLLATE NOCASE compares.
std::string EmailKey(const std::string& email) {
  std::string key = email;
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

using sql_shapes::kCommentColumns;
using sql_shapes::kPageColumns;
using sql_shapes::kPostColumns;
using sql_shapes::kUserColumns;
constexpr auto UserFrom = sql_shapes::UserFrom<SqlRow>;
constexpr auto PageFrom = sql_shapes::PageFrom<SqlRow>;
constexpr auto PostFrom = sql_shapes::PostFrom<SqlRow>;
constexpr auto CommentFrom = sql_shapes::CommentFrom<SqlRow>;

// The first row of a query as T, or nullopt.
template <typename T>
core::Result<std::optional<T>> SelectOne(SqlConnection& sql, const std::string& statement,
                                         std::initializer_list<SqlValue> params,
                                         T (*from)(const SqlRow&)) {
  auto result = sql.Query(statement, params);
  if (!result) return tl::unexpected(result.error());
  if (result->rows.empty()) return std::optional<T>();
  return std::optional<T>(from(result->rows.front()));
}

template <typename T>
core::Result<void> ReadListing(SqlConnection& sql, const std::string& count,
                               const std::string& items, std::initializer_list<SqlValue> count_params,
                               std::initializer_list<SqlValue> item_params,
                               T (*from)(const SqlRow&), Listing<T>& listing) {
  auto total = sql.Query(count, count_params);
  if (!total) return tl::unexpected(total.error());
  listing.total = total->rows.at(0).Int(0);
  auto rows = sql.Query(items, item_params);
  if (!rows) return tl::unexpected(rows.error());
  listing.items.clear();
  for (const SqlRow& row : rows->rows) listing.items.push_back(from(row));
  return {};
}

core::Result<void> CheckPaging(std::int64_t offset, std::int64_t limit) {
  if (offset < 0 || limit < 0) {
    return core::Fail(ErrorCode::kInvalidArgument, "offset and limit must not be negative");
  }
  return {};
}

// kNotFound unless a user with this id exists; the share lock (`for_share`) keeps it from being
// deleted before the caller's transaction commits.
core::Result<void> RequireUser(SqlConnection& sql, std::int64_t id, const char* for_share) {
  auto row = sql.Query(std::string("SELECT 1 FROM users WHERE id = ?") + for_share, {id});
  if (!row) return tl::unexpected(row.error());
  if (row->rows.empty()) return core::Fail(ErrorCode::kNotFound, "no user " + std::to_string(id));
  return {};
}

core::Error SlugTaken(const std::string& slug) {
  return core::Error{ErrorCode::kConflict, "the slug '" + slug + "' is taken"};
}

core::Error NoPost(std::int64_t id) {
  return core::Error{ErrorCode::kNotFound, "no post " + std::to_string(id)};
}

}  // namespace

// ---------------------------------------------------------------- accounts

core::Result<std::int64_t> ServerStore::CreateUser(
    const NewUser& user,
    const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) {
  std::int64_t created_id = 0;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    const std::int64_t now = NowMs();
    auto id = Insert(sql,
                     "INSERT INTO users(name, email, email_key, password_hash, created_at_ms)"
                     " VALUES (?, ?, ?, ?, ?)",
                     {user.name, user.email, EmailKey(user.email), user.password_hash, now});
    if (!id) {
      if (id.error().code == ErrorCode::kConflict) {
        return core::Fail(ErrorCode::kConflict, "this e-mail address is already registered");
      }
      return tl::unexpected(id.error());
    }
    if (!user.confirmation_token_hash.empty()) {
      auto token = sql.Query(
          "INSERT INTO confirmation_tokens(token_hash, user_id, expires_at_ms) VALUES (?, ?, ?)",
          {user.confirmation_token_hash, *id, user.confirmation_expires_at_ms});
      if (!token) return tl::unexpected(token.error());
    }
    if (auto outbox = InsertOutbox(sql, outbox_for(*id), now); !outbox) return outbox;
    created_id = *id;
    return {};
  });
  if (!written) return tl::unexpected(written.error());
  return created_id;
}

core::Result<std::optional<User>> ServerStore::FindUserByEmail(const std::string& email) {
  std::optional<User> found;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto user = SelectOne(sql, std::string(kUserColumns) + "WHERE users.email_key = ?",
                          {EmailKey(email)}, UserFrom);
    if (!user) return tl::unexpected(user.error());
    found = std::move(*user);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return found;
}

core::Result<std::optional<User>> ServerStore::FindUser(std::int64_t id) {
  std::optional<User> found;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto user = SelectOne(sql, std::string(kUserColumns) + "WHERE users.id = ?", {id}, UserFrom);
    if (!user) return tl::unexpected(user.error());
    found = std::move(*user);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return found;
}

core::Result<void> ServerStore::ReplaceConfirmationToken(std::int64_t user_id,
                                                         const std::string& token_hash,
                                                         std::int64_t expires_at_ms,
                                                         const std::vector<OutboxMessage>& outbox) {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    if (auto exists = RequireUser(sql, user_id, ForShare()); !exists) return exists;
    // Used tokens stay, so that an old link still reads "already used" rather than unknown.
    auto removed = sql.Query(
        "DELETE FROM confirmation_tokens WHERE user_id = ? AND used_at_ms IS NULL", {user_id});
    if (!removed) return tl::unexpected(removed.error());
    auto inserted = sql.Query(
        "INSERT INTO confirmation_tokens(token_hash, user_id, expires_at_ms) VALUES (?, ?, ?)",
        {token_hash, user_id, expires_at_ms});
    if (!inserted) return tl::unexpected(inserted.error());
    return InsertOutbox(sql, outbox, NowMs());
  });
}

core::Result<User> ServerStore::ConfirmUser(
    const std::string& token_hash, std::int64_t now_ms,
    const std::function<std::vector<OutboxMessage>(const User&)>& outbox_for) {
  User confirmed;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    // FOR UPDATE: two clicks on one link at once — the second waits, then reads "already used".
    auto token = sql.Query(
        "SELECT user_id, expires_at_ms, CASE WHEN used_at_ms IS NULL THEN 0 ELSE 1 END"
        " FROM confirmation_tokens WHERE token_hash = ? FOR UPDATE",
        {token_hash});
    if (!token) return tl::unexpected(token.error());
    if (token->rows.empty()) return core::Fail(ErrorCode::kNotFound, "unknown confirmation link");
    const SqlRow& row = token->rows.front();
    const std::int64_t user_id = row.Int(0);
    if (row.Int(2) != 0) {
      return core::Fail(ErrorCode::kInvalidArgument, "this confirmation link was already used");
    }
    if (row.Int(1) <= now_ms) {
      return core::Fail(ErrorCode::kInvalidArgument, "this confirmation link has expired");
    }
    auto used = sql.Query("UPDATE confirmation_tokens SET used_at_ms = ? WHERE token_hash = ?",
                          {now_ms, token_hash});
    if (!used) return tl::unexpected(used.error());
    auto confirm = sql.Query(
        "UPDATE users SET confirmed_at_ms = ? WHERE id = ? AND confirmed_at_ms IS NULL",
        {now_ms, user_id});
    if (!confirm) return tl::unexpected(confirm.error());
    auto user =
        SelectOne(sql, std::string(kUserColumns) + "WHERE users.id = ?", {user_id}, UserFrom);
    if (!user) return tl::unexpected(user.error());
    if (!*user) return core::Fail(ErrorCode::kNotFound, "no user " + std::to_string(user_id));
    confirmed = std::move(**user);
    return InsertOutbox(sql, outbox_for(confirmed), NowMs());
  });
  if (!written) return tl::unexpected(written.error());
  return confirmed;
}

core::Result<void> ServerStore::CreateSession(const std::string& session_hash,
                                              std::int64_t user_id, std::int64_t expires_at_ms) {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    if (auto exists = RequireUser(sql, user_id, ForShare()); !exists) return exists;
    auto inserted = sql.Query(
        "INSERT INTO sessions(session_hash, user_id, created_at_ms, expires_at_ms)"
        " VALUES (?, ?, ?, ?)",
        {session_hash, user_id, NowMs(), expires_at_ms});
    if (!inserted) return tl::unexpected(inserted.error());
    return {};
  });
}

core::Result<std::optional<User>> ServerStore::FindSession(const std::string& session_hash,
                                                           std::int64_t now_ms) {
  std::optional<User> found;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto user = SelectOne(sql,
                          std::string(kUserColumns) +
                              "JOIN sessions ON sessions.user_id = users.id"
                              " WHERE sessions.session_hash = ? AND sessions.expires_at_ms > ?",
                          {session_hash, now_ms}, UserFrom);
    if (!user) return tl::unexpected(user.error());
    found = std::move(*user);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return found;
}

core::Result<void> ServerStore::DeleteSession(const std::string& session_hash) {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    auto removed = sql.Query("DELETE FROM sessions WHERE session_hash = ?", {session_hash});
    if (!removed) return tl::unexpected(removed.error());
    return {};
  });
}

// ---------------------------------------------------------------- pages

core::Result<Page> ServerStore::CreatePage(
    std::int64_t author_id, const PageInput& input,
    const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) {
  Page created;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    if (auto exists = RequireUser(sql, author_id, ForShare()); !exists) return exists;
    const std::int64_t now = NowMs();
    auto id = Insert(sql,
                     "INSERT INTO pages(slug, title, body, author_id, created_at_ms, updated_at_ms)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     {input.slug, input.title, input.body, author_id, now, now});
    if (!id) {
      // The author exists, so the one constraint left to violate is the slug's.
      if (id.error().code == ErrorCode::kConflict) return tl::unexpected(SlugTaken(input.slug));
      return tl::unexpected(id.error());
    }
    auto page = SelectOne(sql, std::string(kPageColumns) + "WHERE pages.id = ?", {*id}, PageFrom);
    if (!page) return tl::unexpected(page.error());
    if (!*page) return core::Fail(ErrorCode::kInternal, "page " + std::to_string(*id) + " vanished");
    created = std::move(**page);
    return InsertOutbox(sql, outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<std::optional<Page>> ServerStore::FindPage(const std::string& slug) {
  std::optional<Page> found;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto page = SelectOne(sql, std::string(kPageColumns) + "WHERE pages.slug = ?", {slug}, PageFrom);
    if (!page) return tl::unexpected(page.error());
    found = std::move(*page);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return found;
}

core::Result<Listing<Page>> ServerStore::ListPages(std::int64_t offset, std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  Listing<Page> listing;
  auto read = InTransaction([&](SqlConnection& sql) {
    return ReadListing(sql, "SELECT COUNT(*) FROM pages",
                       std::string(kPageColumns) +
                           "ORDER BY pages.updated_at_ms DESC, pages.id DESC LIMIT ? OFFSET ?",
                       {}, {limit, offset}, PageFrom, listing);
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

core::Result<Page> ServerStore::UpdatePage(
    std::int64_t id, const PageInput& input,
    const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) {
  Page updated;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    const std::int64_t now = NowMs();
    auto update = sql.Query(
        "UPDATE pages SET slug = ?, title = ?, body = ?, updated_at_ms = ? WHERE id = ?",
        {input.slug, input.title, input.body, now, id});
    if (!update) {
      if (update.error().code == ErrorCode::kConflict) return tl::unexpected(SlugTaken(input.slug));
      return tl::unexpected(update.error());
    }
    // Not affected_rows: MariaDB counts only rows whose values changed.
    auto page = SelectOne(sql, std::string(kPageColumns) + "WHERE pages.id = ?", {id}, PageFrom);
    if (!page) return tl::unexpected(page.error());
    if (!*page) return core::Fail(ErrorCode::kNotFound, "no page " + std::to_string(id));
    updated = std::move(**page);
    return InsertOutbox(sql, outbox_for(updated), now);
  });
  if (!written) return tl::unexpected(written.error());
  return updated;
}

core::Result<void> ServerStore::DeletePage(std::int64_t id,
                                           const std::vector<OutboxMessage>& outbox) {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    auto removed = sql.Query("DELETE FROM pages WHERE id = ?", {id});
    if (!removed) return tl::unexpected(removed.error());
    if (removed->affected_rows == 0) {
      return core::Fail(ErrorCode::kNotFound, "no page " + std::to_string(id));
    }
    return InsertOutbox(sql, outbox, NowMs());
  });
}

// ---------------------------------------------------------------- posts and comments

core::Result<Post> ServerStore::CreatePost(
    std::int64_t author_id, const PostInput& input,
    const std::function<std::vector<OutboxMessage>(const Post&)>& outbox_for) {
  Post created;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    if (auto exists = RequireUser(sql, author_id, ForShare()); !exists) return exists;
    const std::int64_t now = NowMs();
    auto id = Insert(
        sql,
        "INSERT INTO posts(title, body, is_published, author_id, created_at_ms, updated_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        {input.title, input.body, std::int64_t{input.is_published ? 1 : 0}, author_id, now, now});
    if (!id) return tl::unexpected(id.error());
    auto post = SelectOne(sql, std::string(kPostColumns) + "WHERE posts.id = ?", {*id}, PostFrom);
    if (!post) return tl::unexpected(post.error());
    if (!*post) return tl::unexpected(NoPost(*id));
    created = std::move(**post);
    return InsertOutbox(sql, outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<std::optional<Post>> ServerStore::FindPost(std::int64_t id) {
  std::optional<Post> found;
  auto done = Run([&](SqlConnection& sql) -> core::Result<void> {
    auto post = SelectOne(sql, std::string(kPostColumns) + "WHERE posts.id = ?", {id}, PostFrom);
    if (!post) return tl::unexpected(post.error());
    found = std::move(*post);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return found;
}

core::Result<Listing<Post>> ServerStore::ListPosts(std::int64_t viewer_id, std::int64_t offset,
                                                   std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  Listing<Post> listing;
  // Viewer 0 matches no author (ids start at 1), so an anonymous viewer sees published posts.
  auto read = InTransaction([&](SqlConnection& sql) {
    return ReadListing(
        sql, "SELECT COUNT(*) FROM posts WHERE is_published != 0 OR author_id = ?",
        std::string(kPostColumns) +
            "WHERE posts.is_published != 0 OR posts.author_id = ?"
            " ORDER BY posts.created_at_ms DESC, posts.id DESC LIMIT ? OFFSET ?",
        {viewer_id}, {viewer_id, limit, offset}, PostFrom, listing);
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

core::Result<Post> ServerStore::UpdatePost(
    std::int64_t id, const PostInput& input,
    const std::function<std::vector<OutboxMessage>(const Post& before, const Post& after)>&
        outbox_for) {
  Post updated;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    // FOR UPDATE on the post row: a concurrent edit waits, so `before` is what this one changes.
    auto locked = sql.Query("SELECT id FROM posts WHERE id = ? FOR UPDATE", {id});
    if (!locked) return tl::unexpected(locked.error());
    if (locked->rows.empty()) return tl::unexpected(NoPost(id));
    auto before = SelectOne(sql, std::string(kPostColumns) + "WHERE posts.id = ?", {id}, PostFrom);
    if (!before) return tl::unexpected(before.error());
    if (!*before) return tl::unexpected(NoPost(id));
    const std::int64_t now = NowMs();
    auto update = sql.Query(
        "UPDATE posts SET title = ?, body = ?, is_published = ?, updated_at_ms = ? WHERE id = ?",
        {input.title, input.body, std::int64_t{input.is_published ? 1 : 0}, now, id});
    if (!update) return tl::unexpected(update.error());
    auto after = SelectOne(sql, std::string(kPostColumns) + "WHERE posts.id = ?", {id}, PostFrom);
    if (!after) return tl::unexpected(after.error());
    if (!*after) return tl::unexpected(NoPost(id));
    updated = std::move(**after);
    return InsertOutbox(sql, outbox_for(**before, updated), now);
  });
  if (!written) return tl::unexpected(written.error());
  return updated;
}

core::Result<void> ServerStore::DeletePost(std::int64_t id,
                                           const std::vector<OutboxMessage>& outbox) {
  return InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    auto comments = sql.Query("DELETE FROM comments WHERE post_id = ?", {id});
    if (!comments) return tl::unexpected(comments.error());
    auto removed = sql.Query("DELETE FROM posts WHERE id = ?", {id});
    if (!removed) return tl::unexpected(removed.error());
    if (removed->affected_rows == 0) return tl::unexpected(NoPost(id));
    return InsertOutbox(sql, outbox, NowMs());
  });
}

core::Result<Comment> ServerStore::CreateComment(
    std::int64_t post_id, std::int64_t author_id, const std::string& body,
    const std::function<std::vector<OutboxMessage>(const Comment&)>& outbox_for) {
  Comment created;
  auto written = InTransaction([&](SqlConnection& sql) -> core::Result<void> {
    auto post = sql.Query(std::string("SELECT id FROM posts WHERE id = ?") + ForShare(), {post_id});
    if (!post) return tl::unexpected(post.error());
    if (post->rows.empty()) return tl::unexpected(NoPost(post_id));
    if (auto exists = RequireUser(sql, author_id, ForShare()); !exists) return exists;
    const std::int64_t now = NowMs();
    auto id = Insert(sql,
                     "INSERT INTO comments(post_id, author_id, body, created_at_ms)"
                     " VALUES (?, ?, ?, ?)",
                     {post_id, author_id, body, now});
    if (!id) return tl::unexpected(id.error());
    auto comment = SelectOne(sql, std::string(kCommentColumns) + "WHERE comments.id = ?", {*id},
                             CommentFrom);
    if (!comment) return tl::unexpected(comment.error());
    if (!*comment) return core::Fail(ErrorCode::kInternal, "comment vanished");
    created = std::move(**comment);
    return InsertOutbox(sql, outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<Listing<Comment>> ServerStore::ListComments(std::int64_t post_id,
                                                         std::int64_t offset, std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  Listing<Comment> listing;
  auto read = InTransaction([&](SqlConnection& sql) {
    return ReadListing(sql, "SELECT COUNT(*) FROM comments WHERE post_id = ?",
                       std::string(kCommentColumns) +
                           "WHERE comments.post_id = ?"
                           " ORDER BY comments.created_at_ms, comments.id LIMIT ? OFFSET ?",
                       {post_id}, {post_id, limit, offset}, CommentFrom, listing);
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

}  // namespace inkwell::db
