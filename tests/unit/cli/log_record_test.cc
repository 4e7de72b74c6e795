#include "cli/log_record.h"

#include <gtest/gtest.h>

namespace inkwell::cli {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::system_clock::time_point;
const Time kRecordTime = Time(milliseconds(1'795'853'411'123));  // 2026-11-28T08:10:11.123Z

TEST(LogRecordTest, SpanRecordParsesEveryPart) {
  const std::string line =
      R"({"time":"2026-11-28T08:10:11.123Z","service":"inkwell-web","instance":"h:1","level":"info",)"
      R"("message":"http request","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","kind":"span",)"
      R"("duration_ms":12.345,"fields":{"method":"POST","route":"/api/v1/users","status":"201"}})";

  const auto record = ParseLogRecord(line);

  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->time, kRecordTime);
  EXPECT_EQ(record->service, "inkwell-web");
  EXPECT_EQ(record->instance, "h:1");
  EXPECT_EQ(record->level, "info");
  EXPECT_EQ(record->message, "http request");
  EXPECT_EQ(record->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(record->kind, "span");
  EXPECT_DOUBLE_EQ(record->duration_ms.value_or(0), 12.345);
  ASSERT_EQ(record->fields.size(), 3U);
  EXPECT_EQ(record->fields[0].first, "method");  // the record's order, not sorted
  EXPECT_EQ(record->fields[2].first, "status");
  EXPECT_EQ(record->Field("route"), "/api/v1/users");
  EXPECT_EQ(record->raw, line);
}

TEST(LogRecordTest, NonStringFieldValuesAreKeptAsJsonText) {
  const auto record = ParseLogRecord(R"({"time":"x","fields":{"n":3,"b":true}})");

  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->Field("n"), "3");
  EXPECT_EQ(record->Field("b"), "true");
}

TEST(LogRecordTest, MalformedTimeGivesTheEpoch) {
  const auto record = ParseLogRecord(R"({"time":"yesterday","message":"m"})");

  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->time, Time{});
}

TEST(LogRecordTest, LineThatIsNotAJsonObjectIsRejected) {
  EXPECT_FALSE(ParseLogRecord("not json").has_value());
  EXPECT_FALSE(ParseLogRecord("[1]").has_value());
  EXPECT_FALSE(ParseLogRecord("").has_value());
}

TEST(LogRecordTest, Rfc3339WithOffsetIsConvertedToUtc) {
  EXPECT_EQ(ParseRfc3339("2026-11-28T09:10:11.123+01:00"), kRecordTime);
  EXPECT_EQ(ParseRfc3339("2026-11-28 08:10:11.123z"), kRecordTime);
  EXPECT_EQ(ParseRfc3339("2026-11-28T08:10:11Z"), kRecordTime - milliseconds(123));
}

TEST(LogRecordTest, MalformedRfc3339IsRejected) {
  EXPECT_FALSE(ParseRfc3339("2026-11-28T08:10:11").has_value());  // no zone
  EXPECT_FALSE(ParseRfc3339("2026-13-28T08:10:11Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-28T08:10:11.Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-28T08:10:11Zjunk").has_value());
}

}  // namespace
}  // namespace inkwell::cli
