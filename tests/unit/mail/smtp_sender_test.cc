// Integration test (ctest label "integration"): SmtpSender against a real SMTP server,
// smtp_capture_server.py on aiosmtpd, started per test on a free 127.0.0.1 port.
#include "mail/smtp_sender.h"

#include <atomic>
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
  EXPECT_NE(sent.error().message.find("RCPT TO: SMTP 451 4.3.0 try again later"), std::string::npos)
      << sent.error().message;
  EXPECT_TRUE(sent.error().message.starts_with("smtp://127.0.0.1:")) << sent.error().message;
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
  EXPECT_NE(sent.error().message.find("connect: Connection refused"), std::string::npos)
      << sent.error().message;
  EXPECT_EQ(sent.error().message.find("SMTP "), std::string::npos) << "no reply to count";
}

TEST(SmtpSenderTest, MaildirUrlIsRejected) {
  const auto url = ParseMailUrl("maildir:var/mail");

  const auto sender = SmtpSender::Create(*url, seconds(1));

  ASSERT_FALSE(sender);
  EXPECT_EQ(sender.error().code, core::ErrorCode::kInvalidArgument);
}


// --- Pipelining, batches and lost connections, against a scripted server -----------------------

// Serves one scripted SMTP session per accepted connection on 127.0.0.1, on its own thread. For
// each step it reads until what it received since the previous step ends with step.until, then
// writes step.reply; a step that waits longer than kStepBound ends the session. So a client that
// waits for a reply the script only sends after more input stalls and fails: the script proves
// which commands were sent together.
class ScriptedServer {
 public:
  struct Step {
    std::string until;
    std::string reply;
    bool close_after = false;  // close the connection after the reply
  };
  static constexpr auto kStepBound = std::chrono::seconds(5);

  explicit ScriptedServer(std::vector<std::vector<Step>> sessions) : sessions_(std::move(sessions)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listener_, 4);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ~ScriptedServer() {
    stop_ = true;
    Join();
    ::close(listener_);
  }

