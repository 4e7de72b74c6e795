// SqliteStore: pages, addressed by slug.
#include "db/sqlite_store.h"

#include "db/sql_shapes.h"

namespace inkwell::db {

using core::ErrorCode;

namespace {

using sql_shapes::kPageColumns;
constexpr auto PageFrom = sql_shapes::PageFrom<SqliteDatabase::Statement>;

core::Error SlugTaken(const std::string& slug) {
  return core::Error{ErrorCode::kConflict, "the slug '" + slug + "' is taken"};
}

}  // namespace

core::Result<std::optional<Page>> SqliteStore::SelectPage(const char* condition,
                                                          const Binder& bind) {
  auto select = database_.Prepare(std::string(kPageColumns) + condition);
  if (!select) return tl::unexpected(select.error());
  bind(*select);
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  if (!*has_row) return std::optional<Page>();
  return PageFrom(*select);
}

core::Result<Page> SqliteStore::CreatePage(
    std::int64_t author_id, const PageInput& input,
    const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) {
  Page created;
  auto written = Write([&]() -> core::Result<void> {
    if (auto exists = RequireUser(author_id); !exists) return exists;
    const std::int64_t now = NowMs();
    auto insert = database_.Prepare(
        "INSERT INTO pages(slug, title, body, author_id, created_at_ms, updated_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, input.slug).Bind(2, input.title).Bind(3, input.body);
    insert->Bind(4, author_id).Bind(5, now).Bind(6, now);
    if (auto done = insert->Step(); !done) {
      // The author exists, so the one constraint left to violate is the slug's.
      if (done.error().code == ErrorCode::kConflict) return tl::unexpected(SlugTaken(input.slug));
      return tl::unexpected(done.error());
    }
    const std::int64_t id = database_.LastInsertId();
    auto page = SelectPage("WHERE pages.id = ?1",
                           [&](SqliteDatabase::Statement& select) { select.Bind(1, id); });
    if (!page) return tl::unexpected(page.error());
    if (!*page) return core::Fail(ErrorCode::kInternal, "page " + std::to_string(id) + " vanished");
    created = std::move(**page);
    return InsertOutbox(outbox_for(created), now);
  });
  if (!written) return tl::unexpected(written.error());
  return created;
}

core::Result<std::optional<Page>> SqliteStore::FindPage(const std::string& slug) {
  std::lock_guard lock(mutex_);
  return SelectPage("WHERE pages.slug = ?1",
                    [&](SqliteDatabase::Statement& select) { select.Bind(1, slug); });
}

core::Result<Listing<Page>> SqliteStore::ListPages(std::int64_t offset, std::int64_t limit) {
  if (auto valid = CheckPaging(offset, limit); !valid) return tl::unexpected(valid.error());
  std::lock_guard lock(mutex_);
  Listing<Page> listing;
  // One read transaction: the total and the items come from the same snapshot.
  auto read = InTransaction("BEGIN", [&]() -> core::Result<void> {
    auto count = database_.Prepare("SELECT COUNT(*) FROM pages");
    if (!count) return tl::unexpected(count.error());
    if (auto has_row = count->Step(); !has_row) return tl::unexpected(has_row.error());
    listing.total = count->Int(0);
    auto select = database_.Prepare(std::string(kPageColumns) +
                                    "ORDER BY pages.updated_at_ms DESC, pages.id DESC"
                                    " LIMIT ?1 OFFSET ?2");
    if (!select) return tl::unexpected(select.error());
    select->Bind(1, limit).Bind(2, offset);
    for (;;) {
      auto has_row = select->Step();
      if (!has_row) return tl::unexpected(has_row.error());
      if (!*has_row) return {};
      listing.items.push_back(PageFrom(*select));
    }
  });
  if (!read) return tl::unexpected(read.error());
  return listing;
}

core::Result<Page> SqliteStore::UpdatePage(
    std::int64_t id, const PageInput& input,
    const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) {
  Page updated;
  auto written = Write([&]() -> core::Result<void> {
    const std::int64_t now = NowMs();
    auto update = database_.Prepare(
        "UPDATE pages SET slug = ?, title = ?, body = ?, updated_at_ms = ? WHERE id = ?");
    if (!update) return tl::unexpected(update.error());
    update->Bind(1, input.slug).Bind(2, input.title).Bind(3, input.body).Bind(4, now).Bind(5, id);
    if (auto done = update->Step(); !done) {
      if (done.error().code == ErrorCode::kConflict) return tl::unexpected(SlugTaken(input.slug));
      return tl::unexpected(done.error());
    }
    if (database_.Changes() == 0) {
      return core::Fail(ErrorCode::kNotFound, "no page " + std::to_string(id));
    }
    auto page = SelectPage("WHERE pages.id = ?1",
                           [&](SqliteDatabase::Statement& select) { select.Bind(1, id); });
    if (!page) return tl::unexpected(page.error());
    if (!*page) return core::Fail(ErrorCode::kNotFound, "no page " + std::to_string(id));
    updated = std::move(**page);
    return InsertOutbox(outbox_for(updated), now);
  });
  if (!written) return tl::unexpected(written.error());
  return updated;
}

core::Result<void> SqliteStore::DeletePage(std::int64_t id,
                                           const std::vector<OutboxMessage>& outbox) {
  return Write([&]() -> core::Result<void> {
    auto remove = database_.Prepare("DELETE FROM pages WHERE id = ?");
    if (!remove) return tl::unexpected(remove.error());
    remove->Bind(1, id);
    if (auto done = remove->Step(); !done) return tl::unexpected(done.error());
    if (database_.Changes() == 0) {
      return core::Fail(ErrorCode::kNotFound, "no page " + std::to_string(id));
    }
    return InsertOutbox(outbox, NowMs());
  });
}

}  // namespace inkwell::db
