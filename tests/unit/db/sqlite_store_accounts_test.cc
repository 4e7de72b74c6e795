#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_store.h"
#include "store_test_support.h"

namespace inkwell::db {
namespace {

constexpr std::int64_t kHour = 3600 * 1000;

NewUser UserWithToken(const std::string& email, const std::string& token_hash,
                      std::int64_t expires_at_ms) {
  return NewUser{"Ada Lovelace", email, "$argon2id$hash", token_hash, expires_at_ms};
}

std::vector<OutboxMessage> NoMessages(std::int64_t) { return {}; }

TEST(SqliteStoreAccountsTest, CreateUserWritesTokenUserAndOutboxTogether) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  std::int64_t seen_id = 0;

  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                              [&](std::int64_t user_id) {
                                seen_id = user_id;
                                return std::vector<OutboxMessage>{Event("welcome")};
                              });
  ASSERT_TRUE(id) << id.error().message;
  auto user = store->FindUser(*id);

  EXPECT_EQ(seen_id, *id);
  ASSERT_TRUE(user && *user);
  EXPECT_FALSE((*user)->is_confirmed);
  EXPECT_EQ((*user)->email, "ada@example.org");
  EXPECT_EQ(PendingMessageIds(*store), std::vector<std::string>{"welcome"});
  auto confirmed = store->ConfirmUser("token-1", TestNowMs(),
                                      [](const User&) { return std::vector<OutboxMessage>{}; });
  EXPECT_TRUE(confirmed) << confirmed.error().message;
}

TEST(SqliteStoreAccountsTest, ConflictingUserWritesNoToken) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                                NoMessages));

  auto duplicate = store->CreateUser(
      UserWithToken("ADA@example.org", "token-2", TestNowMs() + kHour), NoMessages);
  auto confirmed = store->ConfirmUser("token-2", TestNowMs(),
                                      [](const User&) { return std::vector<OutboxMessage>{}; });

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, core::ErrorCode::kConflict);
  ASSERT_FALSE(confirmed);
  EXPECT_EQ(confirmed.error().code, core::ErrorCode::kNotFound);
}

TEST(SqliteStoreAccountsTest, FindUserByEmailIgnoresCaseAndUnknownIsNullopt) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  const std::int64_t id = AddUser(*store, "Ada", "ada@example.org");

  auto found = store->FindUserByEmail("ADA@EXAMPLE.org");
  auto unknown = store->FindUserByEmail("grace@example.org");
  auto unknown_id = store->FindUser(id + 100);

  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, id);
  EXPECT_EQ((*found)->name, "Ada");
  EXPECT_EQ((*found)->password_hash, "$argon2id$hash");
  EXPECT_GT((*found)->created_at_ms, 0);
  ASSERT_TRUE(unknown && unknown_id);
  EXPECT_FALSE(*unknown);
  EXPECT_FALSE(*unknown_id);
}

TEST(SqliteStoreAccountsTest, SqlMetacharactersAreStoredVerbatim) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  const std::string email = "o'brien\"; --@example.org";

  const std::int64_t id = AddUser(*store, kSqlInjection, email);
  auto found = store->FindUserByEmail(email);

  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, id);
  EXPECT_EQ((*found)->name, kSqlInjection);
  EXPECT_EQ((*found)->email, email);
}

TEST(SqliteStoreAccountsTest, ConfirmUserMarksUserConfirmedAndWritesOutbox) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                              NoMessages);
  ASSERT_TRUE(id);
  User seen;

  auto confirmed = store->ConfirmUser("token-1", TestNowMs(), [&](const User& user) {
    seen = user;
    return std::vector<OutboxMessage>{Event("confirmed")};
  });
  auto found = store->FindUser(*id);

  ASSERT_TRUE(confirmed) << confirmed.error().message;
  EXPECT_EQ(confirmed->id, *id);
  EXPECT_TRUE(confirmed->is_confirmed);
  EXPECT_EQ(seen.id, *id);
  EXPECT_TRUE(seen.is_confirmed);
  ASSERT_TRUE(found && *found);
  EXPECT_TRUE((*found)->is_confirmed);
  EXPECT_EQ(PendingMessageIds(*store), std::vector<std::string>{"confirmed"});
}

TEST(SqliteStoreAccountsTest, ConfirmUserWithUnknownTokenIsNotFound) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);

  auto confirmed = store->ConfirmUser("no-such-token", TestNowMs(), [](const User&) {
    return std::vector<OutboxMessage>{Event("confirmed")};
  });

  ASSERT_FALSE(confirmed);
  EXPECT_EQ(confirmed.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store).empty());
}

TEST(SqliteStoreAccountsTest, ConfirmUserWithExpiredTokenFailsAndChangesNothing) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  const std::int64_t expires = TestNowMs() + kHour;
  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", expires), NoMessages);
  ASSERT_TRUE(id);

  auto confirmed = store->ConfirmUser("token-1", expires, [](const User&) {
    return std::vector<OutboxMessage>{Event("confirmed")};
  });
  auto found = store->FindUser(*id);

  ASSERT_FALSE(confirmed);
  EXPECT_EQ(confirmed.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(confirmed.error().message, "this confirmation link has expired");
  ASSERT_TRUE(found && *found);
  EXPECT_FALSE((*found)->is_confirmed);
  EXPECT_TRUE(PendingMessageIds(*store).empty());
}

