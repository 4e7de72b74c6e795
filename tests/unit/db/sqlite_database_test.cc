#include "db/sqlite_database.h"

#include <sqlite3.h>

#include <optional>
#include <stdexcept>
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
  auto executed_script = database->Execute("SELECT 1; SELEC nonsense");
  auto prepared = database->Prepare("SELECT * FROM missing_table");

  ASSERT_FALSE(executed);  // one statement: prepared (and kept) like Prepare's
  EXPECT_EQ(executed.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(executed.error().message.find("sqlite3_prepare_v2"), std::string::npos);
  ASSERT_FALSE(executed_script);
  EXPECT_EQ(executed_script.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(executed_script.error().message.find("sqlite3_exec"), std::string::npos);
  ASSERT_FALSE(prepared);
  EXPECT_EQ(prepared.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(prepared.error().message.find("sqlite3_prepare_v2"), std::string::npos);
}

// Statements go back to their connection's cache when destroyed and come out of it reset.

SqliteDatabase TableOfThree() {
  auto database = SqliteDatabase::Open(":memory:");
  if (!database) throw std::runtime_error(database.error().message);  // fails the test
  if (auto created = database->Execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
      !created) {
    throw std::runtime_error(created.error().message);
  }
  return std::move(*database);
}

TEST(SqliteStatementCacheTest, AStatementGivenBackIsTheOneTakenNext) {
  SqliteDatabase database = TableOfThree();
  const std::size_t before = database.IdleStatements();
  {
    auto select = database.Prepare("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(select);
    EXPECT_EQ(database.IdleStatements(), before);
  }
  EXPECT_EQ(database.IdleStatements(), before + 1);  // given back, not finalized

  auto again = database.Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(again);
  EXPECT_EQ(database.IdleStatements(), before);  // taken from the cache
  auto other = database.Prepare("SELECT COUNT(*) FROM t WHERE x > 1");
  ASSERT_TRUE(other);
  EXPECT_EQ(database.IdleStatements(), before);  // another text: prepared anew
}

TEST(SqliteStatementCacheTest, AStatementTakenAgainHasNoBindingsLeft) {
  SqliteDatabase database = TableOfThree();
  {
    auto first = database.Prepare("SELECT COUNT(*) FROM t WHERE x = ?");
    ASSERT_TRUE(first);
    first->Bind(1, std::int64_t{2});
    auto has_row = first->Step();
    ASSERT_TRUE(has_row && *has_row);
    EXPECT_EQ(first->Int(0), 1);
  }

  auto again = database.Prepare("SELECT COUNT(*) FROM t WHERE x = ?");
  ASSERT_TRUE(again);
  auto has_row = again->Step();  // unbound: x = NULL matches nothing

  ASSERT_TRUE(has_row && *has_row);
  EXPECT_EQ(again->Int(0), 0);
}

TEST(SqliteStatementCacheTest, ASelectGivenBackAtARowIsResetAndHoldsNothing) {
  SqliteDatabase database = TableOfThree();
  {
    auto select = database.Prepare("SELECT x FROM t ORDER BY x");
    ASSERT_TRUE(select);
    ASSERT_TRUE(select->Step());  // at the first of three rows
  }

  // SQLite refuses to drop a table that a running statement of the connection reads.
  auto dropped = database.Execute("DROP TABLE t");

  EXPECT_TRUE(dropped) << dropped.error().message;
}

TEST(SqliteStatementCacheTest, TwoStatementsOfOneTextRunSideBySide) {
  SqliteDatabase database = TableOfThree();
  auto outer = database.Prepare("SELECT x FROM t ORDER BY x");
  ASSERT_TRUE(outer);
  ASSERT_TRUE(outer->Step());

  auto inner = database.Prepare("SELECT x FROM t ORDER BY x");
  ASSERT_TRUE(inner);
  ASSERT_TRUE(inner->Step());
  ASSERT_TRUE(inner->Step());
  ASSERT_TRUE(outer->Step());

  EXPECT_EQ(inner->Int(0), 2);
  EXPECT_EQ(outer->Int(0), 2);
}

TEST(SqliteStatementCacheTest, AStatementReturnsToItsConnectionAfterTheConnectionMoved) {
  SqliteDatabase database = TableOfThree();
  std::optional<SqliteDatabase> moved;
  {
    auto select = database.Prepare("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(select);
    moved.emplace(std::move(database));
    const std::size_t before = moved->IdleStatements();
    auto has_row = select->Step();
    ASSERT_TRUE(has_row && *has_row);
    EXPECT_EQ(select->Int(0), 3);
    select = moved->Prepare("SELECT 1");  // the first statement goes back: to moved's cache

    EXPECT_EQ(moved->IdleStatements(), before + 1);
  }
  auto again = moved->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(again);
  auto has_row = again->Step();
  ASSERT_TRUE(has_row && *has_row);
  EXPECT_EQ(again->Int(0), 3);
}

TEST(SqliteStatementCacheTest, ManyDifferentTextsAllRunPastTheCachesBound) {
  SqliteDatabase database = TableOfThree();
  for (int i = 0; i < 300; ++i) {  // more texts than the cache keeps, each run twice
    const std::string sql = "SELECT COUNT(*) + " + std::to_string(i) + " FROM t";
    for (int round = 0; round < 2; ++round) {
      auto select = database.Prepare(sql);
      ASSERT_TRUE(select) << select.error().message;
      ASSERT_TRUE(select->Step());
      ASSERT_EQ(select->Int(0), 3 + i);
    }
  }
}

TEST(SqliteStatementCacheTest, AStatementThatDoesNotCompileTakesNoPlace) {
  SqliteDatabase database = TableOfThree();
  const std::size_t before = database.IdleStatements();

  EXPECT_FALSE(database.Prepare("SELECT * FROM missing"));
  EXPECT_FALSE(database.Execute("SELEC nonsense"));

  EXPECT_EQ(database.IdleStatements(), before);
}

TEST(SqliteStatementCacheTest, ExecuteKeepsTransactionControlPrepared) {
  SqliteDatabase database = TableOfThree();
  ASSERT_TRUE(database.Execute("BEGIN IMMEDIATE"));
  ASSERT_TRUE(database.Execute("COMMIT"));
  const std::size_t kept = database.IdleStatements();
  EXPECT_GE(kept, 2U);
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(database.Execute("BEGIN IMMEDIATE"));
    ASSERT_TRUE(database.Execute("SAVEPOINT write"));
    ASSERT_TRUE(database.Execute("DELETE FROM t WHERE x = 1"));
    ASSERT_TRUE(database.Execute("ROLLBACK TO write"));
    ASSERT_TRUE(database.Execute("RELEASE write"));
    ASSERT_TRUE(database.Execute("COMMIT"));
    EXPECT_FALSE(database.IsInTransaction());
  }
  EXPECT_EQ(CountRows(database, "t"), 3);
  // SAVEPOINT, DELETE, ROLLBACK TO, RELEASE and the count join BEGIN IMMEDIATE and COMMIT,
  // each kept once however many rounds ran.
  EXPECT_EQ(database.IdleStatements(), kept + 5);
  EXPECT_TRUE(database.Execute(""));  // nothing to run is not an error
  EXPECT_TRUE(database.Execute("-- a comment only"));
  auto outside = database.Execute("COMMIT");  // no transaction: SQLite's error, as before
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("no transaction"), std::string::npos) << outside.error().message;
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
