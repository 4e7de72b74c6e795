#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace inkwell::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A blocking client on a real socket; every read gives up after 5 s, so a server that never
// answers fails the test instead of hanging it.
class Client {
 public:
  explicit Client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    is_connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool is_connected() const { return is_connected_; }

  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }

  // One response: its head (status line and headers) and its body, by Content-Length. Empty
  // head when the connection closed (or nothing came within 5 s) before a whole response.
  struct Response {
    std::string head;
    std::string body;
  };
  Response Read(bool has_body = true) {
    Response response;
    size_t end = std::string::npos;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return {};
    }
    response.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    size_t length = 0;
    if (const size_t at = Lower(response.head).find("content-length: "); at != std::string::npos) {
      length = std::stoul(response.head.substr(at + 16));
    }
    if (!has_body) length = 0;
    while (pending_.size() < length) {
      if (!Fill()) return {};
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // Whatever arrives next (what was read ahead first); false at the end of the stream, on an
  // error or after 5 s without a byte.
  bool ReadSome(std::string& chunk) {
    if (!pending_.empty()) {
      chunk.swap(pending_);
      pending_.clear();
      return true;
    }
    char buffer[65536];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got <= 0) return false;
    chunk.assign(buffer, static_cast<size_t>(got));
    return true;
  }

  // True when the server closes the connection (end of stream) within 5 s.
  bool IsClosedByServer() {
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  static std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  bool Fill() {
    char buffer[4096];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(got));
    return true;
  }

  int fd_;
  bool is_connected_ = false;
  std::string pending_;
};

std::string Get(const std::string& target, const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(Handler handler, std::chrono::milliseconds idle_timeout = 30s) {
    auto started = HttpServer::Start("127.0.0.1:0", 1, std::move(handler), idle_timeout);
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    for (auto& thread : helpers_) thread.join();
  }

  // An echo of the request's method and target, answered at once.
  static Handler Echo() {
    return [](HttpRequest request, Responder respond) {
      respond(HttpResponse{200, "text/plain", {{"X-Test", "yes"}}, request.method + " " + request.target});
    };
  }

  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> helpers_;
};

TEST_F(HttpServerTest, AnswersEveryRequestOnOneKeptConnection) {
  Start(Echo());
  Client client(server_->port());
  ASSERT_TRUE(client.is_connected());
  for (int i = 0; i < 5; ++i) {
    client.Send(Get("/item/" + std::to_string(i) + "?q=1"));
    const auto response = client.Read();
    ASSERT_NE(response.head, "") << "request " << i;
    EXPECT_TRUE(response.head.starts_with("HTTP/1.1 200 OK\r\n")) << response.head;
    EXPECT_NE(response.head.find("X-Test: yes\r\n"), std::string::npos) << response.head;
    EXPECT_EQ(response.body, "GET /item/" + std::to_string(i) + "?q=1");
  }
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  Start(Echo());
  Client client(server_->port());
  client.Send(Get("/a") + Get("/b") + Get("/c"));
  EXPECT_EQ(client.Read().body, "GET /a");
  EXPECT_EQ(client.Read().body, "GET /b");
  EXPECT_EQ(client.Read().body, "GET /c");
}

TEST_F(HttpServerTest, AnswerFromAnotherThreadReachesTheClient) {
  Start([this](HttpRequest request, Responder respond) {
    helpers_.emplace_back([request = std::move(request), respond = std::move(respond)] {
      std::this_thread::sleep_for(20ms);
      respond(HttpResponse{201, "text/plain", {}, "later " + request.path});
    });
  });
  Client client(server_->port());
  client.Send(Get("/slow"));
  const auto response = client.Read();
  EXPECT_TRUE(response.head.starts_with("HTTP/1.1 201 Created\r\n")) << response.head;
  EXPECT_EQ(response.body, "later /slow");
}

TEST_F(HttpServerTest, HeadGivesTheHeadersWithoutTheBody) {
  Start(Echo());
  Client client(server_->port());
  client.Send(Get("/page", "HEAD") + Get("/after"));
  const auto head = client.Read(/*has_body=*/false);
  EXPECT_NE(head.head.find("Content-Length: 10\r\n"), std::string::npos) << head.head;  // "HEAD /page"
  // Had a body been sent, this would read it as the next response.
  EXPECT_EQ(client.Read().body, "GET /after");
}

TEST_F(HttpServerTest, OversizedBodyIsAnsweredAndTheConnectionClosed) {
  std::atomic<bool> saw_too_large = false;
  Start([&](HttpRequest request, Responder respond) {
    saw_too_large = request.is_body_too_large;
    respond(HttpResponse{request.is_body_too_large ? 413 : 200, "text/plain", {}, "no"});
  });
  Client client(server_->port());
  client.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " +
              std::to_string(kMaxBodyBytes + 1) + "\r\n\r\n");
  const auto response = client.Read();
  EXPECT_TRUE(response.head.starts_with("HTTP/1.1 413")) << response.head;
  EXPECT_TRUE(saw_too_large);
  EXPECT_TRUE(client.IsClosedByServer());
}

