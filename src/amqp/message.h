#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace inkwell::amqp {

// One AMQP message: the properties we use and the body. Headers are string-valued; integer
// headers from other clients are read as their decimal text.
struct Message {
  std::string message_id;
  std::string type;
  std::string app_id;
  std::string content_type = "application/json";
  std::int64_t timestamp = 0;  // seconds since the epoch; 0 = not set
  bool is_persistent = true;   // delivery_mode 2
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of a header, or empty.
  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

// A message the broker delivered to our consumer; settle it with Connection::Ack / Reject.
struct Delivery {
  std::uint64_t delivery_tag = 0;
  bool is_redelivered = false;
  std::string exchange;
  std::string routing_key;
  Message message;
};

// The broker's publisher confirm for one publish sequence number (or all up to it).
struct Confirm {
  std::uint64_t delivery_tag = 0;
  bool is_multiple = false;
  bool is_ack = true;  // false: basic.nack, the broker could not take the message
};

// A mandatory message the broker could not route to any queue (basic.return). The confirm for
// it follows; the message was nevertheless not delivered anywhere.
struct Returned {
  std::uint16_t reply_code = 0;
  std::string reply_text;
  std::string exchange;
  std::string routing_key;
  Message message;
};

using Event = std::variant<Delivery, Confirm, Returned>;

}  // namespace inkwell::amqp
