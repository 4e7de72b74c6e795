#include "cli/log_filter.h"

#include <gtest/gtest.h>

namespace inkwell::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;
const Time kNow = Time(seconds(1'800'000'000));

LogRecord Record(std::string service, std::string level, Time time, std::string trace_id = "") {
  LogRecord record;
  record.service = std::move(service);
  record.level = std::move(level);
  record.time = time;
  record.trace_id = std::move(trace_id);
  return record;
}

TEST(LogFilterTest, EmptyFilterKeepsEverything) {
  EXPECT_TRUE(Matches(LogFilter{}, Record("web", "debug", kNow)));
}

TEST(LogFilterTest, ServiceFilterKeepsOnlyThoseServices) {
  LogFilter filter;
  filter.services = {"inkwell-web", "inkwell-mailer"};

  EXPECT_TRUE(Matches(filter, Record("inkwell-mailer", "info", kNow)));
  EXPECT_FALSE(Matches(filter, Record("inkwell-logd", "info", kNow)));
}

TEST(LogFilterTest, LevelIsAMinimum) {
  LogFilter filter;
  filter.min_level = core::LogLevel::kWarn;

  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow)));
  EXPECT_TRUE(Matches(filter, Record("web", "warn", kNow)));
  EXPECT_TRUE(Matches(filter, Record("web", "error", kNow)));
}

TEST(LogFilterTest, UnknownLevelCountsAsInfo) {
  LogFilter filter;
  filter.min_level = core::LogLevel::kInfo;

  EXPECT_TRUE(Matches(filter, Record("web", "notice", kNow)));
  filter.min_level = core::LogLevel::kWarn;
  EXPECT_FALSE(Matches(filter, Record("web", "notice", kNow)));
}

TEST(LogFilterTest, TimeRangeIsInclusive) {
  LogFilter filter;
  filter.since = kNow - minutes(10);
  filter.until = kNow;

  EXPECT_TRUE(Matches(filter, Record("web", "info", kNow - minutes(10))));
  EXPECT_TRUE(Matches(filter, Record("web", "info", kNow)));
  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow - minutes(11))));
  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow + seconds(1))));
}

TEST(LogFilterTest, TraceFilterKeepsOnlyThatTrace) {
  LogFilter filter;
  filter.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";

  EXPECT_TRUE(Matches(filter, Record("web", "info", kNow, "4bf92f3577b34da6a3ce929d0e0e4736")));
  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow, "00000000000000000000000000000001")));
  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow)));
}

TEST(LogFilterTest, SpansOnlySkipsPlainRecords) {
  LogFilter filter;
  filter.is_spans_only = true;
  LogRecord span = Record("web", "info", kNow);
  span.kind = "span";

  EXPECT_TRUE(Matches(filter, span));
  EXPECT_FALSE(Matches(filter, Record("web", "info", kNow)));
}

TEST(LogFilterTest, RelativeTimesCountBackFromNow) {
  EXPECT_EQ(ParseTimeBound("10m", kNow), kNow - minutes(10));
  EXPECT_EQ(ParseTimeBound("2h", kNow), kNow - hours(2));
  EXPECT_EQ(ParseTimeBound("90s", kNow), kNow - seconds(90));
  EXPECT_EQ(ParseTimeBound("7d", kNow), kNow - hours(7 * 24));
  EXPECT_EQ(ParseTimeBound("1h30m", kNow), kNow - minutes(90));
}

TEST(LogFilterTest, AbsoluteTimeIsRfc3339) {
  EXPECT_EQ(ParseTimeBound("2027-01-15T08:00:00Z", kNow), kNow);
}

TEST(LogFilterTest, MalformedTimeIsInvalidArgument) {
  for (const char* text : {"", "10", "m", "10x", "-5m", "10m5", "2027-01-15"}) {
    const auto parsed = ParseTimeBound(text, kNow);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument);
  }
}

TEST(LogFilterTest, TraceIdIsTakenFromATraceparent) {
  EXPECT_EQ(ParseTraceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(LogFilterTest, BareTraceIdIsAcceptedInAnyCase) {
  EXPECT_EQ(ParseTraceId("4BF92F3577B34DA6A3CE929D0E0E4736"), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(LogFilterTest, MalformedTraceIdIsInvalidArgument) {
  EXPECT_FALSE(ParseTraceId("4bf92f35").has_value());
  EXPECT_FALSE(ParseTraceId(std::string(32, '0')).has_value());
  EXPECT_FALSE(ParseTraceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7").has_value());
}

}  // namespace
}  // namespace inkwell::cli
