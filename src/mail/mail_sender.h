#pragma once

#include <chrono>
#include <memory>

#include "core/error.h"
#include "mail/mail_url.h"
#include "mail/mime_message.h"

namespace inkwell::mail {

// Delivers one rendered e-mail. Implementations: SmtpSender, MaildirSender,
// FakeMailSender (tests). Thread-safety is stated by each implementation: MaildirSender may be
// shared between worker threads; SmtpSender holds one SMTP connection and must not be, so each
// worker owns its own sender.
class MailSender {
 public:
  virtual ~MailSender() = default;
  // Returns once the message is durable on the far side: an SMTP 250 reply, or
  // the maildir file fsynced. Fails with kUnavailable on a lost connection or a
  // 4xx reply (try again later), kInvalidArgument on a 5xx reply (never will).
  virtual core::Result<void> Send(const MimeMessage& message) = 0;
};

// Makes the sender that url names: a MaildirSender (creating the maildir's folders) or an
// SmtpSender whose connect and whole-send timeouts are timeout. Fails with kUnavailable if the
// maildir cannot be created, kInternal if libcurl cannot be initialised. One call per worker
// thread for SMTP; the caller owns the result.
core::Result<std::unique_ptr<MailSender>> MakeMailSender(const MailUrl& url,
                                                         std::chrono::seconds timeout);

}  // namespace inkwell::mail
