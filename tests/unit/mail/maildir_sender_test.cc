#include "mail/maildir_sender.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mail/mail_sender.h"

namespace inkwell::mail {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "inkwell-maildir-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<fs::path> FilesIn(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

MimeMessage SampleMaildirMessage() {
  MimeMessage message;
  message.from = "Inkwell <noreply@inkwell.test>";
  message.to = "Ada <ada@example.org>";
  message.subject = "Grüße";
  message.text = "Hello\n";
  message.message_id = "maildir-test@inkwell";
  message.date = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return message;
}

TEST(MaildirSenderTest, CreatesTheMaildirFolders) {
  TempDir temp;

  MaildirSender sender(temp.path() / "mail");

  EXPECT_TRUE(fs::is_directory(temp.path() / "mail" / "tmp"));
  EXPECT_TRUE(fs::is_directory(temp.path() / "mail" / "new"));
  EXPECT_TRUE(fs::is_directory(temp.path() / "mail" / "cur"));
}

TEST(MaildirSenderTest, SendLeavesExactlyTheSerializedMessageInNew) {
  TempDir temp;
  MaildirSender sender(temp.path());
  const MimeMessage message = SampleMaildirMessage();  // text only: Serialize is then deterministic

  const auto sent = sender.Send(message);

  ASSERT_TRUE(sent) << sent.error().message;
  const auto delivered = FilesIn(temp.path() / "new");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(FilesIn(temp.path() / "tmp").empty());
  EXPECT_TRUE(FilesIn(temp.path() / "cur").empty());
  EXPECT_EQ(ReadFile(delivered[0]), Serialize(message));
  EXPECT_EQ(delivered[0].filename().string().find(':'), std::string::npos);
}

TEST(MaildirSenderTest, ConcurrentSendsGetDistinctFiles) {
  TempDir temp;
  MaildirSender sender(temp.path());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&sender] {
      for (int i = 0; i < kPerThread; ++i) EXPECT_TRUE(sender.Send(SampleMaildirMessage()));
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(FilesIn(temp.path() / "new").size(), size_t{kThreads * kPerThread});
  EXPECT_TRUE(FilesIn(temp.path() / "tmp").empty());
}

TEST(MaildirSenderTest, UnwritableMaildirIsUnavailable) {
  TempDir temp;
  MaildirSender sender(temp.path());
  fs::remove_all(temp.path() / "tmp");

  const auto sent = sender.Send(SampleMaildirMessage());

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("open"), std::string::npos) << sent.error().message;
}

TEST(MakeMailSenderTest, MaildirUrlMakesAWorkingSender) {
  TempDir temp;
  MailUrl url;
  url.scheme = MailUrl::Scheme::kMaildir;
  url.maildir = temp.path() / "box";

  auto sender = MakeMailSender(url, std::chrono::seconds(5));

  ASSERT_TRUE(sender) << sender.error().message;
  ASSERT_TRUE((*sender)->Send(SampleMaildirMessage()));
  EXPECT_EQ(FilesIn(temp.path() / "box" / "new").size(), 1u);
}

TEST(MakeMailSenderTest, UncreatableMaildirIsUnavailable) {
  TempDir temp;
  std::ofstream(temp.path() / "file") << "not a directory";
  MailUrl url;
  url.scheme = MailUrl::Scheme::kMaildir;
  url.maildir = temp.path() / "file" / "box";

  const auto sender = MakeMailSender(url, std::chrono::seconds(5));

  ASSERT_FALSE(sender);
  EXPECT_EQ(sender.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace inkwell::mail
