#include "cli/log_format.h"

#include <gtest/gtest.h>

namespace inkwell::cli {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::system_clock::time_point;
const Time kTime = Time(milliseconds(1'795'853'411'123));  // 2026-11-28T08:10:11.123Z

TEST(LogFormatTest, RecordReadsAsTimeServiceLevelMessageAndFields) {
  LogRecord record;
  record.time = kTime;
  record.service = "inkwell-web";
  record.level = "info";
  record.message = "user registered";
  record.fields = {{"user_id", "7"}, {"email", "ada@example.org"}};

  EXPECT_EQ(FormatHuman(record),
            "08:10:11.123 inkwell-web info  user registered user_id=7 email=ada@example.org");
}

TEST(LogFormatTest, ValuesWithSpacesOrQuotesAreQuoted) {
  LogRecord record;
  record.time = kTime;
  record.service = "s";
  record.level = "error";
  record.message = "m";
  record.fields = {{"error", "say \"hi\" now"}, {"empty", ""}};

  EXPECT_EQ(FormatHuman(record), R"(08:10:11.123 s error m error="say \"hi\" now" empty="")");
}

TEST(LogFormatTest, SpanShowsDurationAndTraceId) {
  LogRecord record;
  record.time = kTime;
  record.service = "s";
  record.level = "info";
  record.message = "smtp reply";
  record.duration_ms = 3.5;
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";

  EXPECT_EQ(FormatHuman(record),
            "08:10:11.123 s info  smtp reply duration_ms=3.500 "
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(LogFormatTest, ControlCharactersCannotBreakTheLine) {
  LogRecord record;
  record.time = kTime;
  record.service = "s";
  record.level = "warn";
  record.message = "two\nlines\x1b[31m";

  EXPECT_EQ(FormatHuman(record), "08:10:11.123 s warn  two\\nlines\\x1b[31m");
}

}  // namespace
}  // namespace inkwell::cli
