// The fixed-rate registration load of bench/run's figure 3, and the SMTP server that receives
// the welcome mails, in one C++ event loop.
//
//   bench-registration-load --http-port P --smtp-port S [--rate 200] [--seconds 30] [--tag T]
//                           [--mail-wait 10]
//
// Each registration (POST /api/v1/users) leaves at its scheduled time, on an idle keep-alive
// connection or a new one, whatever the server does (an open loop: a slow server shows as
// queueing, not as a slower load); every latency counts from the scheduled time. The SMTP server
// (PIPELINING, no TLS) notes when each recipient's mail was accepted: the end of its DATA. Prints
// one JSON line: counts, the generator's own lag behind its schedule, and the response times and
// registration -> mail latencies of the accepted registrations, in seconds.
//
// It replaced a Python generator (asyncio, with aiosmtpd on the same loop) that took a third of
// a core at 200/s on the two cores it shares with the system under test, and started its
// requests up to 26 ms behind schedule; both counted as the system's latency.

#include <utility>  // before Asio: Boost 1.74's awaitable needs std::exchange (DEBIAN-NOTES)

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "flags.h"

namespace {

using inkwell::bench::Flag;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

struct Options {
  unsigned short http_port = 0;
  unsigned short smtp_port = 0;
  double rate = 200;
  double seconds = 30;
  std::string tag = "load";
  double mail_wait = 10;
  std::chrono::seconds request_timeout{10};
};

struct Registration {
  std::string address;
  Clock::time_point scheduled;
  double lag = 0;  // how late it started against its schedule: the generator's own delay
  int status = 0;  // 0: no HTTP answer
  double response = 0;
};

struct Client {
  explicit Client(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

// inkwell-web closes a keep-alive connection after 30 s without a request; one idle longer than
// this is not reused (a request written to it could meet the server's close and fail).
constexpr auto kMaxIdle = std::chrono::seconds(20);

struct Run {
  asio::io_context io;
  Options options;
  std::vector<Registration> registrations;
  std::vector<std::unique_ptr<Client>> idle;
  std::size_t finished = 0;
  std::unordered_map<std::string, Clock::time_point> arrived;  // recipient -> first acceptance
  std::optional<tcp::acceptor> acceptor;
};

asio::awaitable<void> Register(Run& run, std::size_t index) {
  Registration& registration = run.registrations[index];
  registration.lag = Seconds(Clock::now() - registration.scheduled);
  beast::error_code error;
  std::unique_ptr<Client> client;
  while (!run.idle.empty() && !client) {
    client = std::move(run.idle.back());
    run.idle.pop_back();
    if (Clock::now() - client->idle_since > kMaxIdle) client.reset();
  }
  if (!client) {
    client = std::make_unique<Client>(run.io);
    client->stream.expires_after(run.options.request_timeout);
    co_await client->stream.async_connect(
        tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), run.options.http_port),
        asio::redirect_error(asio::use_awaitable, error));
    if (!error) client->stream.socket().set_option(tcp::no_delay(true), error);
  }
  if (!error) {
    http::request<http::string_body> request{http::verb::post, "/api/v1/users", 11};
    request.set(http::field::host, "127.0.0.1:" + std::to_string(run.options.http_port));
    request.set(http::field::content_type, "application/json");
    request.body() = nlohmann::json{{"name", "Load " + std::to_string(index)},
                                    {"email", registration.address},
                                    {"password", "benchmark-password"}}
                         .dump();
    request.prepare_payload();
    client->stream.expires_after(run.options.request_timeout);
    co_await http::async_write(client->stream, request, asio::redirect_error(asio::use_awaitable, error));
    if (!error) {
      http::response<http::string_body> response;
      co_await http::async_read(client->stream, client->buffer, response,
                                asio::redirect_error(asio::use_awaitable, error));
      if (!error) {
        registration.status = static_cast<int>(response.result_int());
        registration.response = Seconds(Clock::now() - registration.scheduled);
        if (response.keep_alive()) {
          client->stream.expires_never();
          client->idle_since = Clock::now();
          run.idle.push_back(std::move(client));
        }
      }
    }
  }
  ++run.finished;  // a failed request counts as an error, not as a latency
}

// One SMTP session: enough of RFC 5321 for our mailer and smtp-sink's role, with PIPELINING
// (replies to a pipelined group go out together, once no complete command is left unread).
asio::awaitable<void> ServeSmtp(Run& run, tcp::socket socket) {
  beast::error_code error;
  socket.set_option(tcp::no_delay(true), error);
  std::string input;
  std::string replies = "220 bench-sink ESMTP\r\n";
  std::vector<std::string> recipients;
  bool is_in_data = false;
  for (;;) {
    if (!replies.empty() && input.find("\r\n") == std::string::npos) {
      co_await asio::async_write(socket, asio::buffer(replies), asio::redirect_error(asio::use_awaitable, error));
      if (error) break;
      replies.clear();
    }
    const std::size_t length = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(input), "\r\n", asio::redirect_error(asio::use_awaitable, error));
    if (error) break;
    const std::string line = input.substr(0, length - 2);
    input.erase(0, length);
    if (is_in_data) {
      if (line != ".") continue;  // the content itself is not kept
      const auto now = Clock::now();
      for (const std::string& recipient : recipients) run.arrived.emplace(recipient, now);
      recipients.clear();
      is_in_data = false;
      replies += "250 2.0.0 accepted\r\n";
      continue;
    }
    const std::string verb = Lower(line.substr(0, line.find(' ')));
    if (verb == "ehlo") {
      replies += "250-bench-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
    } else if (verb == "helo" || verb == "noop") {
      replies += "250 2.0.0 ok\r\n";
    } else if (verb == "mail") {
      recipients.clear();
      replies += "250 2.1.0 ok\r\n";
    } else if (verb == "rcpt") {
      const std::size_t open = line.find('<');
      const std::size_t close = line.find('>', open == std::string::npos ? 0 : open);
      if (open == std::string::npos || close == std::string::npos) {
        replies += "501 5.5.4 RCPT TO:<address> expected\r\n";
        continue;
      }
      recipients.push_back(Lower(line.substr(open + 1, close - open - 1)));
      replies += "250 2.1.5 ok\r\n";
    } else if (verb == "data") {
      if (recipients.empty()) {
        replies += "554 5.5.1 no valid recipients\r\n";
        continue;
      }
      is_in_data = true;
      replies += "354 end with <CRLF>.<CRLF>\r\n";
    } else if (verb == "rset") {
      recipients.clear();
      replies += "250 2.0.0 ok\r\n";
    } else if (verb == "quit") {
      co_await asio::async_write(socket, asio::buffer(replies + "221 2.0.0 bye\r\n"),
                                 asio::redirect_error(asio::use_awaitable, error));
      break;
    } else {
      replies += "502 5.5.2 not implemented\r\n";
    }
  }
  socket.shutdown(tcp::socket::shutdown_both, error);
}

