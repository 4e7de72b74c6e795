#include <string>

#include <gtest/gtest.h>

#include "db/delivery_log.h"
#include "temp_dir.h"

namespace inkwell::db {
namespace {

TEST(SqliteDeliveryLogTest, ContainsOnlyRecordedIds) {
  auto log = OpenDeliveryLog("sqlite::memory:");
  ASSERT_TRUE(log) << log.error().message;

  auto before = (*log)->Contains("m-1");
  auto recorded = (*log)->Record("m-1");
  auto after = (*log)->Contains("m-1");
  auto other = (*log)->Contains("m-2");

  ASSERT_TRUE(before && recorded && after && other);
  EXPECT_FALSE(*before);
  EXPECT_TRUE(*after);
  EXPECT_FALSE(*other);
}

TEST(SqliteDeliveryLogTest, RecordingTwiceIsNotAnError) {
  auto log = OpenDeliveryLog("sqlite::memory:");
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE((*log)->Record("m-1"));

  auto again = (*log)->Record("m-1");

  EXPECT_TRUE(again) << again.error().message;
  EXPECT_TRUE(*(*log)->Contains("m-1"));
}

TEST(SqliteDeliveryLogTest, ComparesIdsExactly) {
  auto log = OpenDeliveryLog("sqlite::memory:");
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->Record("Message-A"));

  auto other_case = (*log)->Contains("message-a");

  ASSERT_TRUE(other_case);
  EXPECT_FALSE(*other_case);
}

TEST(SqliteDeliveryLogTest, RecordAllRecordsEveryIdAndToleratesKnownOnes) {
  auto log = OpenDeliveryLog("sqlite::memory:");
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE((*log)->Record("m-2"));

  auto recorded = (*log)->RecordAll({"m-1", "m-2", "m-3"});

  ASSERT_TRUE(recorded) << recorded.error().message;
  for (const char* id : {"m-1", "m-2", "m-3"}) EXPECT_TRUE(*(*log)->Contains(id)) << id;
  EXPECT_FALSE(*(*log)->Contains("m-4"));
}

TEST(SqliteDeliveryLogTest, RecordAllIsDurableAcrossReopening) {
  TempDir dir;
  const std::string url = "sqlite:" + (dir.path() / "mailer.db").string();
  {
    auto log = OpenDeliveryLog(url);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_TRUE((*log)->RecordAll({"a", "b"}));
  }

  auto reopened = OpenDeliveryLog(url);
  ASSERT_TRUE(reopened) << reopened.error().message;

  EXPECT_TRUE(*(*reopened)->Contains("a"));
  EXPECT_TRUE(*(*reopened)->Contains("b"));
}

TEST(SqliteDeliveryLogTest, RecordsSurviveReopeningTheFile) {
  TempDir dir;
  const std::string url = "sqlite:" + (dir.path() / "mailer" / "mailer.db").string();
  {
    auto log = OpenDeliveryLog(url);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_TRUE((*log)->Record("m-1"));
  }

  auto reopened = OpenDeliveryLog(url);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto contains = (*reopened)->Contains("m-1");

  ASSERT_TRUE(contains);
  EXPECT_TRUE(*contains);
}

TEST(SqliteDeliveryLogTest, RejectsUrlThatIsNotSqlite) {
  auto log = OpenDeliveryLog("mysql://localhost/mailer");

  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace inkwell::db
