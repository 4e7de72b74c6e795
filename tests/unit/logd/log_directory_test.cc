#include "logd/log_directory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "contracts/log_file_name.h"

namespace inkwell::logd {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
const auto kNow = std::chrono::system_clock::time_point(seconds(1'800'000'000));

class LogDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("inkwell-logd-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::unique_ptr<LogDirectory> Open(RotationPolicy policy) {
    auto opened = LogDirectory::Open(directory_, policy, rotations_);
    EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().message);
    return opened ? std::move(*opened) : nullptr;
  }

  std::string Read(const std::string& file_name) const {
    std::ifstream file(directory_ / file_name);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

  std::vector<std::string> RotatedFiles(const std::string& service) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory_)) {
      const auto name = contracts::ParseLogFileName(entry.path().filename().string());
      if (name && name->rotated_at && name->service == service) {
        names.push_back(entry.path().filename().string());
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path directory_;
  core::Counter rotations_;
};

TEST_F(LogDirectoryTest, LinesGoToTheServiceFileInOrder) {
  auto directory = Open(RotationPolicy{});

  ASSERT_TRUE(directory->Append("web", "{\"n\":1}", kNow));
  ASSERT_TRUE(directory->Append("mailer", "{\"n\":2}", kNow));
  ASSERT_TRUE(directory->Append("web", "{\"n\":3}", kNow));
  ASSERT_TRUE(directory->Sync());

  EXPECT_EQ(Read("web.jsonl"), "{\"n\":1}\n{\"n\":3}\n");
  EXPECT_EQ(Read("mailer.jsonl"), "{\"n\":2}\n");
}

TEST_F(LogDirectoryTest, FileAboutToPassMaxBytesIsRotatedAndNoLineIsLost) {
  auto directory = Open(RotationPolicy{1024, seconds(3600), 10});
  const std::string line(99, 'x');  // 100 bytes with its newline

  for (int i = 0; i < 25; ++i) ASSERT_TRUE(directory->Append("web", line, kNow + seconds(i)));
  ASSERT_TRUE(directory->Sync());

  const auto rotated = RotatedFiles("web");
  ASSERT_EQ(rotated.size(), 2U);
  EXPECT_EQ(rotations_.Value(), 2U);
  std::size_t total = Read("web.jsonl").size();
  for (const auto& name : rotated) {
    EXPECT_LE(Read(name).size(), 1024U);
    total += Read(name).size();
  }
  EXPECT_EQ(total, 25U * 100U);
}

TEST_F(LogDirectoryTest, OnlyTheNewestRotatedFilesAreKept) {
  auto directory = Open(RotationPolicy{1024, seconds(3600), 2});

  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(directory->Append("web", std::string(99, 'x'), kNow + seconds(i)));
  }

  EXPECT_EQ(RotatedFiles("web").size(), 2U);
  EXPECT_EQ(rotations_.Value(), 5U);
}

TEST_F(LogDirectoryTest, QuietFileOlderThanMaxAgeIsRotatedByTheAgeCheck) {
  auto directory = Open(RotationPolicy{1 << 20, seconds(60), 10});
  ASSERT_TRUE(directory->Append("web", "{}", kNow));

  ASSERT_TRUE(directory->RotateAged(kNow + seconds(59)));
  EXPECT_TRUE(RotatedFiles("web").empty());
  ASSERT_TRUE(directory->RotateAged(kNow + seconds(61)));

  EXPECT_EQ(RotatedFiles("web").size(), 1U);
  EXPECT_FALSE(fs::exists(directory_ / "web.jsonl"));
  ASSERT_TRUE(directory->Append("web", "{\"n\":2}", kNow + seconds(62)));
  EXPECT_EQ(Read("web.jsonl"), "{\"n\":2}\n");
}

TEST_F(LogDirectoryTest, LineCutShortByACrashIsEndedBeforeTheNextRecord) {
  fs::create_directories(directory_);
  std::ofstream(directory_ / "web.jsonl") << "{\"n\":1}\n{\"n\":";

  auto directory = Open(RotationPolicy{});
  // The file's age counts from its creation on disk: use the real clock.
  ASSERT_TRUE(directory->Append("web", "{\"n\":2}", std::chrono::system_clock::now()));

  EXPECT_EQ(Read("web.jsonl"), "{\"n\":1}\n{\"n\":\n{\"n\":2}\n");
}

TEST_F(LogDirectoryTest, ExistingFileIsAppendedTo) {
  {
    auto directory = Open(RotationPolicy{});
    ASSERT_TRUE(directory->Append("web", "{\"n\":1}", std::chrono::system_clock::now()));
    ASSERT_TRUE(directory->Sync());
  }
  auto directory = Open(RotationPolicy{});
  ASSERT_TRUE(directory->Append("web", "{\"n\":2}", std::chrono::system_clock::now()));

  EXPECT_EQ(Read("web.jsonl"), "{\"n\":1}\n{\"n\":2}\n");
}

TEST_F(LogDirectoryTest, UnwritableDirectoryIsUnavailable) {
  fs::create_directories(directory_);
  std::ofstream(directory_ / "file") << "x";

  auto opened = LogDirectory::Open(directory_ / "file" / "sub", RotationPolicy{}, rotations_);

  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace inkwell::logd
