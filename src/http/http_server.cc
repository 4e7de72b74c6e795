#include <utility>  // before Asio: Boost 1.74's awaitable needs std::exchange

#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "core/log.h"

namespace inkwell::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;
// Each connection runs on a strand of its own (a response may be handed over from a worker
// thread), named by its concrete type: the polymorphic any_io_executor that beast::tcp_stream
// uses costs a heap copy of the strand for many an operation.
using Executor = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Clock = std::chrono::steady_clock;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;

HttpRequest ToRequest(beast_http::request<beast_http::string_body>& raw,
                      const std::string& client) {
  HttpRequest request;
  request.method = std::string(raw.method_string());
  request.target = std::string(raw.target());
  const size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : raw) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = std::move(raw.body());
  request.client_address = client;
  return request;
}

// One connection: reads a request, hands it to the handler, writes its answer, and again while
// the client keeps the connection alive.
//
// The idle timeout: a connection whose read or write has not completed within idle_timeout is
// closed (a client that sends nothing, or stops reading our answer). One watchdog timer per
// connection checks the time of the last I/O step and re-arms itself, rather than a timer armed
// and cancelled around every read and write (beast::basic_stream's way), which took a tenth of
// the instructions of a cached page. While the handler works on a request no I/O is pending and
// the clock does not run: a slow answer is not cut off by the connection's own timeout.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, const Handler& handler, Clock::duration idle_timeout)
      : socket_(std::move(socket)), watchdog_(socket_.get_executor()), handler_(handler),
        idle_timeout_(idle_timeout) {
    beast::error_code error;
    const auto endpoint = socket_.remote_endpoint(error);
    if (!error) client_ = endpoint.address().to_string();
  }

  void Run() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->Touch();
      self->Watch();
      self->ReadHeader();
    });
  }

 private:
  void Touch() { last_activity_ = Clock::now(); }

  void Watch() {
    watchdog_.expires_at(last_activity_ + idle_timeout_);
    // A weak reference: the pending read or write, or the responder of a request being handled,
    // keeps the session; a handler that drops its responder unanswered ends it (the client sees
    // the connection close) rather than the watchdog keeping it open until the server stops.
    watchdog_.async_wait([weak = weak_from_this()](beast::error_code error) {
      const auto self = weak.lock();
      if (error || !self || self->is_closed_) return;  // cancelled: the connection is closing
      if (!self->is_handling_ && Clock::now() - self->last_activity_ >= self->idle_timeout_) {
        return self->Close({}, "");  // the pending read or write fails with operation_aborted
      }
      if (self->is_handling_) self->Touch();  // the idle time starts again with the answer
      self->Watch();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    Touch();
    beast_http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) {
          self->OnHeader(error);
        });
  }

  void OnHeader(beast::error_code error) {
    if (is_closed_) return;  // the watchdog closed it as the read completed
    // A Content-Length over the limit is refused as soon as the header is read.
    if (error == beast_http::error::body_limit) return OnRead(error);
    if (error) return Close(error, "read header");
    // A request without a body (every GET) is complete with its header: handle it now rather
    // than through another asynchronous read that would only report it done.
    if (parser_->is_done()) return OnRead({});
    Touch();
    beast_http::async_read(socket_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code read_error, size_t) {
                             self->OnRead(read_error);
                           });
  }

  void OnRead(beast::error_code error) {
    if (is_closed_) return;
    const bool is_too_large = error == beast_http::error::body_limit;
    if (error && !is_too_large) return Close(error, "read");
    auto& raw = parser_->get();
    HttpRequest request = ToRequest(raw, client_);
    request.is_body_too_large = is_too_large;
    // The unread rest of an oversized body makes the connection unusable: answer and close.
    keep_alive_ = !is_too_large && raw.keep_alive();
    version_ = raw.version();
    is_head_ = raw.method() == beast_http::verb::head;
    is_handling_ = true;
    const std::uint64_t number = ++requests_;
    auto self = shared_from_this();
    // dispatch: an answer given at once (a cache hit) is written right here on the session's
    // strand; one from a worker thread is queued to the strand.
    Responder respond = [self, number](HttpResponse response) {
      asio::dispatch(self->socket_.get_executor(), [self, number, response = std::move(response)]() mutable {
        self->Write(std::move(response), number);
      });
    };
    try {
      handler_(std::move(request), std::move(respond));
    } catch (const std::exception& exception) {
      core::LogError("request handler threw", {{"error", exception.what()}});
      Write(HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"}, number);
    }
  }

  // The answer to request `number` of this connection. Only the first answer to the request
  // being handled is written: a second one (a handler that answered, then threw; a bug that
  // answers twice) would start a second write on the socket, or answer the next request.
  void Write(HttpResponse response, std::uint64_t number) {
    if (number != requests_ || !is_handling_) {
      core::LogError("a second answer to one HTTP request was dropped",
                     {{"status", std::to_string(response.status)}});
      return;
    }
    is_handling_ = false;
    if (is_closed_) return;  // the client's connection ended while the answer was prepared
    auto message = std::make_shared<beast_http::response<beast_http::string_body>>(
        static_cast<beast_http::status>(response.status), version_);
    message->set(beast_http::field::server, "inkwell");
    message->set(beast_http::field::content_type, response.content_type);
    // insert, not set: a response may carry several Set-Cookie headers, which must all go out.
    for (auto& [name, value] : response.headers) message->insert(name, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_);
    message->prepare_payload();
    if (is_head_) message->body().clear();  // HEAD: the GET's headers, Content-Length included
    Touch();
    beast_http::async_write(socket_, *message,
                            [self = shared_from_this(), message](beast::error_code error, size_t) {
                              self->OnWrite(error, message->keep_alive());
                            });
  }

  void OnWrite(beast::error_code error, bool keep_alive) {
    if (error) return Close(error, "write");
    if (!keep_alive) return Close({}, "");
    ReadHeader();
  }

  void Close(beast::error_code error, const char* operation) {
    if (error && error != beast_http::error::end_of_stream && error != asio::error::operation_aborted &&
        error != asio::error::connection_reset) {
      core::LogDebug("http connection closed", {{"operation", operation}, {"error", error.message()}});
    }
    is_closed_ = true;
    watchdog_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  Timer watchdog_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  const Handler& handler_;
  const Clock::duration idle_timeout_;
  Clock::time_point last_activity_;
  std::string client_;
  bool keep_alive_ = true;
  bool is_handling_ = false;  // between reading a request and writing its answer
  std::uint64_t requests_ = 0;  // requests read on this connection
  bool is_closed_ = false;
  unsigned version_ = 11;
  bool is_head_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(unsigned io_threads, Handler handler, Clock::duration idle_timeout)
      : context_(static_cast<int>(io_threads)), acceptor_(context_), handler_(std::move(handler)),
        io_threads_(io_threads), idle_timeout_(idle_timeout) {}

  core::Result<void> Listen(const std::string& address) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "HTTP address '" + address + "' must be host:port");
    }
    beast::error_code error;
    const auto ip = asio::ip::make_address(address.substr(0, colon), error);
    unsigned long port = 0;
    try {
      port = std::stoul(address.substr(colon + 1));
    } catch (const std::exception&) {
      port = 70000;
    }
    if (error || port > 65535) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "HTTP address '" + address + "' must be an IP address and a port");
    }
    const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      return core::Fail(core::ErrorCode::kUnavailable,
                        "listen on " + address + ": " + error.message());
    }
    Accept();
    for (unsigned i = 0; i < io_threads_; ++i) threads_.emplace_back([this] { context_.run(); });
    return {};
  }

  void Stop() {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    context_.stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    threads_.clear();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(context_.get_executor()),
                           [this](beast::error_code error, Socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        std::make_shared<Session>(std::move(socket), handler_, idle_timeout_)->Run();
      } else {
        core::LogWarn("http accept failed", {{"error", error.message()}});
      }
      Accept();
    });
  }

  asio::io_context context_;
  tcp::acceptor acceptor_;
  Handler handler_;
  unsigned io_threads_;
  Clock::duration idle_timeout_;
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

core::Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                            unsigned io_threads, Handler handler,
                                                            std::chrono::milliseconds idle_timeout) {
  if (idle_timeout <= std::chrono::milliseconds(0)) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "HTTP idle timeout must be positive");
  }
  auto impl = std::make_unique<Impl>(io_threads, std::move(handler), idle_timeout);
  if (auto listening = impl->Listen(address); !listening) return tl::unexpected(listening.error());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

unsigned short HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace inkwell::http