TEST_F(HttpServerTest, ConnectionThatSendsNothingIsClosedAfterTheIdleTimeout) {
  Start(Echo(), 300ms);
  const auto started = Clock::now();  // before the connect: the server's clock starts after it
  Client client(server_->port());
  EXPECT_TRUE(client.IsClosedByServer());
  const auto took = Clock::now() - started;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST_F(HttpServerTest, KeptConnectionIsClosedAfterTheIdleTimeoutOnlyOnceIdle) {
  Start(Echo(), 300ms);
  Client client(server_->port());
  // Requests more often than the timeout keep the connection open well past it.
  const auto started = Clock::now();
  for (int i = 0; i < 8; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    client.Send(Get("/tick"));
    ASSERT_EQ(client.Read().body, "GET /tick") << "request " << i;
  }
  const auto idle_from = Clock::now();  // the server's clock started before the answer came
  EXPECT_GE(idle_from - started, 700ms);
  EXPECT_TRUE(client.IsClosedByServer());
  EXPECT_GE(Clock::now() - idle_from, 250ms);
}

TEST_F(HttpServerTest, HalfSentRequestIsClosedAfterTheIdleTimeout) {
  Start(Echo(), 300ms);
  Client client(server_->port());
  client.Send("GET /never-finished HTTP/1.1\r\nHost: te");
  const auto started = Clock::now();
  EXPECT_TRUE(client.IsClosedByServer());
  EXPECT_LT(Clock::now() - started, 3s);
}

TEST_F(HttpServerTest, SlowAnswerIsNotCutOffByTheIdleTimeout) {
  // The handler's time is not idle time: an answer that takes three timeouts still arrives.
  Start([this](HttpRequest, Responder respond) {
    helpers_.emplace_back([respond = std::move(respond)] {
      std::this_thread::sleep_for(900ms);
      respond(HttpResponse{200, "text/plain", {}, "worth the wait"});
    });
  }, 300ms);
  Client client(server_->port());
  client.Send(Get("/slow"));
  EXPECT_EQ(client.Read().body, "worth the wait");
  // And the idle clock starts again after the answer.
  const auto idle_from = Clock::now();
  EXPECT_TRUE(client.IsClosedByServer());
  EXPECT_GE(Clock::now() - idle_from, 250ms);
}

TEST_F(HttpServerTest, AnswerThatIsNotReadIsCutOffAfterTheIdleTimeout) {
  // A client that stops reading: the write cannot finish (the answer is far larger than both
  // sockets' buffers), and the connection is closed once the write has waited a timeout.
  constexpr size_t kBody = 64 * 1024 * 1024;
  Start([](HttpRequest, Responder respond) {
    respond(HttpResponse{200, "application/octet-stream", {}, std::string(kBody, 'x')});
  }, 300ms);
  Client client(server_->port());
  client.Send(Get("/huge"));
  std::this_thread::sleep_for(1500ms);  // not reading meanwhile
  size_t received = 0;
  std::string chunk;
  while (client.ReadSome(chunk)) received += chunk.size();
  EXPECT_LT(received, kBody) << "the whole answer arrived: the write was not cut off";
}

TEST_F(HttpServerTest, HandlerThatDropsItsResponderEndsTheConnection) {
  // No answer will ever come: the connection closes instead of hanging, its session freed.
  Start([](HttpRequest, Responder) {}, 300ms);
  Client client(server_->port());
  client.Send(Get("/forgotten"));
  const auto started = Clock::now();
  EXPECT_TRUE(client.IsClosedByServer());
  EXPECT_LT(Clock::now() - started, 1s) << "closed by the idle timeout, not by the dropped responder";
}

TEST_F(HttpServerTest, SecondAnswerToOneRequestIsDropped) {
  Start([this](HttpRequest request, Responder respond) {
    respond(HttpResponse{200, "text/plain", {}, "first " + request.path});
    helpers_.emplace_back([respond] { respond(HttpResponse{200, "text/plain", {}, "second"}); });
  });
  Client client(server_->port());
  client.Send(Get("/one"));
  EXPECT_EQ(client.Read().body, "first /one");
  std::this_thread::sleep_for(100ms);  // the second answer arrives meanwhile, and is dropped
  client.Send(Get("/two"));
  EXPECT_EQ(client.Read().body, "first /two");
}

TEST_F(HttpServerTest, IdleTimeoutMustBePositive) {
  auto started = HttpServer::Start("127.0.0.1:0", 1, Echo(), 0ms);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("idle timeout"), std::string::npos) << started.error().message;
}

TEST_F(HttpServerTest, ThrowingHandlerAnswers500AndKeepsServing) {
  std::atomic<int> calls = 0;
  Start([&](HttpRequest request, Responder respond) {
    if (calls++ == 0) throw std::runtime_error("boom");
    respond(HttpResponse{200, "text/plain", {}, request.path});
  });
  Client client(server_->port());
  client.Send(Get("/first"));
  EXPECT_TRUE(client.Read().head.starts_with("HTTP/1.1 500")) ;
  client.Send(Get("/second"));
  EXPECT_EQ(client.Read().body, "/second");
}

}  // namespace
}  // namespace inkwell::http
