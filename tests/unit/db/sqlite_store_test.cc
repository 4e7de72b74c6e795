#include "db/sqlite_store.h"

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_database.h"
#include "temp_dir.h"

namespace inkwell::db {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

NewUser User(const std::string& email) {
  return NewUser{"Ada Lovelace", email, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", "", 0};
}

OutboxMessage Welcome(const std::string& message_id) {
  return OutboxMessage{message_id,
                       "email",
                       "send",
                       "email.send",
                       R"({"to":"ada@example.org","template":"welcome"})",
                       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
}

std::unique_ptr<SqliteStore> OpenMemoryStore() {
  auto store = SqliteStore::Open(":memory:");
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// Five users, each with a welcome mail "m-0" .. "m-4" in the outbox, oldest first.
void RegisterFive(SqliteStore& store) {
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_TRUE(store.CreateUser(User("user" + n + "@example.org"), {Welcome("m-" + n)}));
  }
}

std::vector<std::int64_t> IdsOf(const std::vector<OutboxRow>& rows) {
  std::vector<std::int64_t> ids;
  for (const OutboxRow& row : rows) ids.push_back(row.id);
  return ids;
}

TEST(SqliteStoreTest, CreateUserWritesUserAndOutboxMessage) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  const std::int64_t before = NowMs();

  auto id = store->CreateUser(User("ada@example.org"), {Welcome("m-1")});
  auto pending = store->PendingOutbox(10);

  ASSERT_TRUE(id) << id.error().message;
  EXPECT_GT(*id, 0);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 1U);
  const OutboxRow& row = pending->front();
  const OutboxMessage expected = Welcome("m-1");
  EXPECT_EQ(row.message.message_id, expected.message_id);
  EXPECT_EQ(row.message.exchange, expected.exchange);
  EXPECT_EQ(row.message.routing_key, expected.routing_key);
  EXPECT_EQ(row.message.type, expected.type);
  EXPECT_EQ(row.message.body, expected.body);
  EXPECT_EQ(row.message.traceparent, expected.traceparent);
  EXPECT_EQ(row.attempts, 0);
  EXPECT_GE(row.created_at_ms, before);
  EXPECT_LE(row.created_at_ms, NowMs());
}

TEST(SqliteStoreTest, CreateUserGivesDistinctIds) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);

  auto first = store->CreateUser(User("ada@example.org"), {Welcome("m-1")});
  auto second = store->CreateUser(User("grace@example.org"), {Welcome("m-2")});

  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
}

TEST(SqliteStoreTest, CreateUserWritesSeveralOutboxMessagesOrNone) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);

  auto id = store->CreateUser(User("ada@example.org"), {Welcome("m-1"), Welcome("m-2")});
  auto without = store->CreateUser(User("grace@example.org"), std::vector<OutboxMessage>{});
  auto pending = store->PendingOutbox(10);

  ASSERT_TRUE(id && without);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2U);
  EXPECT_EQ((*pending)[0].message.message_id, "m-1");
  EXPECT_EQ((*pending)[1].message.message_id, "m-2");
}

TEST(SqliteStoreTest, DuplicateEmailIgnoringCaseIsConflictWithoutOutboxRow) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(User("ada@example.org"), {Welcome("m-1")}));

  auto duplicate = store->CreateUser(User("ADA@Example.ORG"), {Welcome("m-2")});
  auto pending = store->PendingOutbox(10);
  auto backlog = store->Backlog();

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, core::ErrorCode::kConflict);
  EXPECT_NE(duplicate.error().message.find("already registered"), std::string::npos)
      << duplicate.error().message;
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->size(), 1U);
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->pending, 1);
}

TEST(SqliteStoreTest, FailedOutboxInsertRollsBackTheUser) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(User("ada@example.org"), {Welcome("m-1")}));

  // The same message_id twice violates the outbox's unique key after the user row is written.
  auto failed = store->CreateUser(User("grace@example.org"), {Welcome("m-1")});
  auto retried = store->CreateUser(User("grace@example.org"), {Welcome("m-2")});

  ASSERT_FALSE(failed);
  EXPECT_TRUE(retried) << retried.error().message;
}

TEST(SqliteStoreTest, PendingOutboxIsOldestFirstAndLimited) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(RegisterFive(*store));

  auto first_two = store->PendingOutbox(2);
  auto all = store->PendingOutbox(100);
  auto none = store->PendingOutbox(0);

  ASSERT_TRUE(first_two && all && none);
  ASSERT_EQ(first_two->size(), 2U);
  EXPECT_EQ((*first_two)[0].message.message_id, "m-0");
  EXPECT_EQ((*first_two)[1].message.message_id, "m-1");
  ASSERT_EQ(all->size(), 5U);
  for (std::size_t i = 1; i < all->size(); ++i) EXPECT_LT((*all)[i - 1].id, (*all)[i].id);
  EXPECT_TRUE(none->empty());
}

