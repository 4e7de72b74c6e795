#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <vector>

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
  // Sends several messages, each with Send's meaning, and returns one result per message in
  // order. SmtpSender pipelines them over its connection (RFC 2920); this default sends one
  // after another.
  virtual std::vector<core::Result<void>> SendAll(std::span<const MimeMessage> messages);
};

// Makes the sender that url names: a MaildirSender (creating the maildir's folders) or an
// SmtpSender that waits at most timeout for each exchange with the server. Fails with
// kUnavailable if the maildir cannot be created. One call per worker
// thread for SMTP; the caller owns the result.
core::Result<std::unique_ptr<MailSender>> MakeMailSender(const MailUrl& url,
                                                         std::chrono::seconds timeout);

}  // namespace inkwell::mail
