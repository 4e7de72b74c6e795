#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_store.h"
#include "store_test_support.h"

namespace inkwell::db {
namespace {

std::vector<OutboxMessage> NoPostMessages(const Post&) { return {}; }
std::vector<OutboxMessage> NoCommentMessages(const Comment&) { return {}; }

std::vector<std::string> TitlesOf(const Listing<Post>& listing) {
  std::vector<std::string> titles;
  for (const Post& post : listing.items) titles.push_back(post.title);
  return titles;
}

class SqliteStorePostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenTestStore();
    ASSERT_TRUE(store_);
    ada_ = AddUser(*store_, "Ada Lovelace", "ada@example.org");
    grace_ = AddUser(*store_, "Grace Hopper", "grace@example.org");
  }

  Post MustCreate(std::int64_t author, const std::string& title, bool is_published = true) {
    auto post = store_->CreatePost(author, PostInput{title, "Body of " + title, is_published},
                                   NoPostMessages);
    EXPECT_TRUE(post) << post.error().message;
    return post ? *post : Post{};
  }

  Comment MustComment(std::int64_t post_id, const std::string& body) {
    auto comment = store_->CreateComment(post_id, grace_, body, NoCommentMessages);
    EXPECT_TRUE(comment) << comment.error().message;
    return comment ? *comment : Comment{};
  }

  std::unique_ptr<SqliteStore> store_;
  std::int64_t ada_ = 0;
  std::int64_t grace_ = 0;
};

TEST_F(SqliteStorePostsTest, CreatePostStoresItAndGivesTheOutboxTheStoredPost) {
  const std::int64_t before = TestNowMs();
  Post seen;

  auto post =
      store_->CreatePost(ada_, PostInput{"Hello", "First *post*", true}, [&](const Post& stored) {
        seen = stored;
        return std::vector<OutboxMessage>{Event("post-created")};
      });
  ASSERT_TRUE(post) << post.error().message;
  auto found = store_->FindPost(post->id);

  EXPECT_GT(post->id, 0);
  EXPECT_EQ(post->title, "Hello");
  EXPECT_EQ(post->body, "First *post*");
  EXPECT_TRUE(post->is_published);
  EXPECT_EQ(post->author_id, ada_);
  EXPECT_EQ(post->author_name, "Ada Lovelace");
  EXPECT_GE(post->created_at_ms, before);
  EXPECT_EQ(post->updated_at_ms, post->created_at_ms);
  EXPECT_EQ(post->comment_count, 0);
  EXPECT_EQ(seen.id, post->id);
  EXPECT_EQ(seen.author_name, "Ada Lovelace");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->title, "Hello");
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"post-created"});
}

TEST_F(SqliteStorePostsTest, FailedOutboxInsertRollsBackThePost) {
  MustCreate(ada_, "Seed");
  ASSERT_TRUE(store_->CreatePost(ada_, PostInput{"One", "x", true}, [](const Post&) {
    return std::vector<OutboxMessage>{Event("m")};
  }));

  auto failed = store_->CreatePost(ada_, PostInput{"Two", "x", true}, [](const Post&) {
    return std::vector<OutboxMessage>{Event("m")};
  });
  auto listing = store_->ListPosts(0, 0, 10);

  ASSERT_FALSE(failed);
  ASSERT_TRUE(listing);
  EXPECT_EQ(TitlesOf(*listing), (std::vector<std::string>{"One", "Seed"}));
}

TEST_F(SqliteStorePostsTest, FindPostWithUnknownIdIsNullopt) {
  auto found = store_->FindPost(42);

  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

TEST_F(SqliteStorePostsTest, ListPostsShowsPublishedPostsAndOnlyTheViewersDrafts) {
  MustCreate(ada_, "Ada published");
  MustCreate(ada_, "Ada draft", false);
  MustCreate(grace_, "Grace draft", false);
  MustCreate(grace_, "Grace published");

  auto anonymous = store_->ListPosts(0, 0, 10);
  auto as_ada = store_->ListPosts(ada_, 0, 10);
  auto as_grace = store_->ListPosts(grace_, 0, 10);

  ASSERT_TRUE(anonymous && as_ada && as_grace);
  EXPECT_EQ(TitlesOf(*anonymous), (std::vector<std::string>{"Grace published", "Ada published"}));
  EXPECT_EQ(anonymous->total, 2);
  EXPECT_EQ(TitlesOf(*as_ada),
            (std::vector<std::string>{"Grace published", "Ada draft", "Ada published"}));
  EXPECT_EQ(as_ada->total, 3);
  EXPECT_EQ(TitlesOf(*as_grace),
            (std::vector<std::string>{"Grace published", "Grace draft", "Ada published"}));
  EXPECT_EQ(as_grace->total, 3);
}

TEST_F(SqliteStorePostsTest, ListPostsPaginatesNewestFirstWithTotal) {
  for (int i = 1; i <= 5; ++i) MustCreate(ada_, "Post " + std::to_string(i));

  auto head = store_->ListPosts(0, 0, 2);
  auto last = store_->ListPosts(0, 4, 2);
  auto beyond = store_->ListPosts(0, 9, 2);

  ASSERT_TRUE(head && last && beyond);
  EXPECT_EQ(TitlesOf(*head), (std::vector<std::string>{"Post 5", "Post 4"}));
  EXPECT_EQ(head->total, 5);
  EXPECT_EQ(TitlesOf(*last), std::vector<std::string>{"Post 1"});
  EXPECT_EQ(last->total, 5);
  EXPECT_TRUE(beyond->items.empty());
  EXPECT_EQ(beyond->total, 5);
}

TEST_F(SqliteStorePostsTest, CommentCountIsFilledInFindAndList) {
  const Post post = MustCreate(ada_, "Talked about");
  MustCreate(ada_, "Quiet");
  MustComment(post.id, "first");
  MustComment(post.id, "second");

  auto found = store_->FindPost(post.id);
  auto listing = store_->ListPosts(0, 0, 10);

  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->comment_count, 2);
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->items.size(), 2U);
  EXPECT_EQ(listing->items[0].comment_count, 0);
  EXPECT_EQ(listing->items[1].comment_count, 2);
}

