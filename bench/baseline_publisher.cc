// Baseline: the fastest a plain rabbitmq-c program publishes persistent messages with streamed
// publisher confirms (at most --window unconfirmed), the way the outbox relay must.
//
//   bench-publisher --port P --count N [--window 256] [--exchange email] [--key send]
//                   [--id-prefix X] [--timeout 60]
// Bodies are welcome e-mail requests (as the web service writes them) to unique addresses, with
// message_id X-<i>, so the mailer can consume them afterwards. Prints one line of JSON:
// {"count":N,"seconds":S,"rate":R} timed from the first publish to the last confirm.

#include <sys/time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "amqp_baseline.h"

namespace {

using inkwell::bench::Flag;

std::string WelcomeBody(const std::string& prefix, std::uint64_t i) {
  const std::string address = "bench-" + prefix + "-" + std::to_string(i) + "@example.org";
  return R"({"data":{"email":")" + address + R"(","name":"Bench )" + std::to_string(i) +
         R"("},"template":"welcome","to":")" + address + R"("})";
}

// Reads one frame (waiting at most until `deadline`) and counts confirms in `confirmed`.
void ReadConfirms(amqp_connection_state_t connection, double deadline, std::uint64_t& confirmed,
                  std::uint64_t& nacked) {
  const double left = deadline - inkwell::bench::NowSeconds();
  if (left <= 0) {
    std::fprintf(stderr, "bench-publisher: timed out with %llu confirmed\n",
                 static_cast<unsigned long long>(confirmed));
    std::exit(1);
  }
  timeval timeout{static_cast<time_t>(left), static_cast<suseconds_t>((left - static_cast<long>(left)) * 1e6)};
  amqp_frame_t frame;
  const int status = amqp_simple_wait_frame_noblock(connection, &frame, &timeout);
  if (status == AMQP_STATUS_TIMEOUT) return;
  if (status != AMQP_STATUS_OK) {
    std::fprintf(stderr, "amqp_simple_wait_frame_noblock: %s\n", amqp_error_string2(status));
    std::exit(1);
  }
  if (frame.frame_type != AMQP_FRAME_METHOD) return;  // header/body of a basic.return
  std::uint64_t tag = 0;
  bool is_multiple = false;
  if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
    const auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
    tag = ack->delivery_tag;
    is_multiple = ack->multiple != 0;
  } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
    const auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
    tag = nack->delivery_tag;
    is_multiple = nack->multiple != 0;
    ++nacked;
  } else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
             frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    std::fprintf(stderr, "bench-publisher: broker closed the channel\n");
    std::exit(1);
  } else {
    return;
  }
  // Confirms arrive in order; "multiple" settles everything up to tag.
  confirmed = is_multiple ? tag : confirmed + 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::stoi(Flag(argc, argv, "--port", "5792"));
  const std::uint64_t count = std::stoull(Flag(argc, argv, "--count", "50000"));
  const std::uint64_t window = std::stoull(Flag(argc, argv, "--window", "256"));
  const std::string exchange = Flag(argc, argv, "--exchange", "email");
  const std::string key = Flag(argc, argv, "--key", "send");
  const std::string prefix = Flag(argc, argv, "--id-prefix", "baseline");
  const double timeout = std::stod(Flag(argc, argv, "--timeout", "60"));

  amqp_connection_state_t connection =
      inkwell::bench::OpenChannel("127.0.0.1", port, "guest", "guest");
  amqp_confirm_select(connection, 1);
  inkwell::bench::CheckReply(amqp_get_rpc_reply(connection), "amqp_confirm_select");

  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                      AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG;
  properties.content_type = amqp_cstring_bytes("application/json");
  properties.delivery_mode = 2;
  properties.type = amqp_cstring_bytes("email.send");

  const double started = inkwell::bench::NowSeconds();
  const double deadline = started + timeout;
  std::uint64_t published = 0;
  std::uint64_t confirmed = 0;
  std::uint64_t nacked = 0;
  while (confirmed < count) {
    while (published < count && published - confirmed < window) {
      const std::string message_id = prefix + "-" + std::to_string(published);
      const std::string body = WelcomeBody(prefix, published);
      properties.message_id = amqp_cstring_bytes(message_id.c_str());
      const int status = amqp_basic_publish(
          connection, 1, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(key.c_str()),
          /*mandatory=*/1, /*immediate=*/0, &properties,
          amqp_bytes_t{body.size(), const_cast<char*>(body.data())});
      if (status != AMQP_STATUS_OK) {
        std::fprintf(stderr, "amqp_basic_publish: %s\n", amqp_error_string2(status));
        return 1;
      }
      ++published;
    }
    ReadConfirms(connection, deadline, confirmed, nacked);
    amqp_maybe_release_buffers(connection);
  }
  const double seconds = inkwell::bench::NowSeconds() - started;
  inkwell::bench::Close(connection);
  std::printf("{\"count\":%llu,\"nacked\":%llu,\"seconds\":%.6f,\"rate\":%.1f}\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(nacked),
              seconds, static_cast<double>(count) / seconds);
  return nacked == 0 ? 0 : 1;
}
