#include "db/wal_checkpointer.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "db/sqlite_database.h"
#include "temp_dir.h"

namespace inkwell::db {
namespace {

using namespace std::chrono_literals;

// About 4 MB of rows in one transaction: well past SQLite's 1,000-page automatic checkpoint.
void WriteFourMegabytes(SqliteDatabase& database) {
  ASSERT_TRUE(database.Execute("CREATE TABLE IF NOT EXISTS t (body TEXT)"));
  ASSERT_TRUE(database.Execute("BEGIN IMMEDIATE"));
  auto insert = database.Prepare("INSERT INTO t(body) VALUES (?)");
  ASSERT_TRUE(insert) << insert.error().message;
  const std::string body(4000, 'x');
  for (int i = 0; i < 1000; ++i) {
    insert->Bind(1, body);
    ASSERT_TRUE(insert->Step());
    ASSERT_TRUE(insert->Reset());
  }
  ASSERT_TRUE(database.Execute("COMMIT"));
}

std::uintmax_t SizeOf(const std::filesystem::path& file) {
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  return error ? 0 : size;
}

constexpr std::uintmax_t kCopiedBack = 2'000'000;  // the database file holds the rows

TEST(WalCheckpointerTest, WithoutItTheCommitItselfCopiesTheWalIntoTheDatabase) {
  // SQLite's default, which the checkpointer exists to avoid: the big commit checkpoints.
  TempDir dir;
  const std::string path = (dir.path() / "plain.db").string();
  auto writer = SqliteDatabase::Open(path);
  ASSERT_TRUE(writer) << writer.error().message;
  WriteFourMegabytes(*writer);
  EXPECT_GT(SizeOf(path), kCopiedBack);
}

TEST(WalCheckpointerTest, ItsThreadCopiesTheWalBack) {
  TempDir dir;
  const std::string path = (dir.path() / "store.db").string();
  auto writer = SqliteDatabase::Open(path);
  ASSERT_TRUE(writer) << writer.error().message;
  auto checkpointer = WalCheckpointer::Take(*writer, path, 50ms);
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;
  const std::uint64_t before = (*checkpointer)->checkpoints();
  WriteFourMegabytes(*writer);
  // Its thread copies the WAL back within a few intervals.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (((*checkpointer)->checkpoints() == before || SizeOf(path) <= kCopiedBack) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT(SizeOf(path), kCopiedBack) << "the checkpointer never copied the WAL back";
  EXPECT_GT((*checkpointer)->checkpoints(), before);
  EXPECT_EQ((*checkpointer)->failures(), 0u);
}

TEST(WalCheckpointerTest, ACommitPastAThousandPagesLeavesTheRowsInTheWal) {
  TempDir dir;
  const std::string path = (dir.path() / "store.db").string();
  auto writer = SqliteDatabase::Open(path);
  ASSERT_TRUE(writer) << writer.error().message;
  auto checkpointer = WalCheckpointer::Take(*writer, path, std::chrono::hours(1));
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;
  WriteFourMegabytes(*writer);
  EXPECT_LT(SizeOf(path), kCopiedBack) << "the commit checkpointed by itself";
  EXPECT_GT(SizeOf(path + "-wal"), kCopiedBack);
  // The rows are there all the same, for this connection and for a new one.
  auto reader = SqliteDatabase::Open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto count = reader->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count);
  ASSERT_TRUE(count->Step());
  EXPECT_EQ(count->Int(0), 1000);
}

TEST(WalCheckpointerTest, AReaderOnAnOldSnapshotHoldsTheWalBackUntilItEnds) {
  TempDir dir;
  const std::string path = (dir.path() / "store.db").string();
  auto writer = SqliteDatabase::Open(path);
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->Execute("CREATE TABLE t (body TEXT); INSERT INTO t(body) VALUES ('first')"));
  auto checkpointer = WalCheckpointer::Take(*writer, path, 20ms, /*behind_above_frames=*/100);
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;

  // A reader in the middle of a read transaction: its snapshot predates the big write below.
  auto reader = SqliteDatabase::Open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE(reader->Execute("BEGIN"));
  auto rows = reader->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(rows);
  ASSERT_TRUE(rows->Step());
  EXPECT_EQ(rows->Int(0), 1);

  WriteFourMegabytes(*writer);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(*checkpointer)->is_behind() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE((*checkpointer)->is_behind()) << "1,000 frames could not be copied back past the reader";
  EXPECT_LT(SizeOf(path), kCopiedBack);

  ASSERT_TRUE(rows->Reset());
  ASSERT_TRUE(reader->Execute("COMMIT"));  // the snapshot ends
  deadline = std::chrono::steady_clock::now() + 10s;
  while (((*checkpointer)->is_behind() || SizeOf(path) <= kCopiedBack) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE((*checkpointer)->is_behind());
  EXPECT_GT(SizeOf(path), kCopiedBack) << "the WAL was not copied back once the reader ended";
}

TEST(WalCheckpointerTest, MissingDirectoryFailsAndLeavesTheWriterAlone) {
  TempDir dir;
  const std::string path = (dir.path() / "store.db").string();
  auto writer = SqliteDatabase::Open(path);
  ASSERT_TRUE(writer) << writer.error().message;
  // A path SQLite cannot open: a directory where the file should be.
  const std::filesystem::path blocked = dir.path() / "blocked.db";
  std::filesystem::create_directory(blocked);
  EXPECT_FALSE(WalCheckpointer::Take(*writer, blocked.string(), 50ms));
  WriteFourMegabytes(*writer);
  EXPECT_GT(SizeOf(path), kCopiedBack) << "automatic checkpoints were turned off all the same";
}

}  // namespace
}  // namespace inkwell::db
