#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "mail/mail_sender.h"
#include "mail/mail_url.h"

namespace inkwell::mail {

// Delivers over SMTP (RFC 5321) or SMTPS, keeping one connection open between messages; a
// connection the server has closed or is closing (idle timeout, 421) is replaced before the next
// transaction. When the server offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go out
// together, and SendAll sends a message's content together with the next message's envelope:
// one round trip per message instead of four. STARTTLS (RFC 3207) and TLS use OpenSSL and verify
// the server's certificate and name; AUTH is PLAIN or LOGIN (RFC 4954).
// NOT thread-safe: one SmtpSender per worker thread; it may be moved between threads while no
// Send runs.
class SmtpSender final : public MailSender {
 public:
  // url must be smtp:// or smtps://. timeout bounds each exchange with the server: the connect
  // and session set-up, and each group of commands with its replies. SendAll starts no new
  // transaction once four times timeout have passed since it began (the messages not started
  // fail with kUnavailable, "not attempted"); one already started keeps its full timeout, so
  // that a mail whose content went out is not reported failed while the server accepts it. STARTTLS follows
  // url.starttls (smtps is TLS throughout); AUTH is used when url.user is set (plain smtp://
  // without STARTTLS sends the password in clear). Fails with kInvalidArgument for a maildir URL.
  // Connects lazily, on the first Send.
  static core::Result<std::unique_ptr<SmtpSender>> Create(const MailUrl& url,
                                                          std::chrono::seconds timeout);

  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;
  ~SmtpSender() override;  // sends QUIT (without waiting for the reply) and closes

  // Sends MAIL FROM EnvelopeAddress(message.from), RCPT TO EnvelopeAddress(message.to) and
  // DATA Serialize(message) (dot-stuffed). Success means the server answered 2xx to the end of
  // the data. Fails with kUnavailable on a connection failure, timeout, TLS failure, rejected
  // credentials or a 4xx reply, and with kInvalidArgument on a 5xx reply to the message; the
  // message names the server, the command and the reply ("smtp://host:25: RCPT TO: SMTP 550
  // 5.1.1 no such user").
  core::Result<void> Send(const MimeMessage& message) override;
  // Sends every message over one connection, pipelined when the server allows it; one result per
  // message, in order. A connection lost midway fails the messages not yet answered with
  // kUnavailable (their fate is unknown to us, so a retry may deliver one twice). A reused
  // connection that turns out dead before its first reply is replaced and the batch sent again.
  std::vector<core::Result<void>> SendAll(std::span<const MimeMessage> messages) override;

  // Connections opened by the last Send or SendAll: 0 when it reused the open one. For tests.
  int64_t last_connects() const { return last_connects_; }

 private:
  struct State;  // the URL, the connection and what the server offers; in smtp_sender.cc
  explicit SmtpSender(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
  int64_t last_connects_ = 0;
};

}  // namespace inkwell::mail
