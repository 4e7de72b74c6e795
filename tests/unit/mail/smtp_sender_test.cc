// Integration test (ctest label "integration"): SmtpSender against a real SMTP server,
// smtp_capture_server.py on aiosmtpd, started per test on a free 127.0.0.1 port.
#include "mail/smtp_sender.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace inkwell::mail {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr auto kStartupBound = std::chrono::seconds(20);
constexpr auto kStopBound = std::chrono::seconds(5);

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// Runs smtp_capture_server.py in a fresh temp directory; stops it (SIGTERM, then SIGKILL after
// kStopBound) and removes the directory on destruction.
class CaptureServer {
 public:
  explicit CaptureServer(std::vector<std::string> options = {}) {
    std::string pattern = (fs::temp_directory_path() / "inkwell-smtp-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return;
    std::vector<std::string> args = {"/usr/bin/python3", SMTP_CAPTURE_SERVER, dir_.string()};
    args.insert(args.end(), options.begin(), options.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    port_ = ReadPort(pipe_fds[0]);
    ::close(pipe_fds[0]);
  }
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;
  ~CaptureServer() {
    Stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  uint16_t port() const { return port_; }
  const fs::path& dir() const { return dir_; }

 private:
  // Waits, at most kStartupBound, for the "PORT <n>" line; 0 if it never comes.
  static uint16_t ReadPort(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + kStartupBound;
    std::string output;
    while (output.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd poll_fd{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) return 0;
      char buffer[64];
      const ssize_t got = ::read(fd, buffer, sizeof(buffer));
      if (got <= 0) return 0;
      output.append(buffer, static_cast<size_t>(got));
    }
    if (!output.starts_with("PORT ")) return 0;
    return static_cast<uint16_t>(std::atoi(output.c_str() + 5));
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + kStopBound;
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  fs::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A 127.0.0.1 port with nothing listening: bound, then closed again.
uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::unique_ptr<SmtpSender> SenderFor(uint16_t port) {
  auto url = ParseMailUrl("smtp://127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(url);
  auto sender = SmtpSender::Create(*url, seconds(10));
  EXPECT_TRUE(sender) << sender.error().message;
  return std::move(*sender);
}

MimeMessage SampleMessage(std::string subject) {
  MimeMessage message;
  message.from = "Inkwell <noreply@inkwell.test>";
  message.to = "Ada Lovelace <ada@example.org>";
  message.subject = std::move(subject);
  message.text = "Hello Ada,\n.a line with a leading dot\nbye\n";
  message.message_id = "smtp-test@inkwell";
  message.date = std::chrono::system_clock::time_point(seconds(1700000000));
  return message;
}

TEST(SmtpSenderTest, DeliversOneMessageWithEnvelopeAndContent) {
  CaptureServer server;
  ASSERT_NE(server.port(), 0) << "capture server did not start";
  auto sender = SenderFor(server.port());
  const MimeMessage message = SampleMessage("Grüße — 你好");

  const auto sent = sender->Send(message);

  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(ReadFile(server.dir() / "1.env"), "noreply@inkwell.test\nada@example.org\n");
  EXPECT_EQ(ReadFile(server.dir() / "1.eml"), Serialize(message));
  EXPECT_FALSE(fs::exists(server.dir() / "2.eml"));
}

TEST(SmtpSenderTest, SecondMessageReusesTheConnection) {
  CaptureServer server;
  ASSERT_NE(server.port(), 0) << "capture server did not start";
  auto sender = SenderFor(server.port());

  const auto first = sender->Send(SampleMessage("first"));
  const int64_t first_connects = sender->last_connects();
  const auto second = sender->Send(SampleMessage("second"));

  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first_connects, 1);
  EXPECT_EQ(sender->last_connects(), 0);
  const std::string first_peer = ReadFile(server.dir() / "1.peer");
  EXPECT_FALSE(first_peer.empty());
  EXPECT_EQ(first_peer, ReadFile(server.dir() / "2.peer"));
  EXPECT_NE(ReadFile(server.dir() / "2.eml").find("Subject: second\r\n"), std::string::npos);
}

TEST(SmtpSenderTest, TemporaryRejectionIsUnavailable) {
  CaptureServer server({"--rcpt-reply", "451 4.3.0 try again later"});
  ASSERT_NE(server.port(), 0) << "capture server did not start";
  auto sender = SenderFor(server.port());

  const auto sent = sender->Send(SampleMessage("hi"));

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("SMTP 451"), std::string::npos) << sent.error().message;
  EXPECT_NE(sent.error().message.find("curl_easy_perform"), std::string::npos);
}

TEST(SmtpSenderTest, PermanentRejectionIsInvalidArgument) {
  CaptureServer server({"--data-reply", "550 5.7.1 rejected"});
  ASSERT_NE(server.port(), 0) << "capture server did not start";
  auto sender = SenderFor(server.port());

  const auto sent = sender->Send(SampleMessage("hi"));

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(sent.error().message.find("SMTP 550"), std::string::npos) << sent.error().message;
}

TEST(SmtpSenderTest, RefusedConnectionIsUnavailable) {
  auto sender = SenderFor(ClosedPort());

  const auto sent = sender->Send(SampleMessage("hi"));

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("no SMTP reply"), std::string::npos) << sent.error().message;
}

TEST(SmtpSenderTest, MaildirUrlIsRejected) {
  const auto url = ParseMailUrl("maildir:var/mail");

  const auto sender = SmtpSender::Create(*url, seconds(1));

  ASSERT_FALSE(sender);
  EXPECT_EQ(sender.error().code, core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace inkwell::mail
