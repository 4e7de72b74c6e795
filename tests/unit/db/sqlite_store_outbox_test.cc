// Outbox claims: several stores (standing in for several processes) share one database file.
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_database.h"
#include "db/sqlite_store.h"
#include "store_test_support.h"
#include "temp_dir.h"

namespace inkwell::db {
namespace {

std::vector<std::string> MessageIdsOf(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> ids;
  for (const OutboxRow& row : rows) ids.push_back(row.message.message_id);
  return ids;
}

std::vector<std::int64_t> IdsOf(const std::vector<OutboxRow>& rows) {
  std::vector<std::int64_t> ids;
  for (const OutboxRow& row : rows) ids.push_back(row.id);
  return ids;
}

// Writes one user with messages m-0 .. m-(count-1).
void WriteMessages(Store& store, int count) {
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < count; ++i) messages.push_back(Event("m-" + std::to_string(i)));
  auto id = store.CreateUser(NewUser{"Ada", "ada@example.org", "$argon2id$hash", "", 0}, messages);
  ASSERT_TRUE(id) << id.error().message;
}

class SqliteStoreOutboxTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> Open(
      std::chrono::milliseconds lease = std::chrono::seconds(30)) const {
    auto store = SqliteStore::Open(path_, lease);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  TempDir dir_;
  const std::string path_ = (dir_.path() / "inkwell.db").string();
};

TEST_F(SqliteStoreOutboxTest, TwoStoresOnOneFileNeverGetTheSameRowWhileTheLeaseHolds) {
  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  WriteMessages(*first, 4);

  auto first_claim = first->PendingOutbox(2);
  auto second_claim = second->PendingOutbox(10);
  auto first_again = first->PendingOutbox(10);
  auto second_again = second->PendingOutbox(10);

  ASSERT_TRUE(first_claim && second_claim && first_again && second_again);
  EXPECT_EQ(MessageIdsOf(*first_claim), (std::vector<std::string>{"m-0", "m-1"}));
  EXPECT_EQ(MessageIdsOf(*second_claim), (std::vector<std::string>{"m-2", "m-3"}));
  EXPECT_EQ(MessageIdsOf(*first_again), (std::vector<std::string>{"m-0", "m-1"}));
  EXPECT_EQ(MessageIdsOf(*second_again), (std::vector<std::string>{"m-2", "m-3"}));
}

TEST_F(SqliteStoreOutboxTest, ConcurrentRelaysOnOneFileClaimEachRowOnce) {
  constexpr int kMessages = 60;
  auto writer = Open();
  ASSERT_TRUE(writer);
  WriteMessages(*writer, kMessages);
  std::map<std::string, int> claims;
  std::mutex claims_mutex;
  const auto relay = [&] {
    auto store = Open();
    if (!store) return;
    for (;;) {
      auto rows = store->PendingOutbox(4);
      ASSERT_TRUE(rows) << rows.error().message;
      if (rows->empty()) return;
      {
        std::lock_guard lock(claims_mutex);
        for (const OutboxRow& row : *rows) ++claims[row.message.message_id];
      }
      const std::vector<std::int64_t> ids = IdsOf(*rows);
      ASSERT_TRUE(store->MarkOutboxSent(ids));
    }
  };

  std::thread one(relay);
  std::thread two(relay);
  one.join();
  two.join();

  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [message_id, count] : claims) EXPECT_EQ(count, 1) << message_id;
}

TEST_F(SqliteStoreOutboxTest, AnotherStoreMayClaimRowsOnceTheLeaseRunsOut) {
  auto short_lease = Open(std::chrono::milliseconds(50));
  auto other = Open();
  ASSERT_TRUE(short_lease && other);
  WriteMessages(*short_lease, 2);
  auto claimed = short_lease->PendingOutbox(10);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 2U);

  auto during_lease = other->PendingOutbox(10);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  auto after_lease = other->PendingOutbox(10);
  auto original_after = short_lease->PendingOutbox(10);

  ASSERT_TRUE(during_lease && after_lease && original_after);
  EXPECT_TRUE(during_lease->empty());
  EXPECT_EQ(MessageIdsOf(*after_lease), (std::vector<std::string>{"m-0", "m-1"}));
  EXPECT_TRUE(original_after->empty());
}

