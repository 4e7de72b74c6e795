#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "amqp/connection.h"
#include "amqp/message.h"
#include "core/error.h"

namespace inkwell::cli {

// One message in email.dead, as an operator sees it.
struct DeadLetter {
  std::string message_id;
  std::string reason;     // x-inkwell-reason, or the broker's x-death reason
  std::string failed_at;  // x-inkwell-failed-at
  std::string attempts;   // x-inkwell-attempts
  amqp::Message message;
};

// Reads dead letters without removing them: each is fetched unacked and returned to the queue
// when the connection closes. Up to `limit`.
core::Result<std::vector<DeadLetter>> BrowseDeadLetters(amqp::Connection& connection,
                                                        std::size_t limit);

// Publishes dead letters back to exchange `email` (key `send`) with our failure headers removed,
// and removes each from email.dead once the broker confirmed its copy. Replays the one with
// message_id, or all when message_id is empty. Returns how many were replayed; kNotFound if
// message_id names none. The connection must be fresh (confirm mode is switched on).
core::Result<std::size_t> ReplayDeadLetters(amqp::Connection& connection,
                                            const std::string& message_id);

// The copy that ReplayDeadLetters publishes: same id, type and body; headers without our
// verdict (x-inkwell-*) and the broker's dead-letter bookkeeping (x-death...).
amqp::Message ForReplay(const amqp::Message& dead);

}  // namespace inkwell::cli
