#include "db/sqlite_database.h"

#include <sqlite3.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace inkwell::db {
namespace {

std::int64_t CountRows(SqliteDatabase& database, const std::string& table) {
  auto select = database.Prepare("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(select) << select.error().message;
  if (!select) return -1;
  auto has_row = select->Step();
  EXPECT_TRUE(has_row && *has_row);
  return select->Int(0);
}

std::int64_t SchemaVersion(SqliteDatabase& database) {
  auto select = database.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  EXPECT_TRUE(select) << select.error().message;
  if (!select) return -1;
  EXPECT_TRUE(select->Step());
  return select->Int(0);
}

TEST(SqliteDatabaseTest, OpensInMemoryDatabase) {
  auto database = SqliteDatabase::Open(":memory:");

  ASSERT_TRUE(database) << database.error().message;
  EXPECT_TRUE(database->Execute("CREATE TABLE t(x INTEGER)"));
}

TEST(SqliteDatabaseTest, CreatesParentDirectoriesOfFilePath) {
  TempDir dir;
  const auto path = dir.path() / "nested" / "deeper" / "test.db";

  auto database = SqliteDatabase::Open(path.string());

  ASSERT_TRUE(database) << database.error().message;
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(SqliteDatabaseTest, OpenFailsWhenParentCannotBeCreated) {
  TempDir dir;
  const auto file = dir.path() / "file";
  ASSERT_TRUE(SqliteDatabase::Open(file.string()));

  auto database = SqliteDatabase::Open((file / "below-a-file.db").string());

  ASSERT_FALSE(database);
  EXPECT_EQ(database.error().code, core::ErrorCode::kUnavailable) << database.error().message;
}

TEST(SqliteDatabaseTest, BindsAndReadsTextAndIntegers) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);
  ASSERT_TRUE(database->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER)"));
  auto insert = database->Prepare("INSERT INTO t(name, n) VALUES (?, ?)");
  ASSERT_TRUE(insert) << insert.error().message;
  const std::string with_nul("a\0b", 3);

  insert->Bind(1, with_nul).Bind(2, std::int64_t{1} << 40);
  auto inserted = insert->Step();
  const std::int64_t id = database->LastInsertId();
  auto select = database->Prepare("SELECT name, n FROM t WHERE id = ?");
  ASSERT_TRUE(select);
  select->Bind(1, id);
  auto has_row = select->Step();

  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_FALSE(*inserted);
  ASSERT_TRUE(has_row && *has_row);
  EXPECT_EQ(select->Text(0), with_nul);
  EXPECT_EQ(select->Int(1), std::int64_t{1} << 40);
}

TEST(SqliteDatabaseTest, ConstraintViolationIsConflict) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);
  ASSERT_TRUE(database->Execute("CREATE TABLE t(x TEXT UNIQUE); INSERT INTO t VALUES ('a')"));
  auto insert = database->Prepare("INSERT INTO t VALUES ('a')");
  ASSERT_TRUE(insert);

  auto stepped = insert->Step();

  ASSERT_FALSE(stepped);
  EXPECT_EQ(stepped.error().code, core::ErrorCode::kConflict) << stepped.error().message;
  EXPECT_NE(stepped.error().message.find("sqlite3_step"), std::string::npos);
}

TEST(SqliteDatabaseTest, BadSqlIsInternalAndNamesTheCall) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);

  auto executed = database->Execute("SELEC nonsense");
  auto prepared = database->Prepare("SELECT * FROM missing_table");

  ASSERT_FALSE(executed);
  EXPECT_EQ(executed.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(executed.error().message.find("sqlite3_exec"), std::string::npos);
  ASSERT_FALSE(prepared);
  EXPECT_EQ(prepared.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(prepared.error().message.find("sqlite3_prepare_v2"), std::string::npos);
}

TEST(SqliteErrorTest, MapsBusyLockedAndIoErrorsToUnavailable) {
  for (const int code : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_IOERR_FSYNC,
                         SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY}) {
    const core::Error error = SqliteError(nullptr, code, "call");

    EXPECT_EQ(error.code, core::ErrorCode::kUnavailable) << code;
    EXPECT_EQ(error.message.rfind("call: ", 0), 0U) << error.message;
  }
}

TEST(SqliteErrorTest, MapsConstraintToConflictAndTheRestToInternal) {
  const core::Error unique = SqliteError(nullptr, SQLITE_CONSTRAINT_UNIQUE, "call");
  const core::Error misuse = SqliteError(nullptr, SQLITE_MISUSE, "call");
  const core::Error corrupt = SqliteError(nullptr, SQLITE_CORRUPT, "call");

  EXPECT_EQ(unique.code, core::ErrorCode::kConflict);
  EXPECT_EQ(misuse.code, core::ErrorCode::kInternal);
  EXPECT_EQ(corrupt.code, core::ErrorCode::kInternal);
}

TEST(SqliteDatabaseMigrateTest, AppliesEachMigrationOnceInOrder) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);
  const std::vector<std::string> first = {"CREATE TABLE a(x)", "INSERT INTO a VALUES (1)"};
  const std::vector<std::string> second = {"CREATE TABLE a(x)", "INSERT INTO a VALUES (1)",
                                           "INSERT INTO a VALUES (2)"};

  auto migrated = database->Migrate(first);
  auto again = database->Migrate(first);
  auto extended = database->Migrate(second);

  EXPECT_TRUE(migrated) << migrated.error().message;
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_TRUE(extended) << extended.error().message;
  EXPECT_EQ(CountRows(*database, "a"), 2);
  EXPECT_EQ(SchemaVersion(*database), 3);
}

TEST(SqliteDatabaseMigrateTest, FailedMigrationIsRolledBackAndNotRecorded) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);
  ASSERT_TRUE(database->Migrate({"CREATE TABLE a(x)"}));

  auto migrated = database->Migrate(
      {"CREATE TABLE a(x)", "INSERT INTO a VALUES (1); INSERT INTO no_such_table VALUES (2)"});

  ASSERT_FALSE(migrated);
  EXPECT_NE(migrated.error().message.find("migration 2"), std::string::npos)
      << migrated.error().message;
  EXPECT_EQ(CountRows(*database, "a"), 0);
  EXPECT_EQ(SchemaVersion(*database), 1);
  EXPECT_TRUE(database->Execute("BEGIN; COMMIT"));  // no transaction left open
}

TEST(SqliteDatabaseMigrateTest, RefusesDatabaseNewerThanTheBuild) {
  auto database = SqliteDatabase::Open(":memory:");
  ASSERT_TRUE(database);
  ASSERT_TRUE(database->Migrate({"CREATE TABLE a(x)", "CREATE TABLE b(x)"}));

  auto migrated = database->Migrate({"CREATE TABLE a(x)"});

  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(migrated.error().message.find("newer"), std::string::npos) << migrated.error().message;
}

}  // namespace
}  // namespace inkwell::db