TEST_F(SqliteStorePostsTest, UpdatePostGivesTheOutboxBeforeAndAfter) {
  const Post draft = MustCreate(ada_, "Draft", false);
  Post seen_before;
  Post seen_after;

  auto updated = store_->UpdatePost(draft.id, PostInput{"Published", "New body", true},
                                    [&](const Post& before, const Post& after) {
                                      seen_before = before;
                                      seen_after = after;
                                      return std::vector<OutboxMessage>{Event("post-updated")};
                                    });
  auto anonymous = store_->ListPosts(0, 0, 10);

  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->title, "Published");
  EXPECT_EQ(updated->body, "New body");
  EXPECT_TRUE(updated->is_published);
  EXPECT_EQ(updated->created_at_ms, draft.created_at_ms);
  EXPECT_EQ(seen_before.title, "Draft");
  EXPECT_FALSE(seen_before.is_published);
  EXPECT_EQ(seen_after.title, "Published");
  EXPECT_TRUE(seen_after.is_published);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(TitlesOf(*anonymous), std::vector<std::string>{"Published"});
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"post-updated"});
}

TEST_F(SqliteStorePostsTest, UpdateOfMissingPostIsNotFoundAndWritesNoOutbox) {
  auto updated = store_->UpdatePost(42, PostInput{"x", "y", true}, [](const Post&, const Post&) {
    return std::vector<OutboxMessage>{Event("post-updated")};
  });

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

TEST_F(SqliteStorePostsTest, DeletePostDeletesItsCommentsOnly) {
  const Post doomed = MustCreate(ada_, "Doomed");
  const Post kept = MustCreate(ada_, "Kept");
  MustComment(doomed.id, "one");
  MustComment(doomed.id, "two");
  MustComment(kept.id, "three");

  auto deleted = store_->DeletePost(doomed.id, {Event("post-deleted")});
  auto found = store_->FindPost(doomed.id);
  auto orphans = store_->ListComments(doomed.id, 0, 10);
  auto others = store_->ListComments(kept.id, 0, 10);

  ASSERT_TRUE(deleted) << deleted.error().message;
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
  ASSERT_TRUE(orphans && others);
  EXPECT_EQ(orphans->total, 0);
  EXPECT_EQ(others->total, 1);
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"post-deleted"});
}

TEST_F(SqliteStorePostsTest, DeleteOfMissingPostIsNotFoundAndWritesNoOutbox) {
  auto deleted = store_->DeletePost(42, {Event("post-deleted")});

  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

TEST_F(SqliteStorePostsTest, CreateCommentStoresItWithItsAuthorsName) {
  const Post post = MustCreate(ada_, "Hello");
  Comment seen;

  auto comment = store_->CreateComment(post.id, grace_, "Nice post", [&](const Comment& stored) {
    seen = stored;
    return std::vector<OutboxMessage>{Event("comment-created")};
  });

  ASSERT_TRUE(comment) << comment.error().message;
  EXPECT_GT(comment->id, 0);
  EXPECT_EQ(comment->post_id, post.id);
  EXPECT_EQ(comment->author_id, grace_);
  EXPECT_EQ(comment->author_name, "Grace Hopper");
  EXPECT_EQ(comment->body, "Nice post");
  EXPECT_GT(comment->created_at_ms, 0);
  EXPECT_EQ(seen.id, comment->id);
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"comment-created"});
}

TEST_F(SqliteStorePostsTest, CommentOnMissingPostIsNotFoundAndWritesNoOutbox) {
  auto comment = store_->CreateComment(42, grace_, "Hello?", [](const Comment&) {
    return std::vector<OutboxMessage>{Event("comment-created")};
  });

  ASSERT_FALSE(comment);
  EXPECT_EQ(comment.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store_).empty());
}

TEST_F(SqliteStorePostsTest, ListCommentsIsOldestFirstWithTotal) {
  const Post post = MustCreate(ada_, "Hello");
  for (int i = 1; i <= 3; ++i) MustComment(post.id, "comment " + std::to_string(i));

  auto head = store_->ListComments(post.id, 0, 2);
  auto tail = store_->ListComments(post.id, 2, 2);

  ASSERT_TRUE(head && tail);
  EXPECT_EQ(head->total, 3);
  ASSERT_EQ(head->items.size(), 2U);
  EXPECT_EQ(head->items[0].body, "comment 1");
  EXPECT_EQ(head->items[1].body, "comment 2");
  EXPECT_EQ(head->items[0].author_name, "Grace Hopper");
  EXPECT_EQ(tail->total, 3);
  ASSERT_EQ(tail->items.size(), 1U);
  EXPECT_EQ(tail->items[0].body, "comment 3");
}

TEST_F(SqliteStorePostsTest, SqlMetacharactersAreStoredVerbatim) {
  const Post post = MustCreate(ada_, kSqlInjection);
  MustComment(post.id, kSqlInjection);

  auto found = store_->FindPost(post.id);
  auto comments = store_->ListComments(post.id, 0, 10);
  auto users_left = store_->FindUser(ada_);

  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->title, kSqlInjection);
  ASSERT_TRUE(comments);
  ASSERT_EQ(comments->items.size(), 1U);
  EXPECT_EQ(comments->items[0].body, kSqlInjection);
  ASSERT_TRUE(users_left && *users_left);
}

}  // namespace
}  // namespace inkwell::db
