#include "db/group_commit.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

namespace inkwell::db {
namespace {

std::int64_t CountRows(SqliteDatabase& database, std::mutex& mutex) {
  std::lock_guard lock(mutex);
  auto select = database.Prepare("SELECT COUNT(*) FROM items");
  EXPECT_TRUE(select);
  EXPECT_TRUE(select->Step());
  return select->Int(0);
}

core::Result<void> InsertItem(SqliteDatabase& database, std::int64_t value) {
  auto insert = database.Prepare("INSERT INTO items(value) VALUES (?)");
  if (!insert) return tl::unexpected(insert.error());
  insert->Bind(1, value);
  if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
  return {};
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("inkwell-group-commit-" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path_);
    auto opened = SqliteDatabase::Open(path_.string());
    ASSERT_TRUE(opened) << opened.error().message;
    database_.emplace(std::move(*opened));
    ASSERT_TRUE(database_->Execute("CREATE TABLE items (value INTEGER PRIMARY KEY)"));
  }
  void TearDown() override {
    database_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }

  std::filesystem::path path_;
  std::optional<SqliteDatabase> database_;
  std::mutex mutex_;
};

TEST_F(GroupCommitTest, OnCommittedRunsAfterTheCommitWhileTheConnectionIsStillHeld) {
  GroupCommit group_commit(*database_, mutex_);
  bool was_called = false;
  bool was_connection_free = true;
  std::int64_t rows_seen = -1;

  auto written = group_commit.Run([&] { return InsertItem(*database_, 1); },
                                  [&] {
                                    was_called = true;
                                    // Another thread cannot take the connection yet.
                                    std::thread other([&] {
                                      was_connection_free = mutex_.try_lock();
                                      if (was_connection_free) mutex_.unlock();
                                    });
                                    other.join();
                                    // Committed already: a second connection sees the row.
                                    auto reader = SqliteDatabase::Open(path_.string());
                                    if (!reader) return;
                                    auto select = reader->Prepare("SELECT COUNT(*) FROM items");
                                    if (select && select->Step()) rows_seen = select->Int(0);
                                  });

  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(was_called);
  EXPECT_FALSE(was_connection_free);
  EXPECT_EQ(rows_seen, 1);
}

TEST_F(GroupCommitTest, OnCommittedDoesNotRunForAFailedWrite) {
  GroupCommit group_commit(*database_, mutex_);
  ASSERT_TRUE(group_commit.Run([&] { return InsertItem(*database_, 1); }));
  bool was_called = false;

  auto duplicate = group_commit.Run([&] { return InsertItem(*database_, 1); },  // primary key taken
                                    [&] { was_called = true; });

  EXPECT_FALSE(duplicate);
  EXPECT_FALSE(was_called);
}

TEST_F(GroupCommitTest, ConcurrentWritesAllCommit) {
  GroupCommit group_commit(*database_, mutex_);
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};

  for (int i = 0; i < 16; ++i) {
    writers.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        const std::int64_t value = i * 100 + j;
        if (!group_commit.Run([&] { return InsertItem(*database_, value); })) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CountRows(*database_, mutex_), 160);
}

TEST_F(GroupCommitTest, FailedWriteIsRolledBackAloneAndReportsItsError) {
  GroupCommit group_commit(*database_, mutex_);
  ASSERT_TRUE(group_commit.Run([&] { return InsertItem(*database_, 1); }));
  std::vector<std::thread> writers;
  std::atomic<int> conflicts{0};
  std::atomic<int> successes{0};

  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] {
      // Writer 0 inserts a duplicate key after a good row: its whole write must vanish.
      auto outcome = group_commit.Run([&]() -> core::Result<void> {
        if (i != 0) return InsertItem(*database_, 10 + i);
        if (auto first = InsertItem(*database_, 1000); !first) return first;
        return InsertItem(*database_, 1);
      });
      if (outcome) {
        ++successes;
      } else if (outcome.error().code == core::ErrorCode::kConflict) {
        ++conflicts;
      }
    });
  }
  for (auto& writer : writers) writer.join();

  EXPECT_EQ(conflicts.load(), 1);
  EXPECT_EQ(successes.load(), 7);
  EXPECT_EQ(CountRows(*database_, mutex_), 1 + 7);  // row 1000 was rolled back with its write
}

TEST_F(GroupCommitTest, WriteThatThrowsFailsAloneAndLaterWritesStillCommit) {
  GroupCommit group_commit(*database_, mutex_);

  auto thrown = group_commit.Run([&]() -> core::Result<void> {
    if (auto first = InsertItem(*database_, 7); !first) return first;
    throw std::runtime_error("outbox callback broke");
  });
  auto later = group_commit.Run([&] { return InsertItem(*database_, 8); });

  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(thrown.error().message.find("outbox callback broke"), std::string::npos);
  EXPECT_TRUE(later);
  EXPECT_EQ(CountRows(*database_, mutex_), 1);  // row 7 rolled back with its write
}

TEST_F(GroupCommitTest, WhenSQLiteRollsTheTransactionBackNoWriteOfTheBatchCommits) {
  GroupCommit group_commit(*database_, mutex_);
  // The first batch holds the leader while the next two writes queue up behind it, in order.
  std::thread first([&] {
    EXPECT_TRUE(group_commit.Run([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return InsertItem(*database_, 1);
    }));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::optional<core::Result<void>> failing;
  std::optional<core::Result<void>> after;
  std::thread second([&] {
    failing = group_commit.Run([&]() -> core::Result<void> {
      if (auto inserted = InsertItem(*database_, 2); !inserted) return inserted;
      // What SQLite does by itself on SQLITE_FULL or an I/O error in a statement: the whole
      // transaction is gone, not only this write's savepoint.
      EXPECT_TRUE(database_->Execute("ROLLBACK"));
      return core::Fail(core::ErrorCode::kUnavailable, "database or disk is full");
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread third([&] { after = group_commit.Run([&] { return InsertItem(*database_, 3); }); });
  first.join();
  second.join();
  third.join();

  ASSERT_TRUE(failing && after);
  EXPECT_FALSE(*failing);
  // The write after it must not run in a transaction of its own and commit alone.
  ASSERT_FALSE(*after);
  EXPECT_EQ(after->error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(CountRows(*database_, mutex_), 1);  // only the first batch's row
}

}  // namespace
}  // namespace inkwell::db