TEST(SqliteStoreAccountsTest, ConfirmUserWithUsedTokenFails) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                                NoMessages));
  const auto no_outbox = [](const User&) { return std::vector<OutboxMessage>{}; };
  ASSERT_TRUE(store->ConfirmUser("token-1", TestNowMs(), no_outbox));

  auto again = store->ConfirmUser("token-1", TestNowMs(), no_outbox);

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(again.error().message, "this confirmation link was already used");
}

TEST(SqliteStoreAccountsTest, FailedOutboxLeavesTokenUnusedAndUserUnconfirmed) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                              [](std::int64_t) { return std::vector<OutboxMessage>{Event("m")}; });
  ASSERT_TRUE(id);

  // The message id "m" is taken, so the outbox insert fails after the updates.
  auto failed = store->ConfirmUser(
      "token-1", TestNowMs(), [](const User&) { return std::vector<OutboxMessage>{Event("m")}; });
  auto found = store->FindUser(*id);
  auto retried = store->ConfirmUser(
      "token-1", TestNowMs(), [](const User&) { return std::vector<OutboxMessage>{Event("m-2")}; });

  ASSERT_FALSE(failed);
  ASSERT_TRUE(found && *found);
  EXPECT_FALSE((*found)->is_confirmed);
  EXPECT_TRUE(retried) << retried.error().message;
}

TEST(SqliteStoreAccountsTest, ReplaceConfirmationTokenRetiresTheOldLink) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                              NoMessages);
  ASSERT_TRUE(id);
  const auto no_outbox = [](const User&) { return std::vector<OutboxMessage>{}; };

  auto replaced =
      store->ReplaceConfirmationToken(*id, "token-2", TestNowMs() + kHour, {Event("resend")});
  auto old_link = store->ConfirmUser("token-1", TestNowMs(), no_outbox);
  auto new_link = store->ConfirmUser("token-2", TestNowMs(), no_outbox);

  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(PendingMessageIds(*store), std::vector<std::string>{"resend"});
  ASSERT_FALSE(old_link);
  EXPECT_EQ(old_link.error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(new_link) << new_link.error().message;
  EXPECT_TRUE(new_link->is_confirmed);
}

TEST(SqliteStoreAccountsTest, ReplaceConfirmationTokenForUnknownUserWritesNothing) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);

  auto replaced =
      store->ReplaceConfirmationToken(42, "token-1", TestNowMs() + kHour, {Event("resend")});

  ASSERT_FALSE(replaced);
  EXPECT_EQ(replaced.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(PendingMessageIds(*store).empty());
}

TEST(SqliteStoreAccountsTest, ConfirmingAnAlreadyConfirmedUserKeepsThemConfirmed) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  auto id = store->CreateUser(UserWithToken("ada@example.org", "token-1", TestNowMs() + kHour),
                              NoMessages);
  ASSERT_TRUE(id);
  const auto no_outbox = [](const User&) { return std::vector<OutboxMessage>{}; };
  ASSERT_TRUE(store->ConfirmUser("token-1", TestNowMs(), no_outbox));
  ASSERT_TRUE(store->ReplaceConfirmationToken(*id, "token-2", TestNowMs() + kHour, {}));

  auto again = store->ConfirmUser("token-2", TestNowMs(), no_outbox);
  auto old_link = store->ConfirmUser("token-1", TestNowMs(), no_outbox);

  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->is_confirmed);
  ASSERT_FALSE(old_link);
  EXPECT_EQ(old_link.error().message, "this confirmation link was already used");
}

TEST(SqliteStoreAccountsTest, SessionFindsItsUserUntilItExpires) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  const std::int64_t id = AddUser(*store, "Ada", "ada@example.org");
  const std::int64_t expires = TestNowMs() + kHour;

  auto created = store->CreateSession("session-1", id, expires);
  auto before = store->FindSession("session-1", expires - 1);
  auto at_expiry = store->FindSession("session-1", expires);

  ASSERT_TRUE(created) << created.error().message;
  ASSERT_TRUE(before && *before);
  EXPECT_EQ((*before)->id, id);
  EXPECT_EQ((*before)->email, "ada@example.org");
  ASSERT_TRUE(at_expiry);
  EXPECT_FALSE(*at_expiry);
}

TEST(SqliteStoreAccountsTest, UnknownSessionIsNullopt) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);

  auto found = store->FindSession("no-such-session", TestNowMs());

  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

TEST(SqliteStoreAccountsTest, DeletedSessionIsGoneAndDeletingUnknownSucceeds) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);
  const std::int64_t id = AddUser(*store, "Ada", "ada@example.org");
  ASSERT_TRUE(store->CreateSession("session-1", id, TestNowMs() + kHour));
  ASSERT_TRUE(store->CreateSession("session-2", id, TestNowMs() + kHour));

  auto deleted = store->DeleteSession("session-1");
  auto unknown = store->DeleteSession("no-such-session");
  auto gone = store->FindSession("session-1", TestNowMs());
  auto other = store->FindSession("session-2", TestNowMs());

  EXPECT_TRUE(deleted);
  EXPECT_TRUE(unknown);
  ASSERT_TRUE(gone && other);
  EXPECT_FALSE(*gone);
  EXPECT_TRUE(*other);
}

TEST(SqliteStoreAccountsTest, SessionForUnknownUserIsNotFound) {
  auto store = OpenTestStore();
  ASSERT_TRUE(store);

  auto created = store->CreateSession("session-1", 42, TestNowMs() + kHour);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, core::ErrorCode::kNotFound);
}

}  // namespace
}  // namespace inkwell::db
