// SqliteStore: posts (published or draft) and their comments.
#include "db/sqlite_store.h"

#include "db/sql_shapes.h"

namespace inkwell::db {

using core::ErrorCode;

namespace {

using sql_shapes::kCommentColumns;
using sql_shapes::kPostColumns;
constexpr auto PostFrom = sql_shapes::PostFrom<SqliteDatabase::Statement>;
constexpr auto CommentFrom = sql_shapes::CommentFrom<SqliteDatabase::Statement>;

core::Error NoPost(std::int64_t id) {
  return core::Error{ErrorCode::kNotFound, "no post " + std::to_string(id)};
}

// Runs a listing's count (one row, one column) and its page of items.
template <typename T, typename RowReader>
core::Result<void> ReadListing(SqliteDatabase::Statement& count, SqliteDatabase::Statement& items,
                               RowReader read_row, Listing<T>& listing) {
  if (auto has_row = count.Step(); !has_row) return tl::unexpected(has_row.error());
  listing.total = count.Int(0);
  for (;;) {
    auto has_row = items.Step();
    if (!has_row) return tl::unexpected(has_row.error());
    if (!*has_row) return {};
    listing.items.push_back(read_row(items));
  }
}

}  // namespace

core::Result<std::optional<Post>> SqliteStore::SelectPost(std::int64_t id) {
  auto select = database_.Prepare(std::string(kPostColumns) + "WHERE posts.id = ?");
  if (!select) return tl::unexpected(select.error());
  select->Bind(1, id);
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  if (!*has_row) return std::optional<Post>();
  return PostFrom(*select);
}

core::Result<Post> SqliteStore::CreatePost(
    std::int64_t author_id, const PostInput& input,
    const std::function<std::vector<OutboxMessage>(const Post&)>& outbox_for) {
  Post created;
  auto written = Write([&]() -> core::Result<void> {
    if (auto exists = RequireUser(author_id); !exists) return exists;
    const std::int64_t now = NowMs();
    auto insert = database_.Prepare(
        "INSERT INTO posts(title, body, is_published, author_id, created_at_ms, updated_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, input.title).Bind(2, input.body);
    insert->Bind(3, std::int64_t{input.is_published ? 1 : 0}).Bind(4, author_id);
    insert->Bind(5, now).Bind(6, now);
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    const std::int64_t id = database_.LastInsertId();
    auto post = SelectPost(id);
    if (!post) return tl::unexpected(post.error());
    if (!*post) return tl::unexpected(NoPost(id));
    created = std::move(**post);
    return InsertOutbox(outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<std::optional<Post>> SqliteStore::FindPost(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return SelectPost(id);
}

core::Result<Listing<Post>> SqliteStore::ListPosts(std::int64_t viewer_id, std::int64_t offset,
                                                   std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  std::lock_guard lock(mutex_);
  Listing<Post> listing;
  // Viewer 0 matches no author (ids start at 1), so an anonymous viewer sees published posts.
  auto read = InTransaction("BEGIN", [&]() -> core::Result<void> {
    auto count =
        database_.Prepare("SELECT COUNT(*) FROM posts WHERE is_published != 0 OR author_id = ?");
    if (!count) return tl::unexpected(count.error());
    count->Bind(1, viewer_id);
    auto items = database_.Prepare(std::string(kPostColumns) +
                                   "WHERE posts.is_published != 0 OR posts.author_id = ?1"
                                   " ORDER BY posts.created_at_ms DESC, posts.id DESC"
                                   " LIMIT ?2 OFFSET ?3");
    if (!items) return tl::unexpected(items.error());
    items->Bind(1, viewer_id).Bind(2, limit).Bind(3, offset);
    return ReadListing(*count, *items, PostFrom, listing);
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

core::Result<Post> SqliteStore::UpdatePost(
    std::int64_t id, const PostInput& input,
    const std::function<std::vector<OutboxMessage>(const Post& before, const Post& after)>&
        outbox_for) {
  Post updated;
  auto written = Write([&]() -> core::Result<void> {
    auto before = SelectPost(id);
    if (!before) return tl::unexpected(before.error());
    if (!*before) return tl::unexpected(NoPost(id));
    const std::int64_t now = NowMs();
    auto update = database_.Prepare(
        "UPDATE posts SET title = ?, body = ?, is_published = ?, updated_at_ms = ? WHERE id = ?");
    if (!update) return tl::unexpected(update.error());
    update->Bind(1, input.title).Bind(2, input.body);
    update->Bind(3, std::int64_t{input.is_published ? 1 : 0}).Bind(4, now).Bind(5, id);
    if (auto done = update->Step(); !done) return tl::unexpected(done.error());
    auto after = SelectPost(id);
    if (!after) return tl::unexpected(after.error());
    if (!*after) return tl::unexpected(NoPost(id));
    updated = std::move(**after);
    return InsertOutbox(outbox_for(**before, updated), now);
  });
  if (!written) return tl::unexpected(written.error());
  return updated;
}

core::Result<void> SqliteStore::DeletePost(std::int64_t id,
                                           const std::vector<OutboxMessage>& outbox) {
  return Write([&]() -> core::Result<void> {
    // Explicitly, not only by ON DELETE CASCADE: that depends on PRAGMA foreign_keys.
    auto remove_comments = database_.Prepare("DELETE FROM comments WHERE post_id = ?");
    if (!remove_comments) return tl::unexpected(remove_comments.error());
    remove_comments->Bind(1, id);
    if (auto done = remove_comments->Step(); !done) return tl::unexpected(done.error());
    auto remove = database_.Prepare("DELETE FROM posts WHERE id = ?");
    if (!remove) return tl::unexpected(remove.error());
    remove->Bind(1, id);
    if (auto done = remove->Step(); !done) return tl::unexpected(done.error());
    if (database_.Changes() == 0) return tl::unexpected(NoPost(id));
    return InsertOutbox(outbox, NowMs());
  });
}

core::Result<Comment> SqliteStore::CreateComment(
    std::int64_t post_id, std::int64_t author_id, const std::string& body,
    const std::function<std::vector<OutboxMessage>(const Comment&)>& outbox_for) {
  Comment created;
  auto written = Write([&]() -> core::Result<void> {
    auto post = SelectPost(post_id);
    if (!post) return tl::unexpected(post.error());
    if (!*post) return tl::unexpected(NoPost(post_id));
    if (auto exists = RequireUser(author_id); !exists) return exists;
    const std::int64_t now = NowMs();
    auto insert = database_.Prepare(
        "INSERT INTO comments(post_id, author_id, body, created_at_ms) VALUES (?, ?, ?, ?)");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, post_id).Bind(2, author_id).Bind(3, body).Bind(4, now);
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    const std::int64_t id = database_.LastInsertId();
    auto select = database_.Prepare(std::string(kCommentColumns) + "WHERE comments.id = ?");
    if (!select) return tl::unexpected(select.error());
    select->Bind(1, id);
    auto has_row = select->Step();
    if (!has_row) return tl::unexpected(has_row.error());
    if (!*has_row) return core::Fail(ErrorCode::kInternal, "comment vanished");
    created = CommentFrom(*select);
    return InsertOutbox(outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<Listing<Comment>> SqliteStore::ListComments(std::int64_t post_id, std::int64_t offset,
                                                         std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  std::lock_guard lock(mutex_);
  Listing<Comment> listing;
  auto read = InTransaction("BEGIN", [&]() -> core::Result<void> {
    auto count = database_.Prepare("SELECT COUNT(*) FROM comments WHERE post_id = ?");
    if (!count) return tl::unexpected(count.error());
    count->Bind(1, post_id);
    auto items = database_.Prepare(std::string(kCommentColumns) +
                                   "WHERE comments.post_id = ?1"
                                   " ORDER BY comments.created_at_ms, comments.id"
                                   " LIMIT ?2 OFFSET ?3");
    if (!items) return tl::unexpected(items.error());
    items->Bind(1, post_id).Bind(2, limit).Bind(3, offset);
    return ReadListing(*count, *items, CommentFrom, listing);
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

}  // namespace inkwell::db
