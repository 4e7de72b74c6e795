#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace inkwell::mail {

// One reply from an SMTP server (RFC 5321 §4.2): the three-digit code and the text of each line
// after it (an EHLO reply's lines are the server's extensions).
struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;

  // "SMTP 451 4.3.0 try again": the form error messages use (the mailer counts replies by it);
  // the lines of a multi-line reply are joined by "; ".
  std::string Describe() const;
};

// Splits one reply off the front of buffer. Returns the number of bytes it took, 0 when buffer
// does not yet hold a complete reply, or an error (kUnavailable: the server is not speaking SMTP)
// for a malformed line or a reply longer than 64 KiB.
core::Result<size_t> ParseSmtpReply(std::string_view buffer, SmtpReply& reply);

// DATA's payload for an RFC 5322 message with CRLF line endings: every line that starts with
// "." gets a second one (RFC 5321 §4.5.2), the text ends in CRLF, then comes the lone ".".
std::string DotStuffed(std::string_view message);

// A TCP connection to a mail server, in clear or TLS (OpenSSL, certificate and host name
// verified against the system's trust store, or SSL_CERT_FILE / SSL_CERT_DIR when set), where
// every operation is bounded by a deadline. Errors are kUnavailable and say what failed:
// "connect 127.0.0.1:25: Connection refused", "TLS handshake: certificate verify failed ...",
// "timed out waiting for the server", "the server closed the connection".
// Under TLS, OpenSSL writes with write(2): a server that has gone raises SIGPIPE, which the
// process must ignore (inkwell-mailer does). The name lookup is getaddrinfo's, bounded by the
// resolver's own timeouts rather than the deadline. NOT thread-safe; movable.
class SmtpConnection {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  static core::Result<SmtpConnection> Connect(const std::string& host, uint16_t port,
                                              Deadline deadline);

  SmtpConnection(SmtpConnection&&) noexcept;
  SmtpConnection& operator=(SmtpConnection&&) noexcept;
  ~SmtpConnection();

  // Starts TLS on the connection (right after connecting for smtps, after STARTTLS's 220 for
  // smtp), verifying that the certificate names host. Input read before the handshake is dropped
  // (RFC 3207 §4: nothing the server sent in clear may be trusted afterwards).
  core::Result<void> StartTls(const std::string& host, Deadline deadline);
  bool is_tls() const;

  core::Result<void> Write(std::string_view bytes, Deadline deadline);
  // The next reply, reading as much as it needs.
  core::Result<SmtpReply> ReadReply(Deadline deadline);
  // True when the server has sent something nobody asked for, or closed the connection (an idle
  // timeout, a 421 shutdown notice): the connection must not be used for another transaction.
  bool IsStale();

 private:
  struct Impl;  // the socket, OpenSSL's objects and the read buffer; in smtp_connection.cc
  explicit SmtpConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkwell::mail
