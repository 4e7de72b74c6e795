#include "logd/routed_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace inkwell::logd {
namespace {

const auto kRoutedAt = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(RoutedRecordTest, RecordGoesToItsServiceFileAsReceived) {
  const std::string body =
      R"({"time":"2026-11-28T08:10:11.123Z","service":"inkwell-web","level":"info","message":"hi","fields":{}})";

  const RoutedRecord routed = RouteRecord(body, "inkwell-web.info", kRoutedAt);

  EXPECT_TRUE(routed.is_valid);
  EXPECT_EQ(routed.service, "inkwell-web");
  EXPECT_EQ(routed.line, body);
}

TEST(RoutedRecordTest, ServiceNameIsSanitizedForTheFileName) {
  EXPECT_EQ(RouteRecord(R"({"service":"../../etc/x"})", "", kRoutedAt).service, "_._.._etc_x");
}

TEST(RoutedRecordTest, RecordWithoutServiceGoesToUnknown) {
  EXPECT_EQ(RouteRecord(R"({"message":"x"})", "", kRoutedAt).service, "unknown");
  EXPECT_EQ(RouteRecord(R"({"service":7})", "", kRoutedAt).service, "unknown");
}

TEST(RoutedRecordTest, MultiLineJsonIsStoredOnOneLine) {
  const RoutedRecord routed =
      RouteRecord("{\n \"service\": \"a\",\n \"message\": \"x\"\n}", "", kRoutedAt);

  EXPECT_TRUE(routed.is_valid);
  EXPECT_EQ(routed.line.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(routed.line)["message"], "x");
}

TEST(RoutedRecordTest, TextThatIsNotJsonGoesToInvalidWithTheRawText) {
  const RoutedRecord routed = RouteRecord("not json \"at all\"\n", "x.info", kRoutedAt);

  EXPECT_FALSE(routed.is_valid);
  EXPECT_EQ(routed.service, "invalid");
  EXPECT_EQ(routed.line.find('\n'), std::string::npos);
  const auto record = nlohmann::json::parse(routed.line);
  EXPECT_EQ(record["service"], "invalid");
  EXPECT_EQ(record["fields"]["raw"], "not json \"at all\"\n");
  EXPECT_EQ(record["fields"]["routing_key"], "x.info");
  EXPECT_EQ(record["time"], "2027-01-15T08:00:00.000Z");
}

TEST(RoutedRecordTest, JsonThatIsNotAnObjectIsInvalid) {
  EXPECT_FALSE(RouteRecord("[1,2]", "", kRoutedAt).is_valid);
  EXPECT_FALSE(RouteRecord("\"text\"", "", kRoutedAt).is_valid);
  EXPECT_FALSE(RouteRecord("", "", kRoutedAt).is_valid);
}

TEST(RoutedRecordTest, BytesThatAreNotUtf8AreKeptAsHex) {
  const RoutedRecord routed = RouteRecord(std::string("{\"a\":\"\xff\"}"), "", kRoutedAt);

  EXPECT_FALSE(routed.is_valid);
  const auto record = nlohmann::json::parse(routed.line);
  EXPECT_EQ(record["fields"]["raw_hex"], "7b2261223a22ff227d");
}

}  // namespace
}  // namespace inkwell::logd
