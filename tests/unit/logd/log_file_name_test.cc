// contracts/log_file_name.h: the naming logd writes and `inkwell logs` reads.
#include "contracts/log_file_name.h"

#include <gtest/gtest.h>

namespace inkwell::contracts {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::system_clock::time_point;

// 2026-11-28T08:10:11.123Z
const Time kRotatedAt = Time(milliseconds(1'795'853'411'123));

TEST(LogFileNameTest, ServiceNameKeepsSafeCharacters) {
  EXPECT_EQ(SanitizeServiceName("inkwell-web_2.x"), "inkwell-web_2.x");
}

TEST(LogFileNameTest, ServiceNameReplacesPathSeparatorsAndSpaces) {
  EXPECT_EQ(SanitizeServiceName("../etc/pass wd"), "_._etc_pass_wd");
  EXPECT_EQ(SanitizeServiceName("a\xc3\xa9"), "a__");
}

TEST(LogFileNameTest, EmptyServiceNameBecomesUnknown) {
  EXPECT_EQ(SanitizeServiceName(""), "unknown");
}

TEST(LogFileNameTest, LongServiceNameIsCut) {
  EXPECT_EQ(SanitizeServiceName(std::string(200, 'x')).size(), 64U);
}

TEST(LogFileNameTest, RotatedNameCarriesTheUtcTimeToTheMillisecond) {
  EXPECT_EQ(RotatedLogFileName("inkwell-web", kRotatedAt),
            "inkwell-web-20261128T081011.123Z.jsonl");
}

TEST(LogFileNameTest, RotatedNameParsesBackToServiceAndTime) {
  const auto name = ParseLogFileName(RotatedLogFileName("inkwell-web", kRotatedAt));

  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->service, "inkwell-web");
  EXPECT_EQ(name->rotated_at, kRotatedAt);
}

TEST(LogFileNameTest, CurrentNameParsesWithoutRotationTime) {
  const auto name = ParseLogFileName(CurrentLogFileName("inkwell-mailer"));

  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->service, "inkwell-mailer");
  EXPECT_FALSE(name->rotated_at.has_value());
}

TEST(LogFileNameTest, ServiceWhoseNameEndsInDigitsIsNotMistakenForRotated) {
  const auto name = ParseLogFileName("worker-2.jsonl");

  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->service, "worker-2");
  EXPECT_FALSE(name->rotated_at.has_value());
}

TEST(LogFileNameTest, OtherFilesAreNotOurs) {
  EXPECT_FALSE(ParseLogFileName("notes.txt").has_value());
  EXPECT_FALSE(ParseLogFileName(".jsonl").has_value());
  EXPECT_FALSE(ParseLogFileName("a b.jsonl").has_value());
}

TEST(LogFileNameTest, RotatedNamesSortByTimeAsText) {
  const std::string earlier = RotatedLogFileName("s", kRotatedAt);
  const std::string later = RotatedLogFileName("s", kRotatedAt + milliseconds(1));

  EXPECT_LT(earlier, later);
}

}  // namespace
}  // namespace inkwell::contracts
