#pragma once

#include <string>

#include "core/error.h"

namespace inkwell::mailer {

enum class Action {
  kAck,         // done (sent, or a duplicate of a sent one)
  kRetryLater,  // transient failure: to a delayed-retry queue, then back to `email`
  kDeadLetter,  // will never succeed: to `email.dead` with the reason
};

struct Disposition {
  Action action = Action::kAck;
  std::string reason;  // why, for logs and the dead-letter header; empty for a plain ack
};

// Maps the outcome of handling one message, once: success → ack, kUnavailable → retry later,
// anything else → dead-letter with the error's message as the reason.
Disposition DispositionFor(const core::Result<void>& outcome);

}  // namespace inkwell::mailer