TEST_F(SqliteStoreOutboxTest, ReleaseOutboxClaimsLetsAnotherStoreClaimAtOnce) {
  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  WriteMessages(*first, 2);
  ASSERT_TRUE(first->PendingOutbox(10));

  auto released = first->ReleaseOutboxClaims();
  auto taken = second->PendingOutbox(10);

  ASSERT_TRUE(released) << released.error().message;
  ASSERT_TRUE(taken);
  EXPECT_EQ(MessageIdsOf(*taken), (std::vector<std::string>{"m-0", "m-1"}));
}

TEST_F(SqliteStoreOutboxTest, ReleaseOutboxClaimsLeavesOtherStoresClaims) {
  auto first = Open();
  auto second = Open();
  auto third = Open();
  ASSERT_TRUE(first && second && third);
  WriteMessages(*first, 2);
  ASSERT_TRUE(second->PendingOutbox(1));

  ASSERT_TRUE(first->ReleaseOutboxClaims());
  auto taken = third->PendingOutbox(10);

  ASSERT_TRUE(taken);
  EXPECT_EQ(MessageIdsOf(*taken), std::vector<std::string>{"m-1"});
}

TEST_F(SqliteStoreOutboxTest, RecordOutboxFailureReleasesTheClaim) {
  auto store = Open();
  ASSERT_TRUE(store);
  WriteMessages(*store, 2);
  auto claimed = store->PendingOutbox(10);
  ASSERT_TRUE(claimed);
  const std::vector<std::int64_t> failed = {claimed->front().id};

  auto recorded = store->RecordOutboxFailure(failed, "nacked");

  ASSERT_TRUE(recorded) << recorded.error().message;
  auto database = SqliteDatabase::Open(path_);
  ASSERT_TRUE(database);
  auto select = database->Prepare("SELECT id, claimed_by IS NULL FROM outbox ORDER BY id");
  ASSERT_TRUE(select);
  std::vector<std::pair<std::int64_t, bool>> unclaimed;
  while (select->Step().value_or(false)) unclaimed.emplace_back(select->Int(0), select->Int(1));
  EXPECT_EQ(unclaimed, (std::vector<std::pair<std::int64_t, bool>>{{(*claimed)[0].id, true},
                                                                   {(*claimed)[1].id, false}}));
}

