#include "cli/log_reader.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

namespace inkwell::cli {
namespace {

namespace fs = std::filesystem;

std::string Line(const std::string& service, int second, int n, const std::string& level = "info") {
  return R"({"time":"2026-11-28T08:10:)" + std::string(second < 10 ? "0" : "") +
         std::to_string(second) + R"(.000Z","service":")" + service + R"(","level":")" + level +
         R"(","message":"m)" + std::to_string(n) + R"(","fields":{}})" + "\n";
}

class LogReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("inkwell-cli-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  void Append(const std::string& file_name, const std::string& text) {
    std::ofstream(directory_ / file_name, std::ios::app) << text;
  }

  static std::vector<std::string> Messages(const std::vector<LogRecord>& records) {
    std::vector<std::string> messages;
    for (const auto& record : records) messages.push_back(record.message);
    return messages;
  }

  fs::path directory_;
};

TEST_F(LogReaderTest, RotatedAndCurrentFilesOfAllServicesAreMergedByTime) {
  Append("web-20261128T081005.000Z.jsonl", Line("web", 1, 1) + Line("web", 4, 4));
  Append("web.jsonl", Line("web", 6, 6));
  Append("mailer.jsonl", Line("mailer", 2, 2) + Line("mailer", 5, 5));
  Append("invalid.jsonl", Line("invalid", 3, 3));
  Append("notes.txt", "ignored\n");

  LogReader reader(directory_, LogFilter{});
  const auto records = reader.ReadAll();

  ASSERT_TRUE(records.has_value()) << records.error().message;
  EXPECT_EQ(Messages(*records), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5", "m6"}));
}

TEST_F(LogReaderTest, ServiceFilterSkipsOtherFiles) {
  Append("web.jsonl", Line("web", 1, 1));
  Append("mailer.jsonl", Line("mailer", 2, 2));
  LogFilter filter;
  filter.services = {"mailer"};

  LogReader reader(directory_, filter);

  EXPECT_EQ(Messages(*reader.ReadAll()), (std::vector<std::string>{"m2"}));
}

TEST_F(LogReaderTest, LinesThatAreNotJsonAreSkippedAndCounted) {
  Append("web.jsonl", Line("web", 1, 1) + "garbage\n" + Line("web", 2, 2));

  LogReader reader(directory_, LogFilter{});

  EXPECT_EQ(reader.ReadAll()->size(), 2U);
  EXPECT_EQ(reader.unreadable_lines(), 1U);
}

TEST_F(LogReaderTest, MissingDirectoryIsNotFound) {
  LogReader reader(directory_ / "nope", LogFilter{});

  const auto records = reader.ReadAll();

  ASSERT_FALSE(records.has_value());
  EXPECT_EQ(records.error().code, core::ErrorCode::kNotFound);
}

TEST_F(LogReaderTest, DirectoryWithoutLogFilesIsNotFound) {
  LogReader reader(directory_, LogFilter{});

  EXPECT_FALSE(reader.ReadAll().has_value());
}

TEST_F(LogReaderTest, PollReturnsOnlyCompleteAppendedLines) {
  Append("web.jsonl", Line("web", 1, 1));
  LogReader reader(directory_, LogFilter{});
  ASSERT_EQ(reader.ReadAll()->size(), 1U);

  const std::string second = Line("web", 2, 2);
  Append("web.jsonl", second.substr(0, 10));
  EXPECT_TRUE(reader.Poll().empty());
  Append("web.jsonl", second.substr(10));

  EXPECT_EQ(Messages(reader.Poll()), (std::vector<std::string>{"m2"}));
  EXPECT_TRUE(reader.Poll().empty());
}

TEST_F(LogReaderTest, PollFollowsARotationWithoutLosingOrRepeatingLines) {
  Append("web.jsonl", Line("web", 1, 1));
  LogReader reader(directory_, LogFilter{});
  ASSERT_EQ(reader.ReadAll()->size(), 1U);

  Append("web.jsonl", Line("web", 2, 2));
  fs::rename(directory_ / "web.jsonl", directory_ / "web-20261128T081002.500Z.jsonl");
  Append("web.jsonl", Line("web", 3, 3));

  EXPECT_EQ(Messages(reader.Poll()), (std::vector<std::string>{"m2", "m3"}));
}

TEST_F(LogReaderTest, PollReadsEveryFileRotatedBetweenTwoPolls) {
  Append("web.jsonl", Line("web", 1, 1));
  LogReader reader(directory_, LogFilter{});
  ASSERT_EQ(reader.ReadAll()->size(), 1U);

  Append("web.jsonl", Line("web", 2, 2));
  fs::rename(directory_ / "web.jsonl", directory_ / "web-20261128T081002.500Z.jsonl");
  Append("web.jsonl", Line("web", 3, 3));
  fs::rename(directory_ / "web.jsonl", directory_ / "web-20261128T081003.500Z.jsonl");
  Append("web.jsonl", Line("web", 4, 4));
  fs::rename(directory_ / "web.jsonl", directory_ / "web-20261128T081004.500Z.jsonl");
  Append("web.jsonl", Line("web", 5, 5));

  EXPECT_EQ(Messages(reader.Poll()), (std::vector<std::string>{"m2", "m3", "m4", "m5"}));
  EXPECT_TRUE(reader.Poll().empty());
}

TEST_F(LogReaderTest, PollPicksUpANewService) {
  Append("web.jsonl", Line("web", 1, 1));
  LogReader reader(directory_, LogFilter{});
  ASSERT_EQ(reader.ReadAll()->size(), 1U);

  Append("mailer.jsonl", Line("mailer", 2, 2));

  EXPECT_EQ(Messages(reader.Poll()), (std::vector<std::string>{"m2"}));
}

}  // namespace
}  // namespace inkwell::cli
