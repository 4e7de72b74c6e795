#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "mail/mail_sender.h"
#include "mail/mail_url.h"

namespace inkwell::mail {

// Delivers over SMTP or SMTPS with libcurl, keeping one connection open between messages (curl
// reconnects by itself when the server has closed it). NOT thread-safe: one SmtpSender per
// worker thread; it may be moved between threads while no Send runs.
class SmtpSender final : public MailSender {
 public:
  // url must be smtp:// or smtps://. timeout bounds the connect and, separately, each whole Send.
  // STARTTLS follows url.starttls (smtps is TLS throughout); AUTH is used when url.user is set
  // (plain smtp:// without STARTTLS sends the password in clear). Fails with kInvalidArgument for
  // a maildir URL, kInternal if libcurl cannot be initialised. Connects lazily, on the first Send.
  static core::Result<std::unique_ptr<SmtpSender>> Create(const MailUrl& url,
                                                          std::chrono::seconds timeout);

  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;
  ~SmtpSender() override;

  // Sends MAIL FROM EnvelopeAddress(message.from), RCPT TO EnvelopeAddress(message.to) and
  // DATA Serialize(message). Success means the server answered 250 to DATA. Fails with
  // kUnavailable on a connection failure, timeout, rejected credentials or a 4xx reply, and with
  // kInvalidArgument on a 5xx reply; the message names the curl call, the SMTP reply code and
  // curl's error text.
  core::Result<void> Send(const MimeMessage& message) override;

  // Connections opened by the last Send: 0 when it reused the open one. For tests and metrics.
  int64_t last_connects() const { return last_connects_; }

 private:
  struct State;  // the curl handle and its buffers; defined in smtp_sender.cc
  explicit SmtpSender(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
  int64_t last_connects_ = 0;
};

}  // namespace inkwell::mail
