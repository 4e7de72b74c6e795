// Baseline: a bare Boost.Beast HTTP/1.1 server answering every request with one fixed page,
// keep-alive, no routing, no templates, no logging. What inkwell-web is measured against.
//
//   bench-http-server --port P [--threads 1] [--body-bytes 1024]

#include <utility>  // before Asio: Boost 1.74's awaitable needs std::exchange (DEBIAN-NOTES)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "flags.h"

namespace {

using inkwell::bench::Flag;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::string FixedPage(std::size_t size) {
  std::string page = "<!doctype html><html><head><title>bench</title></head><body><p>";
  const std::string tail = "</p></body></html>\n";
  while (page.size() + tail.size() < size) page += 'x';
  return page + tail;
}

asio::awaitable<void> Serve(tcp::socket socket, const std::string& page) {
  beast::flat_buffer buffer;
  beast::error_code error;
  for (;;) {
    http::request<http::string_body> request;
    co_await http::async_read(socket, buffer, request,
                              asio::redirect_error(asio::use_awaitable, error));
    if (error) break;  // the client closed, or sent garbage: either way, done
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.keep_alive(request.keep_alive());
    response.body() = page;
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, error));
    if (error || !response.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, error);
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, const std::string& page) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), page), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(std::stoi(Flag(argc, argv, "--port", "18090")));
  const int threads = std::stoi(Flag(argc, argv, "--threads", "1"));
  const std::string page = FixedPage(std::stoul(Flag(argc, argv, "--body-bytes", "1024")));

  asio::io_context io(threads);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) { io.stop(); });
  asio::co_spawn(io, Accept(acceptor, page), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : pool) thread.join();
  return 0;
}
