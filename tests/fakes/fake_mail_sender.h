#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "mail/mail_sender.h"
#include "mail/mime_message.h"

namespace inkwell::fakes {

// A MailSender that records what it is asked to send instead of sending it. FailNextWith makes
// the next Send fail (and record nothing). Thread-safe.
class FakeMailSender final : public mail::MailSender {
 public:
  core::Result<void> Send(const mail::MimeMessage& message) override {
    std::lock_guard lock(mutex_);
    ++attempts_;
    if (next_failure_) {
      const core::ErrorCode code = *next_failure_;
      next_failure_.reset();
      return core::Fail(code, "fake send failure");
    }
    sent_.push_back(message);
    return {};
  }

  void FailNextWith(core::ErrorCode code) {
    std::lock_guard lock(mutex_);
    next_failure_ = code;
  }
  std::vector<mail::MimeMessage> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  int attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<mail::MimeMessage> sent_;
  std::optional<core::ErrorCode> next_failure_;
  int attempts_ = 0;
};

}  // namespace inkwell::fakes
