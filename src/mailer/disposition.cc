#include "mailer/disposition.h"

namespace inkwell::mailer {

Disposition DispositionFor(const core::Result<void>& outcome) {
  if (outcome) return Disposition{Action::kAck, ""};
  switch (outcome.error().code) {
    case core::ErrorCode::kUnavailable: return Disposition{Action::kRetryLater, outcome.error().message};
    case core::ErrorCode::kInvalidArgument:
    case core::ErrorCode::kNotFound:
    case core::ErrorCode::kConflict:
    case core::ErrorCode::kInternal: break;
  }
  return Disposition{Action::kDeadLetter, outcome.error().message};
}

}  // namespace inkwell::mailer
