#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::amqp {

// amqp://user:password@host:port/vhost (amqps:// for TLS). Defaults as RabbitMQ's URI spec:
// guest/guest, port 5672 (5671 for amqps), vhost "/" when the path is empty.
struct BrokerUrl {
  std::string host;
  std::uint16_t port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  bool is_tls = false;

  // kInvalidArgument naming what is wrong with the URL.
  static core::Result<BrokerUrl> Parse(std::string_view text);
  // The URL without its password, for logs.
  std::string Redacted() const;
};

}  // namespace inkwell::amqp
