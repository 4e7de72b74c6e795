#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "amqp/connection.h"
#include "amqp/message.h"
#include "core/error.h"

namespace inkwell::amqp {

struct OutgoingMessage {
  std::string exchange;
  std::string routing_key;
  Message message;  // message_id must be unique within one batch: returns are matched by it
};

enum class PublishOutcome {
  kConfirmed,  // the broker acked it and routed it to at least one queue: it is the broker's now
  kNacked,     // the broker refused it (basic.nack)
  kReturned,   // no queue is bound for it (mandatory publish came back)
  kUnsettled,  // no confirm arrived (timeout, or the connection broke): state unknown
};

struct PublishReport {
  std::vector<PublishOutcome> outcomes;  // one per message, in order
  std::optional<core::Error> error;      // set when the connection broke or confirms timed out
};

// Publishes a batch with publisher confirms streamed, not one by one: up to `window` messages
// are outstanding at a time, and every message is persistent and mandatory. Waits up to
// confirm_timeout after the last publish for the remaining confirms. The connection must be in
// confirm mode and must not be consuming. Only kConfirmed messages may be forgotten by the
// caller; every other outcome must be published again later.
PublishReport PublishConfirmed(Connection& connection, std::vector<OutgoingMessage>& batch,
                               std::size_t window, std::chrono::milliseconds confirm_timeout);

}  // namespace inkwell::amqp
