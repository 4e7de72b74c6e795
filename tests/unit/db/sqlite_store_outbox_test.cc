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

}  // namespace
}  // namespace inkwell::db