TEST(SqliteStoreTest, PendingOutboxAfterAnIdReturnsOnlyLaterRowsAndStillRenewsTheClaim) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(RegisterFive(*store));
  auto first_two = store->PendingOutbox(2);
  ASSERT_TRUE(first_two && first_two->size() == 2U);

  auto after = store->PendingOutboxAfter(100, first_two->back().id);
  auto after_last = store->PendingOutboxAfter(100, std::numeric_limits<std::int64_t>::max());
  auto from_start = store->PendingOutboxAfter(100, 0);

  ASSERT_TRUE(after && after_last && from_start);
  ASSERT_EQ(after->size(), 3U);
  EXPECT_EQ(after->front().message.message_id, "m-2");
  EXPECT_EQ(after->back().message.message_id, "m-4");
  EXPECT_TRUE(after_last->empty());
  EXPECT_EQ(from_start->size(), 5U);  // this instance's own claims come back from 0
}

TEST(SqliteStoreTest, MarkOutboxSentRemovesRowsFromPending) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_TRUE(store->CreateUser(User("user" + n + "@example.org"), {Welcome("m-" + n)}));
  }
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);
  const std::vector<std::int64_t> sent = {(*pending)[0].id, (*pending)[2].id};

  auto marked = store->MarkOutboxSent(sent);
  auto after = store->PendingOutbox(10);
  auto backlog = store->Backlog();

  EXPECT_TRUE(marked) << marked.error().message;
  ASSERT_TRUE(after);
  EXPECT_EQ(IdsOf(*after), std::vector<std::int64_t>{(*pending)[1].id});
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->pending, 1);
}

TEST(SqliteStoreTest, MarkOutboxSentAcceptsNoIdsAndUnknownIds) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);

  auto empty = store->MarkOutboxSent({});
  const std::vector<std::int64_t> unknown = {12345};
  auto missing = store->MarkOutboxSent(unknown);

  EXPECT_TRUE(empty);
  EXPECT_TRUE(missing);
}

TEST(SqliteStoreTest, RecordOutboxFailureKeepsRowPendingButDefersIt) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(User("ada@example.org"), {Welcome("m-1")}));
  ASSERT_TRUE(store->CreateUser(User("grace@example.org"), {Welcome("m-2")}));
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);
  const std::vector<std::int64_t> failed = {(*pending)[0].id};

  auto recorded = store->RecordOutboxFailure(failed, "broker returned it");
  auto after = store->PendingOutbox(10);
  auto backlog = store->Backlog();

  EXPECT_TRUE(recorded) << recorded.error().message;
  ASSERT_TRUE(after);
  EXPECT_EQ(IdsOf(*after), std::vector<std::int64_t>{(*pending)[1].id});
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->pending, 2);
  EXPECT_EQ(backlog->failing, 1);
}

TEST(SqliteStoreTest, FailingOutboxListsRowsWhoseLastAttemptFailedWithTheReason) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_TRUE(store->CreateUser(User("user" + n + "@example.org"), {Welcome("m-" + n)}));
  }
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);
  const std::vector<std::int64_t> failed = {(*pending)[0].id, (*pending)[2].id};
  ASSERT_TRUE(store->RecordOutboxFailure(failed, "basic.return: NO_ROUTE"));

  auto failing = store->FailingOutbox(10);
  auto first_only = store->FailingOutbox(1);

  ASSERT_TRUE(failing) << failing.error().message;
  EXPECT_EQ(IdsOf(*failing), failed);
  for (const OutboxRow& row : *failing) {
    EXPECT_EQ(row.last_error, "basic.return: NO_ROUTE");
    EXPECT_EQ(row.attempts, 1);
  }
  ASSERT_TRUE(first_only);
  EXPECT_EQ(IdsOf(*first_only), std::vector<std::int64_t>{failed[0]});
  EXPECT_EQ((*pending)[1].last_error, "");
}

