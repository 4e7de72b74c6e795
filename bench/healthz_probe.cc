// GET /healthz every 10 ms on one keep-alive connection for a while, timing each answer: how
// long inkwell-web's I/O threads take to answer while its hashing pool is busy (figure 4). Each
// probe is timed from its scheduled time, so a stall counts for every probe it delayed (the
// probes behind it go out back to back), not for the one that was waiting only.
//
//   bench-healthz-probe --port P [--seconds 6] [--interval-ms 10]
// Prints one line of JSON {"count":N,"errors":E,"latencies_s":[sorted seconds of the 200s]}.
//
// It replaced a Python thread in the suite that took ~6% of a core on the two the web service's
// hashing threads are measured on.

#include <utility>  // before Asio: Boost 1.74's awaitable needs std::exchange (DEBIAN-NOTES)

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "flags.h"

namespace {

using inkwell::bench::Flag;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  double seconds = 0;
  int interval_ms = 0;
  try {
    port = static_cast<unsigned short>(std::stoi(Flag(argc, argv, "--port", "0")));
    seconds = std::stod(Flag(argc, argv, "--seconds", "6"));
    interval_ms = std::stoi(Flag(argc, argv, "--interval-ms", "10"));
  } catch (const std::exception&) {
    port = 0;
  }
  if (port == 0 || seconds <= 0 || interval_ms <= 0) {
    std::fprintf(stderr, "usage: bench-healthz-probe --port P [--seconds 6] [--interval-ms 10]\n");
    return 2;
  }
  asio::io_context io;
  std::vector<double> latencies;
  int count = 0;
  int errors = 0;
  auto probe = [&]() -> asio::awaitable<void> {
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
    http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    asio::steady_timer timer(io);
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (auto next = Clock::now(); next < end && Clock::now() < end;
         next += std::chrono::milliseconds(interval_ms)) {
      timer.expires_at(next);
      co_await timer.async_wait(asio::use_awaitable);
      ++count;
      const auto started = next;
      beast::error_code error;
      if (!stream) {
        stream.emplace(io);
        buffer.clear();
        stream->expires_after(std::chrono::seconds(5));
        co_await stream->async_connect(endpoint, asio::redirect_error(asio::use_awaitable, error));
      }
      http::response<http::string_body> response;
      if (!error) {
        stream->expires_after(std::chrono::seconds(5));
        co_await http::async_write(*stream, request, asio::redirect_error(asio::use_awaitable, error));
      }
      if (!error) co_await http::async_read(*stream, buffer, response, asio::redirect_error(asio::use_awaitable, error));
      if (error || response.result_int() != 200) {
        ++errors;
        stream.reset();  // a fresh connection for the next probe
        continue;
      }
      latencies.push_back(std::chrono::duration<double>(Clock::now() - started).count());
    }
  };
  asio::co_spawn(io, probe(), asio::detached);
  io.run();
  std::sort(latencies.begin(), latencies.end());
  std::string out = "{\"count\":" + std::to_string(count) + ",\"errors\":" + std::to_string(errors) +
                    ",\"latencies_s\":[";
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    char value[32];
    std::snprintf(value, sizeof value, "%s%.7f", i == 0 ? "" : ",", latencies[i]);
    out += value;
  }
  std::printf("%s]}\n", out.c_str());
  return 0;
}
