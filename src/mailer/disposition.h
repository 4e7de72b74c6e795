#pragma once

#include <string>

#include "core/error.h"

namespace inkwell::mailer {

enum class Action {
  kAck,         // done (sent, or a duplicate of a sent one)
  kRetryLater,  // transient failure: to a delayed-retry queue, then back to `email`
  kDeadLetter,  // will never succeed: to `email.dead` with the reason
};

// The reason of a kAck for a message whose message_id the delivery log already holds.
inline constexpr char kDuplicateReason[] = "duplicate";

struct Disposition {
  Disposition() = default;
  Disposition(Action action_taken, std::string why, std::string message_id_to_record = {})
      : action(action_taken), reason(std::move(why)), record_before_ack(std::move(message_id_to_record)) {}

  Action action = Action::kAck;
  std::string reason;  // why, for logs and the dead-letter header; empty for a plain ack
  // Set when a message was sent: its message_id, which the caller must make durable in the
  // delivery log before the ack (so a redelivery is recognised and not sent again).
  std::string record_before_ack;
};

// Maps the outcome of handling one message, once: success → ack, kUnavailable → retry later,
// anything else → dead-letter with the error's message as the reason.
Disposition DispositionFor(const core::Result<void>& outcome);

}  // namespace inkwell::mailer
