#include <utility>  // before Asio: Boost 1.74's awaitable needs std::exchange

#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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

constexpr auto kIdleTimeout = std::chrono::seconds(30);

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

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler)
      : stream_(std::move(socket)), handler_(handler) {
    beast::error_code error;
    const auto endpoint = stream_.socket().remote_endpoint(error);
    if (!error) client_ = endpoint.address().to_string();
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kIdleTimeout);
    beast_http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) {
          self->OnHeader(error);
        });
  }

  void OnHeader(beast::error_code error) {
    // A Content-Length over the limit is refused as soon as the header is read.
    if (error == beast_http::error::body_limit) return OnRead(error);
    if (error) return Close(error, "read header");
    // A request without a body (every GET) is complete with its header: handle it now rather
    // than through another asynchronous read that would only report it done.
    if (parser_->is_done()) return OnRead({});
    beast_http::async_read(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code read_error, size_t) {
                             self->OnRead(read_error);
                           });
  }

  void OnRead(beast::error_code error) {
    const bool is_too_large = error == beast_http::error::body_limit;
    if (error && !is_too_large) return Close(error, "read");
    auto& raw = parser_->get();
    HttpRequest request = ToRequest(raw, client_);
    request.is_body_too_large = is_too_large;
    // The unread rest of an oversized body makes the connection unusable: answer and close.
    keep_alive_ = !is_too_large && raw.keep_alive();
    version_ = raw.version();
    is_head_ = raw.method() == beast_http::verb::head;
    auto self = shared_from_this();
    // dispatch: an answer given at once (a cache hit) is written right here on the session's
    // strand; one from a worker thread is queued to the strand.
    Responder respond = [self](HttpResponse response) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    };
    try {
      handler_(std::move(request), std::move(respond));
    } catch (const std::exception& exception) {
      core::LogError("request handler threw", {{"error", exception.what()}});
      Write(HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"});
    }
  }

  void Write(HttpResponse response) {
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
    stream_.expires_after(kIdleTimeout);
    beast_http::async_write(stream_, *message,
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
    if (error && error != beast_http::error::end_of_stream && error != beast::error::timeout &&
        error != asio::error::operation_aborted && error != asio::error::connection_reset) {
      core::LogDebug("http connection closed", {{"operation", operation}, {"error", error.message()}});
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  const Handler& handler_;
  std::string client_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool is_head_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(unsigned io_threads, Handler handler)
      : context_(static_cast<int>(io_threads)), acceptor_(context_), handler_(std::move(handler)),
        io_threads_(io_threads) {}

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
    acceptor_.async_accept(asio::make_strand(context_), [this](beast::error_code error,
                                                               tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        std::make_shared<Session>(std::move(socket), handler_)->Run();
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
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

core::Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                            unsigned io_threads, Handler handler) {
  auto impl = std::make_unique<Impl>(io_threads, std::move(handler));
  if (auto listening = impl->Listen(address); !listening) return tl::unexpected(listening.error());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

unsigned short HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace inkwell::http