  uint16_t port() const { return port_; }
  // What each step of each session received, once the sessions are over (see Join).
  const std::vector<std::vector<std::string>>& received() const { return received_; }
  int accepted() const { return accepted_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  static bool WaitReadable(int fd, std::chrono::milliseconds bound) {
    pollfd poll_fd{fd, POLLIN, 0};
    return ::poll(&poll_fd, 1, static_cast<int>(bound.count())) > 0;
  }

  void Serve() {
    for (const auto& steps : sessions_) {
      const auto accept_deadline = std::chrono::steady_clock::now() + kStepBound;
      while (!stop_ && !WaitReadable(listener_, std::chrono::milliseconds(50))) {
        if (std::chrono::steady_clock::now() > accept_deadline) return;
      }
      if (stop_) return;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      received_.emplace_back();
      ::send(fd, "220 scripted ESMTP\r\n", 20, MSG_NOSIGNAL);
      bool is_open = true;
      for (const Step& step : steps) {
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + kStepBound;
        while (!got.ends_with(step.until) && std::chrono::steady_clock::now() < deadline) {
          if (!WaitReadable(fd, std::chrono::milliseconds(50))) continue;
          char buffer[4096];
          const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
          if (n <= 0) break;
          got.append(buffer, static_cast<size_t>(n));
        }
        received_.back().push_back(got);
        if (!got.ends_with(step.until)) break;  // stalled or closed: the client did not pipeline
        ::send(fd, step.reply.data(), step.reply.size(), MSG_NOSIGNAL);
        if (step.close_after) {
          is_open = false;
          break;
        }
      }
      if (is_open) {  // let the client finish (QUIT) or go away, briefly
        char buffer[256];
        while (WaitReadable(fd, std::chrono::milliseconds(300)) && ::recv(fd, buffer, sizeof(buffer), 0) > 0) {
        }
      }
      ::close(fd);
    }
  }

  std::vector<std::vector<Step>> sessions_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  int accepted_ = 0;
  std::vector<std::vector<std::string>> received_;
  std::thread thread_;
};

using Step = ScriptedServer::Step;
const Step kEhloPipelining{"\r\n", "250-scripted\r\n250-8BITMIME\r\n250 PIPELINING\r\n"};
constexpr char kEnvelope[] = "MAIL FROM:<noreply@inkwell.test>\r\nRCPT TO:<ada@example.org>\r\nDATA\r\n";

std::unique_ptr<SmtpSender> ShortTimeoutSenderFor(uint16_t port) {
  auto url = ParseMailUrl("smtp://127.0.0.1:" + std::to_string(port));
  auto sender = SmtpSender::Create(*url, seconds(2));
  EXPECT_TRUE(sender) << sender.error().message;
  return std::move(*sender);
}

TEST(SmtpSenderPipeliningTest, EnvelopeGoesOutInOneGroup) {
  ScriptedServer server({{kEhloPipelining,
                          {"DATA\r\n", "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n"},
                          {"\r\n.\r\n", "250 2.0.0 queued\r\n"}}});
  auto sender = ShortTimeoutSenderFor(server.port());

  const auto sent = sender->Send(SampleMessage("pipelined"));
  sender.reset();  // QUIT
  server.Join();

  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_EQ(server.received().size(), 1u);
  ASSERT_EQ(server.received()[0].size(), 3u);
  EXPECT_TRUE(server.received()[0][0].starts_with("EHLO ")) << server.received()[0][0];
  EXPECT_EQ(server.received()[0][1], kEnvelope);
  const std::string& data = server.received()[0][2];
  EXPECT_NE(data.find("Subject: pipelined\r\n"), std::string::npos);
}

TEST(SmtpSenderPipeliningTest, BatchSendsEachContentWithTheNextEnvelope) {
  const std::string next_group = "\r\n.\r\n" + std::string(kEnvelope);
  ScriptedServer server({{kEhloPipelining,
                          {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go ahead\r\n"},
                          {next_group, "250 queued 1\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n"},
                          {next_group, "250 queued 2\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n"},
                          {"\r\n.\r\n", "250 queued 3\r\n"}}});
  auto sender = ShortTimeoutSenderFor(server.port());
  const std::vector<MimeMessage> batch = {SampleMessage("one"), SampleMessage("two"),
                                          SampleMessage("three")};

  const auto results = sender->SendAll(batch);
  const int64_t connects = sender->last_connects();
  sender.reset();
  server.Join();

  ASSERT_EQ(results.size(), 3u);
  for (const auto& result : results) EXPECT_TRUE(result) << result.error().message;
  EXPECT_EQ(connects, 1);
  ASSERT_EQ(server.received()[0].size(), 5u);
  EXPECT_NE(server.received()[0][2].find("Subject: one\r\n"), std::string::npos);
  EXPECT_NE(server.received()[0][3].find("Subject: two\r\n"), std::string::npos);
  EXPECT_NE(server.received()[0][4].find("Subject: three\r\n"), std::string::npos);
}

TEST(SmtpSenderPipeliningTest, ConnectionTheServerClosedIsReplacedBeforeTheNextMessage) {
  const std::vector<Step> one_message = {kEhloPipelining,
                                         {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go ahead\r\n"},
                                         {"\r\n.\r\n", "250 queued\r\n", /*close_after=*/true}};
  ScriptedServer server({one_message, one_message});
  auto sender = ShortTimeoutSenderFor(server.port());

  const auto first = sender->Send(SampleMessage("first"));
  // The server's close must have arrived before the next Send looks at the connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto second = sender->Send(SampleMessage("second"));
  const int64_t second_connects = sender->last_connects();
  sender.reset();
  server.Join();

  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second_connects, 1);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(SmtpSenderPipeliningTest, ConnectionLostAfterTheDataFailsWithoutResending) {
  ScriptedServer server({{kEhloPipelining,
                          {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go ahead\r\n"},
                          {"\r\n.\r\n", "", /*close_after=*/true}}});
  auto sender = ShortTimeoutSenderFor(server.port());

  const auto sent = sender->Send(SampleMessage("lost"));
  sender.reset();
  server.Join();

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("end of data: the server closed the connection"), std::string::npos)
      << sent.error().message;
  EXPECT_EQ(server.accepted(), 1) << "the data may have arrived: it must not be sent again here";
}

TEST(SmtpSenderPipeliningTest, ServerThatIsNotSmtpIsUnavailable) {
  ScriptedServer server({std::vector<Step>{{"\r\n", "HTTP/1.1 400 Bad Request\r\n"}}});
  auto sender = ShortTimeoutSenderFor(server.port());

  const auto sent = sender->Send(SampleMessage("hi"));

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("EHLO: not an SMTP reply: 'HTTP/1.1 400 Bad Request'"),
            std::string::npos)
      << sent.error().message;
}

// --- Batches against aiosmtpd: a refused recipient in the middle ------------------------------

void ExpectMiddleRecipientRefused(const std::vector<std::string>& options) {
  CaptureServer server(options);
  ASSERT_NE(server.port(), 0) << "capture server did not start";
  auto sender = SenderFor(server.port());
  std::vector<MimeMessage> batch = {SampleMessage("to ada"), SampleMessage("to bob"),
                                    SampleMessage("to cy")};
  batch[1].to = "Bob <bob@example.org>";
  batch[2].to = "cy@example.org";

  const auto results = sender->SendAll(batch);

  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0]) << results[0].error().message;
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(results[1].error().message.find("RCPT TO: SMTP 550 5.1.1 no such user"), std::string::npos)
      << results[1].error().message;
  EXPECT_TRUE(results[2]) << results[2].error().message;
  EXPECT_EQ(ReadFile(server.dir() / "1.env"), "noreply@inkwell.test\nada@example.org\n");
  EXPECT_EQ(ReadFile(server.dir() / "2.env"), "noreply@inkwell.test\ncy@example.org\n");
  EXPECT_NE(ReadFile(server.dir() / "2.eml").find("Subject: to cy\r\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(server.dir() / "3.eml"));
  EXPECT_EQ(sender->last_connects(), 1);
}

TEST(SmtpSenderBatchTest, RefusedRecipientFailsOnlyItsMessagePipelined) {
  ExpectMiddleRecipientRefused({"--pipelining", "--reject", "bob@example.org"});
}

TEST(SmtpSenderBatchTest, RefusedRecipientFailsOnlyItsMessageOneCommandAtATime) {
  ExpectMiddleRecipientRefused({"--reject", "bob@example.org"});
}

// --- TLS and AUTH, against aiosmtpd with a throw-away certificate ------------------------------

// A self-signed certificate for 127.0.0.1 (made with the openssl command) and a second one that
// nobody trusts; SSL_CERT_FILE points OpenSSL's default trust store at the first while a test runs.
class SmtpSenderTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "inkwell-smtp-tls-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    for (const char* name : {"trusted", "stranger"}) {
      const std::string command =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
          "-addext subjectAltName=IP:127.0.0.1 -keyout '" + (dir_ / name).string() + ".key' -out '" +
          (dir_ / name).string() + ".pem' >/dev/null 2>&1";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  void SetUp() override { Trust("trusted"); }
  void TearDown() override { ::unsetenv("SSL_CERT_FILE"); }

  static void Trust(const char* name) { ::setenv("SSL_CERT_FILE", Path(name, ".pem").c_str(), 1); }
  static std::string Path(const char* name, const char* suffix) { return (dir_ / name).string() + suffix; }
  static std::vector<std::string> TlsOptions(const char* mode) {
    return {mode, Path("trusted", ".pem"), Path("trusted", ".key")};
  }
  static core::Result<void> SendVia(const std::string& url_text) {
    auto url = ParseMailUrl(url_text);
    EXPECT_TRUE(url) << url_text;
    auto sender = SmtpSender::Create(*url, seconds(5));
    EXPECT_TRUE(sender);
    return (*sender)->Send(SampleMessage("over tls"));
  }

  static inline fs::path dir_;
};

TEST_F(SmtpSenderTlsTest, StartTlsThenAuthDelivers) {
  // aiosmtpd offers AUTH only under TLS here, so a delivery proves both happened.
  auto options = TlsOptions("--starttls");
  options.insert(options.end(), {"--auth", "mailer:s3cret pass"});
  CaptureServer server(options);
  ASSERT_NE(server.port(), 0) << "capture server did not start";

  const auto sent = SendVia("smtp://mailer:s3cret%20pass@127.0.0.1:" + std::to_string(server.port()) +
                            "?starttls=required");

  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_NE(ReadFile(server.dir() / "1.eml").find("Subject: over tls\r\n"), std::string::npos);
}

TEST_F(SmtpSenderTlsTest, SmtpsDelivers) {
  CaptureServer server(TlsOptions("--smtps"));
  ASSERT_NE(server.port(), 0) << "capture server did not start";

  const auto sent = SendVia("smtps://127.0.0.1:" + std::to_string(server.port()));

  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_TRUE(fs::exists(server.dir() / "1.eml"));
}

TEST_F(SmtpSenderTlsTest, UntrustedCertificateIsRefusedBeforeAnythingIsSent) {
  Trust("stranger");
  CaptureServer server(TlsOptions("--starttls"));
  ASSERT_NE(server.port(), 0) << "capture server did not start";

  const auto sent = SendVia("smtp://127.0.0.1:" + std::to_string(server.port()) + "?starttls=required");

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("certificate verify failed"), std::string::npos)
      << sent.error().message;
  EXPECT_FALSE(fs::exists(server.dir() / "1.eml"));
}

TEST_F(SmtpSenderTlsTest, RequiredStartTlsThatIsNotOfferedIsUnavailable) {
  CaptureServer server;  // no TLS configured
  ASSERT_NE(server.port(), 0) << "capture server did not start";

  const auto sent = SendVia("smtp://127.0.0.1:" + std::to_string(server.port()) + "?starttls=required");

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("does not offer STARTTLS"), std::string::npos) << sent.error().message;
  EXPECT_FALSE(fs::exists(server.dir() / "1.eml"));
}

TEST_F(SmtpSenderTlsTest, WrongPasswordIsUnavailableNotPermanent) {
  auto options = TlsOptions("--smtps");
  options.insert(options.end(), {"--auth", "mailer:right"});
  CaptureServer server(options);
  ASSERT_NE(server.port(), 0) << "capture server did not start";

  const auto sent = SendVia("smtps://mailer:wrong@127.0.0.1:" + std::to_string(server.port()));

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable) << "mail waits for the operator's fix";
  EXPECT_NE(sent.error().message.find("AUTH: SMTP 535"), std::string::npos) << sent.error().message;
  EXPECT_EQ(sent.error().message.find("wrong"), std::string::npos) << "never the password";
}

}  // namespace
}  // namespace inkwell::mail
