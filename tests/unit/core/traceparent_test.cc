#include "core/traceparent.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

constexpr char kIncoming[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";

// "00-<32 hex>-<16 hex>-01" with non-zero ids. (No std::regex: g++ 12 warns inside it under
// -fsanitize with -O2, and warnings are errors.)
bool IsWellFormed(const std::string& traceparent) {
  return traceparent.size() == 55 && traceparent.starts_with("00-") &&
         traceparent.ends_with("-01") && !TraceIdOf(traceparent).empty();
}

TEST(ContinueTraceTest, KeepsTraceIdOfValidIncomingAndStartsNewSpan) {
  const std::string continued = ContinueTrace(kIncoming);

  EXPECT_TRUE(IsWellFormed(continued)) << continued;
  EXPECT_EQ(TraceIdOf(continued), kTraceId);
  EXPECT_NE(continued.substr(36, 16), "00f067aa0ba902b7");
}

TEST(ContinueTraceTest, KeepsTraceIdOfUnsampledIncoming) {
  const std::string unsampled =
      ContinueTrace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");

  EXPECT_EQ(TraceIdOf(unsampled), kTraceId);
}

TEST(ContinueTraceTest, StartsNewTraceWithoutIncoming) {
  const std::string first = ContinueTrace("");
  const std::string second = ContinueTrace("");

  EXPECT_TRUE(IsWellFormed(first)) << first;
  EXPECT_TRUE(IsWellFormed(second)) << second;
  EXPECT_NE(TraceIdOf(first), TraceIdOf(second));
}

TEST(ContinueTraceTest, StartsNewTraceForMalformedIncoming) {
  const std::string malformed[] = {
      "garbage",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",  // too long for version 00
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // upper case
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",     // not hex
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",     // wrong separators
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // forbidden version
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // all-zero parent id
  };

  for (const std::string& incoming : malformed) {
    const std::string continued = ContinueTrace(incoming);

    EXPECT_TRUE(IsWellFormed(continued)) << incoming << " -> " << continued;
    EXPECT_NE(TraceIdOf(continued), kTraceId) << incoming;
    EXPECT_NE(TraceIdOf(continued), std::string(32, '0')) << incoming;
  }
}

TEST(TraceIdOfTest, GivesTraceIdOfValidTraceparent) {
  const std::string trace_id = TraceIdOf(kIncoming);

  EXPECT_EQ(trace_id, kTraceId);
}

TEST(TraceIdOfTest, GivesEmptyForMalformedTraceparent) {
  EXPECT_EQ(TraceIdOf(""), "");
  EXPECT_EQ(TraceIdOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"), "");
}

}  // namespace
}  // namespace inkwell::core
