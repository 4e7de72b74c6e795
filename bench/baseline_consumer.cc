// Baseline: the fastest a plain rabbitmq-c program consumes with manual acks (one basic.ack per
// message, as the mailer does) and a bounded prefetch.
//
//   bench-consumer --port P --count N [--queue email] [--prefetch 500] [--timeout 60]
// Prints one line of JSON {"count":N,"seconds":S,"rate":R}, timed from the first delivery to
// the N-th ack.

#include <sys/time.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "amqp_baseline.h"

int main(int argc, char** argv) {
  using inkwell::bench::Flag;
  const int port = std::stoi(Flag(argc, argv, "--port", "5792"));
  const std::uint64_t count = std::stoull(Flag(argc, argv, "--count", "50000"));
  const std::string queue = Flag(argc, argv, "--queue", "email");
  const int prefetch = std::stoi(Flag(argc, argv, "--prefetch", "500"));
  const double timeout = std::stod(Flag(argc, argv, "--timeout", "60"));

  amqp_connection_state_t connection =
      inkwell::bench::OpenChannel("127.0.0.1", port, "guest", "guest");
  amqp_basic_qos(connection, 1, 0, static_cast<std::uint16_t>(prefetch), 0);
  inkwell::bench::CheckReply(amqp_get_rpc_reply(connection), "amqp_basic_qos");
  amqp_basic_consume(connection, 1, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes,
                     /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
  inkwell::bench::CheckReply(amqp_get_rpc_reply(connection), "amqp_basic_consume");

  const double deadline = inkwell::bench::NowSeconds() + timeout;
  double started = 0;
  std::uint64_t acked = 0;
  while (acked < count) {
    const double left = deadline - inkwell::bench::NowSeconds();
    if (left <= 0) {
      std::fprintf(stderr, "bench-consumer: timed out after %llu messages\n",
                   static_cast<unsigned long long>(acked));
      return 1;
    }
    timeval wait{static_cast<time_t>(left), 0};
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(connection);
    const amqp_rpc_reply_t reply = amqp_consume_message(connection, &envelope, &wait, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_TIMEOUT) {
      continue;
    }
    inkwell::bench::CheckReply(reply, "amqp_consume_message");
    if (acked == 0) started = inkwell::bench::NowSeconds();
    if (amqp_basic_ack(connection, 1, envelope.delivery_tag, /*multiple=*/0) != AMQP_STATUS_OK) {
      std::fprintf(stderr, "amqp_basic_ack failed\n");
      return 1;
    }
    amqp_destroy_envelope(&envelope);
    ++acked;
  }
  const double seconds = inkwell::bench::NowSeconds() - started;
  inkwell::bench::Close(connection);
  std::printf("{\"count\":%llu,\"seconds\":%.6f,\"rate\":%.1f}\n",
              static_cast<unsigned long long>(count), seconds,
              static_cast<double>(count) / seconds);
  return 0;
}