TEST(SqliteStoreTest, SentRowIsNoLongerCountedAsFailing) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(User("ada@example.org"), {Welcome("m-1")}));
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);
  const std::vector<std::int64_t> ids = {(*pending)[0].id};
  ASSERT_TRUE(store->RecordOutboxFailure(ids, "nacked"));

  auto marked = store->MarkOutboxSent(ids);
  auto backlog = store->Backlog();
  auto failing = store->FailingOutbox(10);

  EXPECT_TRUE(marked);
  ASSERT_TRUE(failing);
  EXPECT_TRUE(failing->empty());
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->pending, 0);
  EXPECT_EQ(backlog->failing, 0);
}

TEST(SqliteStoreTest, BacklogIsZeroWhenEmpty) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);

  auto backlog = store->Backlog();

  ASSERT_TRUE(backlog) << backlog.error().message;
  EXPECT_EQ(backlog->pending, 0);
  EXPECT_EQ(backlog->oldest_created_at_ms, 0);
  EXPECT_EQ(backlog->failing, 0);
}

TEST(SqliteStoreTest, BacklogCountsPendingAndOldestCreation) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);
  const std::int64_t before = NowMs();
  ASSERT_TRUE(store->CreateUser(User("ada@example.org"), {Welcome("m-1"), Welcome("m-2")}));
  ASSERT_TRUE(store->CreateUser(User("grace@example.org"), {Welcome("m-3")}));
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);

  auto backlog = store->Backlog();

  ASSERT_TRUE(backlog) << backlog.error().message;
  EXPECT_EQ(backlog->pending, 3);
  EXPECT_EQ(backlog->failing, 0);
  EXPECT_EQ(backlog->oldest_created_at_ms, (*pending)[0].created_at_ms);
  EXPECT_GE(backlog->oldest_created_at_ms, before);
}

TEST(SqliteStoreTest, PingSucceeds) {
  auto store = OpenMemoryStore();
  ASSERT_TRUE(store);

  auto ping = store->Ping();

  EXPECT_TRUE(ping) << ping.error().message;
}

TEST(SqliteStoreTest, ReopeningFileDatabaseAppliesMigrationsOnceAndKeepsData) {
  TempDir dir;
  const std::string path = (dir.path() / "inkwell.db").string();
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->CreateUser(User("ada@example.org"), {Welcome("m-1")}));
  }

  auto reopened = SqliteStore::Open(path);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto duplicate = (*reopened)->CreateUser(User("ada@example.org"), {Welcome("m-2")});
  auto pending = (*reopened)->PendingOutbox(10);

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, core::ErrorCode::kConflict);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->size(), 1U);
}

TEST(SqliteStoreTest, MigratingAVersionOneDatabaseConfirmsItsUsersAndKeepsTheOutbox) {
  TempDir dir;
  const std::string path = (dir.path() / "inkwell.db").string();
  {
    auto old = SqliteDatabase::Open(path);
    ASSERT_TRUE(old) << old.error().message;
    ASSERT_TRUE(old->Migrate({SqliteStore::Migrations().front()}));
    ASSERT_TRUE(old->Execute(
        "INSERT INTO users(name, email, password_hash, created_at_ms)"
        " VALUES ('Ada', 'ada@example.org', 'hash', 1234);"
        "INSERT INTO outbox(message_id, exchange, routing_key, type, body, created_at_ms)"
        " VALUES ('m-1', 'email', 'send', 'email.send', '{}', 1234)"));
  }

  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store) << store.error().message;
  auto existing = (*store)->FindUserByEmail("ada@example.org");
  auto pending = (*store)->PendingOutbox(10);
  auto newcomer = (*store)->CreateUser(User("grace@example.org"), {Welcome("m-2")});

  ASSERT_TRUE(existing && *existing);
  EXPECT_TRUE((*existing)->is_confirmed);
  EXPECT_EQ((*existing)->created_at_ms, 1234);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1U);
  EXPECT_EQ(pending->front().message.message_id, "m-1");
  ASSERT_TRUE(newcomer) << newcomer.error().message;
  auto fresh = (*store)->FindUser(*newcomer);
  ASSERT_TRUE(fresh && *fresh);
  EXPECT_FALSE((*fresh)->is_confirmed);
}

TEST(OpenStoreTest, OpensSqliteUrl) {
  TempDir dir;

  auto memory = OpenStore("sqlite::memory:");
  auto file = OpenStore("sqlite:" + (dir.path() / "sub" / "x.db").string());

  ASSERT_TRUE(memory) << memory.error().message;
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_TRUE((*memory)->Ping());
  EXPECT_TRUE((*file)->Ping());
}

TEST(OpenStoreTest, RejectsUnknownScheme) {
  auto store = OpenStore("postgres://localhost/inkwell");

  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("postgres"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace inkwell::db