asio::awaitable<void> AcceptSmtp(Run& run) {
  for (;;) {
    beast::error_code error;
    tcp::socket socket = co_await run.acceptor->async_accept(asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;  // closed at the end of the run
    asio::co_spawn(run.io, ServeSmtp(run, std::move(socket)), asio::detached);
  }
}

bool AllMailsArrived(const Run& run) {
  return std::all_of(run.registrations.begin(), run.registrations.end(), [&](const Registration& r) {
    return r.status != 201 || run.arrived.contains(r.address);
  });
}

asio::awaitable<void> Offer(Run& run) {
  asio::steady_timer timer(run.io);
  for (std::size_t i = 0; i < run.registrations.size(); ++i) {
    if (Clock::now() < run.registrations[i].scheduled) {
      timer.expires_at(run.registrations[i].scheduled);
      co_await timer.async_wait(asio::use_awaitable);
    }
    asio::co_spawn(run.io, Register(run, i), asio::detached);
  }
  while (run.finished < run.registrations.size()) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(run.options.mail_wait));
  while (Clock::now() < deadline && !AllMailsArrived(run)) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  run.io.stop();  // the SMTP sessions and idle connections end with the process
}

nlohmann::json Report(const Run& run, Clock::time_point started) {
  std::vector<double> lags;
  std::vector<double> responses;
  std::vector<double> latencies;
  std::vector<double> after_response;
  std::vector<std::pair<double, double>> timeline;
  std::size_t accepted = 0;
  for (const Registration& registration : run.registrations) {
    lags.push_back(registration.lag);
    if (registration.status != 201) continue;
    ++accepted;
    responses.push_back(registration.response);
    const auto mail = run.arrived.find(registration.address);
    if (mail == run.arrived.end()) continue;
    const double latency = Seconds(mail->second - registration.scheduled);
    latencies.push_back(latency);
    // The part after the answer (relay, broker, mailer, SMTP); negative when the mail came first.
    after_response.push_back(latency - registration.response);
    timeline.emplace_back(Seconds(registration.scheduled - started), latency);
  }
  for (auto* values : {&lags, &responses, &latencies, &after_response}) std::sort(values->begin(), values->end());
  std::sort(timeline.begin(), timeline.end());
  nlohmann::json timeline_json = nlohmann::json::array();
  for (const auto& [at, latency] : timeline) timeline_json.push_back({at, latency});
  return {{"offered", run.registrations.size()},
          {"accepted", accepted},
          {"errors", run.registrations.size() - accepted},
          {"mails_missing", accepted - latencies.size()},
          {"send_lag_s", lags},
          {"response_s", responses},
          {"mail_latency_s", latencies},
          {"mail_after_response_s", after_response},
          {"mail_latency_timeline", timeline_json}};
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  try {
    run.options.http_port = static_cast<unsigned short>(std::stoi(Flag(argc, argv, "--http-port", "0")));
    run.options.smtp_port = static_cast<unsigned short>(std::stoi(Flag(argc, argv, "--smtp-port", "0")));
    run.options.rate = std::stod(Flag(argc, argv, "--rate", "200"));
    run.options.seconds = std::stod(Flag(argc, argv, "--seconds", "30"));
    run.options.mail_wait = std::stod(Flag(argc, argv, "--mail-wait", "10"));
  } catch (const std::exception&) {
    std::fprintf(stderr, "bench-registration-load: --http-port, --smtp-port, --rate, --seconds and "
                         "--mail-wait take numbers\n");
    return 2;
  }
  run.options.tag = Flag(argc, argv, "--tag", "load");
  if (run.options.http_port == 0 || run.options.smtp_port == 0 || run.options.rate <= 0 ||
      run.options.seconds <= 0) {
    std::fprintf(stderr, "usage: bench-registration-load --http-port P --smtp-port S [--rate 200] "
                         "[--seconds 30] [--tag T] [--mail-wait 10]\n");
    return 2;
  }
  try {
    run.acceptor.emplace(run.io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), run.options.smtp_port));
  } catch (const std::exception& exception) {
    std::fprintf(stderr, "bench-registration-load: SMTP port %u: %s\n", run.options.smtp_port, exception.what());
    return 1;
  }
  const auto count = static_cast<std::size_t>(run.options.rate * run.options.seconds);
  const auto started = Clock::now() + std::chrono::milliseconds(50);
  run.registrations.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    // Lower case, as the SMTP server keeps recipients.
    run.registrations[i].address = Lower("load-" + run.options.tag + "-" + std::to_string(i) + "@example.org");
    run.registrations[i].scheduled =
        started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / run.options.rate));
  }
  asio::co_spawn(run.io, AcceptSmtp(run), asio::detached);
  asio::co_spawn(run.io, Offer(run), asio::detached);
  run.io.run();
  std::printf("%s\n", Report(run, started).dump().c_str());
  return 0;
}
