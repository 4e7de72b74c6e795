#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_store.h"
#include "store_test_support.h"

namespace inkwell::db {
namespace {

// Announces each page it is given, by slug, so tests can see what the outbox got.
std::vector<OutboxMessage> Announce(const Page& page) {
  return {Event("page-" + page.slug + "-" + std::to_string(page.updated_at_ms), page.title)};
}

class SqliteStorePagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenTestStore();
    ASSERT_TRUE(store_);
    author_ = AddUser(*store_, "Ada Lovelace", "ada@example.org");
  }

  Page MustCreate(const std::string& slug) {
    auto page = store_->CreatePage(author_, PageInput{slug, "Title " + slug, "# " + slug},
                                   [](const Page&) { return std::vector<OutboxMessage>{}; });
    EXPECT_TRUE(page) << page.error().message;
    return page ? *page : Page{};
  }

  std::unique_ptr<SqliteStore> store_;
  std::int64_t author_ = 0;
};

TEST_F(SqliteStorePagesTest, CreatePageStoresItAndGivesTheOutboxTheStoredPage) {
  const std::int64_t before = TestNowMs();
  Page seen;

  auto page = store_->CreatePage(author_, PageInput{"about", "About", "We *write*."},
                                 [&](const Page& stored) {
                                   seen = stored;
                                   return std::vector<OutboxMessage>{Event("page-created")};
                                 });
  auto found = store_->FindPage("about");

  ASSERT_TRUE(page) << page.error().message;
  EXPECT_GT(page->id, 0);
  EXPECT_EQ(page->slug, "about");
  EXPECT_EQ(page->title, "About");
  EXPECT_EQ(page->body, "We *write*.");
  EXPECT_EQ(page->author_id, author_);
  EXPECT_EQ(page->author_name, "Ada Lovelace");
  EXPECT_GE(page->created_at_ms, before);
  EXPECT_EQ(page->updated_at_ms, page->created_at_ms);
  EXPECT_EQ(seen.id, page->id);
  EXPECT_EQ(seen.author_name, "Ada Lovelace");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, page->id);
  EXPECT_EQ((*found)->body, "We *write*.");
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"page-created"});
}

TEST_F(SqliteStorePagesTest, TakenSlugIsConflictAndWritesNoOutbox) {
  MustCreate("about");

  auto duplicate = store_->CreatePage(author_, PageInput{"about", "Other", "x"}, Announce);
  auto listing = store_->ListPages(0, 10);

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, core::ErrorCode::kConflict);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->total, 1);
}

TEST_F(SqliteStorePagesTest, UnknownAuthorIsNotFound) {
  auto page = store_->CreatePage(author_ + 100, PageInput{"about", "About", "x"}, Announce);

  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, core::ErrorCode::kNotFound);
}

TEST_F(SqliteStorePagesTest, FindPageWithUnknownSlugIsNullopt) {
  MustCreate("about");

  auto found = store_->FindPage("missing");

  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

TEST_F(SqliteStorePagesTest, SqlMetacharactersAreStoredVerbatim) {
  const PageInput input{kSqlInjection, kSqlInjection, std::string(kSqlInjection) + "\n\\0 %_"};

  auto page = store_->CreatePage(author_, input, Announce);
  auto found = store_->FindPage(kSqlInjection);
  auto users_left = store_->FindUser(author_);

  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->slug, input.slug);
  EXPECT_EQ((*found)->title, input.title);
  EXPECT_EQ((*found)->body, input.body);
  ASSERT_TRUE(users_left && *users_left);
}

TEST_F(SqliteStorePagesTest, ListPagesIsNewestUpdatedFirstWithTotal) {
  const Page first = MustCreate("first");
  MustCreate("second");
  MustCreate("third");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(store_->UpdatePage(first.id, PageInput{"first", "Edited", "x"}, Announce));

  auto head = store_->ListPages(0, 2);
  auto tail = store_->ListPages(2, 2);
  auto beyond = store_->ListPages(10, 2);

  ASSERT_TRUE(head && tail && beyond);
  EXPECT_EQ(head->total, 3);
  ASSERT_EQ(head->items.size(), 2U);
  EXPECT_EQ(head->items[0].slug, "first");
  EXPECT_EQ(head->items[1].slug, "third");
  EXPECT_EQ(head->items[0].author_name, "Ada Lovelace");
  EXPECT_EQ(tail->total, 3);
  ASSERT_EQ(tail->items.size(), 1U);
  EXPECT_EQ(tail->items[0].slug, "second");
  EXPECT_EQ(beyond->total, 3);
  EXPECT_TRUE(beyond->items.empty());
}

TEST_F(SqliteStorePagesTest, NegativePagingIsInvalidArgument) {
  auto listing = store_->ListPages(0, -1);

  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().code, core::ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStorePagesTest, UpdatePageReplacesSlugTitleAndBody) {
  const Page page = MustCreate("about");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  Page seen;

  auto updated = store_->UpdatePage(page.id, PageInput{"about-us", "About us", "New body"},
                                    [&](const Page& stored) {
                                      seen = stored;
                                      return std::vector<OutboxMessage>{Event("page-updated")};
                                    });
  auto old_slug = store_->FindPage("about");
  auto new_slug = store_->FindPage("about-us");

  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->id, page.id);
  EXPECT_EQ(updated->title, "About us");
  EXPECT_EQ(updated->body, "New body");
  EXPECT_EQ(updated->created_at_ms, page.created_at_ms);
  EXPECT_GT(updated->updated_at_ms, page.updated_at_ms);
  EXPECT_EQ(seen.slug, "about-us");
  ASSERT_TRUE(old_slug && new_slug);
  EXPECT_FALSE(*old_slug);
  ASSERT_TRUE(*new_slug);
  EXPECT_EQ((*new_slug)->body, "New body");
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"page-updated"});
}

TEST_F(SqliteStorePagesTest, UpdatePageKeepingItsOwnSlugSucceeds) {
  const Page page = MustCreate("about");

  auto updated = store_->UpdatePage(page.id, PageInput{"about", "Same slug", "x"}, Announce);

  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->title, "Same slug");
}

TEST_F(SqliteStorePagesTest, UpdatePageToTakenSlugIsConflictAndChangesNothing) {
  MustCreate("about");
  const Page contact = MustCreate("contact");

  auto updated = store_->UpdatePage(contact.id, PageInput{"about", "Stolen", "x"}, Announce);
  auto kept = store_->FindPage("contact");

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, core::ErrorCode::kConflict);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->title, "Title contact");
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

TEST_F(SqliteStorePagesTest, UpdateOfMissingPageIsNotFound) {
  auto updated = store_->UpdatePage(42, PageInput{"about", "About", "x"}, Announce);

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

TEST_F(SqliteStorePagesTest, DeletePageRemovesItAndWritesOutbox) {
  const Page page = MustCreate("about");

  auto deleted = store_->DeletePage(page.id, {Event("page-deleted")});
  auto found = store_->FindPage("about");

  ASSERT_TRUE(deleted) << deleted.error().message;
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"page-deleted"});
}

TEST_F(SqliteStorePagesTest, DeleteOfMissingPageIsNotFoundAndWritesNoOutbox) {
  auto deleted = store_->DeletePage(42, {Event("page-deleted")});

  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

}  // namespace
}  // namespace inkwell::db