TEST_F(SqliteStoreOutboxTest, SentRowsAreNeverClaimedAgain) {
  auto first = Open(std::chrono::milliseconds(1));
  auto second = Open();
  ASSERT_TRUE(first && second);
  WriteMessages(*first, 1);
  auto claimed = first->PendingOutbox(10);
  ASSERT_TRUE(claimed);
  ASSERT_TRUE(first->MarkOutboxSent(IdsOf(*claimed)));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto after = second->PendingOutbox(10);

  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

// ---- Rows handed to a listener (the relay in the same process) ----

// Collects what the listener is handed, from any thread.
struct Handed {
  std::mutex mutex;
  std::vector<std::vector<OutboxRow>> calls;
  Store::OutboxListener Listener() {
    return [this](std::vector<OutboxRow> rows) {
      std::lock_guard lock(mutex);
      calls.push_back(std::move(rows));
    };
  }
};

NewUser UserWithAddress(const std::string& email) {
  return NewUser{"Ada", email, "$argon2id$hash", "", 0};
}

TEST_F(SqliteStoreOutboxTest, ACommittedWriteHandsItsRowsBornClaimedByThisStore) {
  auto relaying = Open();
  auto other = Open();
  ASSERT_TRUE(relaying && other);
  Handed handed;
  ASSERT_TRUE(relaying->SetOutboxListener(handed.Listener()));

  auto id = relaying->CreateUser(UserWithAddress("ada@example.org"), {Event("m-0"), Event("m-1", "{\"n\":1}")});
  ASSERT_TRUE(id) << id.error().message;

  ASSERT_EQ(handed.calls.size(), 1U);
  const std::vector<OutboxRow>& rows = handed.calls[0];
  EXPECT_EQ(MessageIdsOf(rows), (std::vector<std::string>{"m-0", "m-1"}));
  EXPECT_EQ(rows[1].message.body, "{\"n\":1}");
  EXPECT_GT(rows[0].created_at_ms, 0);
  // Claimed from birth: another instance's relay leaves them alone, this one's claim still
  // returns them (after a lost connection, say), with the same ids it was handed.
  auto others_claim = other->PendingOutbox(10);
  auto own_claim = relaying->PendingOutbox(10);
  ASSERT_TRUE(others_claim && own_claim);
  EXPECT_TRUE(others_claim->empty());
  EXPECT_EQ(IdsOf(*own_claim), IdsOf(rows));
}

TEST_F(SqliteStoreOutboxTest, AFailedWriteHandsNothing) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateUser(UserWithAddress("ada@example.org"), {Event("first")}));
  Handed handed;
  ASSERT_TRUE(store->SetOutboxListener(handed.Listener()));

  auto again = store->CreateUser(UserWithAddress("ADA@example.org"), {Event("second")});

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_TRUE(handed.calls.empty());
  auto pending = store->PendingOutbox(10);
  ASSERT_TRUE(pending);
  EXPECT_EQ(MessageIdsOf(*pending), (std::vector<std::string>{"first"}));
}

TEST_F(SqliteStoreOutboxTest, WithoutAListenerRowsAreBornUnclaimedAndNothingIsHanded) {
  auto store = Open();
  auto other = Open();
  ASSERT_TRUE(store && other);
  Handed handed;
  ASSERT_TRUE(store->SetOutboxListener(handed.Listener()));
  ASSERT_TRUE(store->SetOutboxListener(nullptr));

  ASSERT_TRUE(store->CreateUser(UserWithAddress("ada@example.org"), {Event("m-0")}));

  EXPECT_TRUE(handed.calls.empty());
  auto taken = other->PendingOutbox(10);
  ASSERT_TRUE(taken);
  EXPECT_EQ(MessageIdsOf(*taken), (std::vector<std::string>{"m-0"}));
}

TEST_F(SqliteStoreOutboxTest, WritesSharingAGroupCommitEachHandTheirOwnRows) {
  constexpr int kWriters = 8;
  constexpr int kUsersEach = 25;
  auto store = Open();
  ASSERT_TRUE(store);
  Handed handed;
  ASSERT_TRUE(store->SetOutboxListener(handed.Listener()));

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&store, w] {
      for (int u = 0; u < kUsersEach; ++u) {
        const std::string user = std::to_string(w) + "-" + std::to_string(u);
        auto id = store->CreateUser(UserWithAddress("u" + user + "@example.org"),
                                    {Event(user + "/a"), Event(user + "/b")});
        EXPECT_TRUE(id) << id.error().message;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();

  // One call per transaction, holding exactly that transaction's two rows, under their ids.
  ASSERT_EQ(handed.calls.size(), static_cast<std::size_t>(kWriters * kUsersEach));
  std::map<std::int64_t, std::string> handed_ids;
  for (const std::vector<OutboxRow>& rows : handed.calls) {
    ASSERT_EQ(rows.size(), 2U);
    const std::string& first = rows[0].message.message_id;
    const std::string user = first.substr(0, first.find('/'));
    EXPECT_EQ(MessageIdsOf(rows), (std::vector<std::string>{user + "/a", user + "/b"}));
    for (const OutboxRow& row : rows) handed_ids.emplace(row.id, row.message.message_id);
  }
  auto stored = store->PendingOutbox(1000);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), handed_ids.size());
  for (const OutboxRow& row : *stored) EXPECT_EQ(handed_ids[row.id], row.message.message_id);
}

}  // namespace
}  // namespace inkwell::db
