#include "cli/trace_report.h"

#include <gtest/gtest.h>

namespace inkwell::cli {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::system_clock::time_point;
const Time kTraceTime = Time(milliseconds(1'795'853'411'123));  // 2026-11-28T08:10:11.123Z
constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";

LogRecord Span(std::string step, std::string service, Time start, double duration_ms,
               std::vector<std::pair<std::string, std::string>> fields = {}) {
  LogRecord record;
  record.kind = "span";
  record.trace_id = kTrace;
  record.message = std::move(step);
  record.service = std::move(service);
  record.time = start;
  record.duration_ms = duration_ms;
  record.fields = std::move(fields);
  return record;
}

std::vector<LogRecord> Registration() {
  return {
      Span("smtp reply", "inkwell-mailer", kTraceTime + milliseconds(40), 5.0,
           {{"outcome", "accepted"}}),
      Span("http request", "inkwell-web", kTraceTime, 12.3,
           {{"method", "POST"}, {"route", "/api/v1/users"}, {"status", "201"}}),
      Span("publish + confirm", "inkwell-web", kTraceTime + milliseconds(13), 2.0),
      Span("outbox insert", "inkwell-web", kTraceTime, 1.5, {{"outcome", "committed"}}),
      Span("mailer receive", "inkwell-mailer", kTraceTime + milliseconds(16), 0.2),
  };
}

TEST(TraceReportTest, StepsAreInTimeOrderWithTiesInRegistrationOrder) {
  const TraceReport report(kTrace, Registration());

  std::vector<std::string> steps;
  for (const auto& span : report.spans()) steps.push_back(span.message);
  EXPECT_EQ(steps, RegistrationSteps());
}

TEST(TraceReportTest, OtherTracesAndPlainRecordsAreLeftOut) {
  auto records = Registration();
  records.push_back(Span("http request", "inkwell-web", kTraceTime, 1.0));
  records.back().trace_id = "00000000000000000000000000000001";
  LogRecord plain;
  plain.trace_id = kTrace;
  plain.message = "user registered";
  records.push_back(plain);

  EXPECT_EQ(TraceReport(kTrace, records).spans().size(), 5U);
}

TEST(TraceReportTest, EachLineShowsOffsetTimeServiceStepDurationAndDetails) {
  const std::string text = TraceReport(kTrace, Registration()).Format();

  EXPECT_NE(
      text.find("   +0.000 ms  08:10:11.123  inkwell-web     http request            12.3 ms  "
                "POST /api/v1/users 201\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("  +40.000 ms  08:10:11.163  inkwell-mailer  smtp reply               5.0 ms  "
                "outcome=accepted\n"),
      std::string::npos)
      << text;
}

TEST(TraceReportTest, SummaryCountsStepsAndTheWholeDuration) {
  const std::string text = TraceReport(kTrace, Registration()).Format();

  EXPECT_NE(text.find("5 spans, 5 distinct steps, 2 services, 45.0 ms from the first start to "
                      "the last end (08:10:11.123 to 08:10:11.168 UTC)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("not seen"), std::string::npos);
}

TEST(TraceReportTest, MissingRegistrationStepsAreNamed) {
  auto records = Registration();
  records.erase(records.begin());  // no smtp reply

  const std::string text = TraceReport(kTrace, records).Format();

  EXPECT_NE(text.find("registration steps not seen: smtp reply"), std::string::npos) << text;
}

TEST(TraceReportTest, TraceWithoutSpansIsEmpty) { EXPECT_TRUE(TraceReport(kTrace, {}).empty()); }

}  // namespace
}  // namespace inkwell::cli
