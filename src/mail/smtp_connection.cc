#include "mail/smtp_connection.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/c_handle.h"
#include "mail/resolve.h"

namespace inkwell::mail {
namespace {

constexpr size_t kMaxReplyBytes = 64 * 1024;

core::Error Unavailable(std::string text) {
  return core::Error{core::ErrorCode::kUnavailable, std::move(text)};
}

std::string SystemError(std::string_view what, int error_number) {
  return std::string(what) + ": " + std::strerror(error_number);
}

// Milliseconds left until deadline, for poll(): 0 once it has passed.
int MillisecondsUntil(SmtpConnection::Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 24 * 3600 * 1000));
}

// Waits until fd is ready for events; false when the deadline passed first.
core::Result<void> WaitFor(int fd, short events, SmtpConnection::Deadline deadline) {
  for (;;) {
    pollfd poll_fd{fd, events, 0};
    const int ready = ::poll(&poll_fd, 1, MillisecondsUntil(deadline));
    if (ready > 0) return {};
    if (ready == 0) return tl::unexpected(Unavailable("timed out waiting for the server"));
    if (errno != EINTR) return tl::unexpected(Unavailable(SystemError("poll", errno)));
  }
}

// OpenSSL's error queue as one line (and emptied, so the next call starts clean).
std::string TlsErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    if (!text.empty()) text += "; ";
    text += buffer.data();
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

bool IsIpLiteral(const std::string& host) {
  in6_addr ignored{};
  return ::inet_pton(AF_INET, host.c_str(), &ignored) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &ignored) == 1;
}

using SslContext = core::CHandle<SSL_CTX, SSL_CTX_free>;
using Ssl = core::CHandle<SSL, SSL_free>;

}  // namespace

std::string DotStuffed(std::string_view message) {
  std::string data;
  data.reserve(message.size() + message.size() / 64 + 8);
  // A line at a time (memchr finds the ends): a line that starts with '.' gets another.
  for (size_t at = 0; at < message.size();) {
    if (message[at] == '.') data += '.';
    const size_t end = message.find('\n', at);
    const size_t next = end == std::string_view::npos ? message.size() : end + 1;
    data.append(message.substr(at, next - at));
    at = next;
  }
  if (!data.empty() && !data.ends_with("\r\n")) data += "\r\n";
  data += ".\r\n";
  return data;
}

std::string SmtpReply::Describe() const {
  std::string text = "SMTP " + std::to_string(code);
  for (size_t i = 0; i < lines.size(); ++i) text += (i == 0 ? " " : "; ") + lines[i];
  return text;
}

core::Result<size_t> ParseSmtpReply(std::string_view buffer, SmtpReply& reply) {
  reply = SmtpReply{};
  size_t at = 0;
  for (;;) {
    const size_t end = buffer.find('\n', at);
    if (end == std::string_view::npos) {
      if (buffer.size() > kMaxReplyBytes) {
        return tl::unexpected(Unavailable("the server's reply is longer than 64 KiB"));
      }
      return 0;
    }
    std::string_view line = buffer.substr(at, end - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const bool has_code = line.size() >= 3 && std::all_of(line.begin(), line.begin() + 3, [](char c) {
      return c >= '0' && c <= '9';
    });
    const char separator = line.size() > 3 ? line[3] : ' ';
    if (!has_code || line[0] < '2' || line[0] > '5' || (separator != ' ' && separator != '-')) {
      std::string shown(line.substr(0, 80));
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      }
      return tl::unexpected(Unavailable("not an SMTP reply: '" + shown + "'"));
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (reply.code != 0 && code != reply.code) {
      return tl::unexpected(Unavailable("an SMTP reply whose lines carry different codes (" +
                                        std::to_string(reply.code) + ", " + std::to_string(code) + ")"));
    }
    reply.code = code;
    reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    at = end + 1;
    if (separator == ' ') return at;
    if (at > kMaxReplyBytes) return tl::unexpected(Unavailable("the server's reply is longer than 64 KiB"));
  }
}

struct SmtpConnection::Impl {
  int fd = -1;
  SslContext context;
  Ssl ssl;
  std::string input;  // received and not yet parsed

  ~Impl() {
    ssl.reset();  // before the socket it writes to
    if (fd >= 0) ::close(fd);
  }

  // Moves received bytes into input; error on EOF, a reset or the deadline. Called when a reply
  // is awaited and not yet in `input`, which is nearly always just after our commands went out:
  // on a plain socket it waits first instead of trying a read that would find nothing.
  core::Result<void> Receive(Deadline deadline) {
    std::array<char, 16 * 1024> buffer;
    if (!ssl) {
      if (auto ready = WaitFor(fd, POLLIN, deadline); !ready) return ready;
    }
    for (;;) {
      if (ssl) {
        ERR_clear_error();
        errno = 0;
        const int got = SSL_read(ssl.get(), buffer.data(), static_cast<int>(buffer.size()));
        if (got > 0) {
          input.append(buffer.data(), static_cast<size_t>(got));
          return {};
        }
        const int error = SSL_get_error(ssl.get(), got);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
          auto ready = WaitFor(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
          if (!ready) return ready;
          continue;
        }
        if (error == SSL_ERROR_ZERO_RETURN) return tl::unexpected(Unavailable("the server closed the connection"));
        if (error == SSL_ERROR_SYSCALL && errno != 0) return tl::unexpected(Unavailable(SystemError("read", errno)));
        if (error == SSL_ERROR_SYSCALL) return tl::unexpected(Unavailable("the server closed the connection"));
        return tl::unexpected(Unavailable("TLS read: " + TlsErrors()));
      }
      const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (got > 0) {
        input.append(buffer.data(), static_cast<size_t>(got));
        return {};
      }
      if (got == 0) return tl::unexpected(Unavailable("the server closed the connection"));
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return tl::unexpected(Unavailable(SystemError("read", errno)));
      if (auto ready = WaitFor(fd, POLLIN, deadline); !ready) return ready;
    }
  }
};

SmtpConnection::SmtpConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmtpConnection::SmtpConnection(SmtpConnection&&) noexcept = default;
SmtpConnection& SmtpConnection::operator=(SmtpConnection&&) noexcept = default;
SmtpConnection::~SmtpConnection() = default;

core::Result<SmtpConnection> SmtpConnection::Connect(const std::string& host, uint16_t port,
                                                     Deadline deadline) {
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                            std::to_string(port);
  auto resolved = ResolveWithin(host, port, deadline);
  if (!resolved) return tl::unexpected(resolved.error());
  const AddressList addresses = std::move(*resolved);
  int addresses_left = 0;
  for (const addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    ++addresses_left;
  }
  std::string last_error = "connect: no address for " + where;
  for (const addrinfo* address = addresses.get(); address != nullptr;
       address = address->ai_next, --addresses_left) {
    // Each address gets its share of the time left, so a blackholed first address (an IPv6
    // route that drops packets) leaves time for the next.
    const Deadline attempt_deadline =
        std::chrono::steady_clock::now() + (deadline - std::chrono::steady_clock::now()) / addresses_left;
    auto impl = std::make_unique<Impl>();
    impl->fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        address->ai_protocol);
    if (impl->fd < 0) {
      last_error = SystemError("socket", errno);
      continue;
    }
    if (::connect(impl->fd, address->ai_addr, address->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = SystemError("connect", errno);
        continue;
      }
      if (auto ready = WaitFor(impl->fd, POLLOUT, attempt_deadline); !ready) {
        last_error = "connect: " + ready.error().message;
        continue;
      }
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(impl->fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        last_error = SystemError("connect", error);
        continue;
      }
    }
    // Commands and replies are small and each waits for the other: no Nagle delay.
    const int on = 1;
    ::setsockopt(impl->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return SmtpConnection(std::move(impl));
  }
  return tl::unexpected(Unavailable(last_error));
}

core::Result<void> SmtpConnection::StartTls(const std::string& host, Deadline deadline) {
  impl_->input.clear();
  ERR_clear_error();
  impl_->context.reset(SSL_CTX_new(TLS_client_method()));
  if (!impl_->context) return tl::unexpected(Unavailable("TLS: SSL_CTX_new: " + TlsErrors()));
  SSL_CTX* context = impl_->context.get();
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(context) != 1) {
    return tl::unexpected(Unavailable("TLS: loading the trusted certificates: " + TlsErrors()));
  }
  SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  impl_->ssl.reset(SSL_new(context));
  SSL* ssl = impl_->ssl.get();
  if (ssl == nullptr || SSL_set_fd(ssl, impl_->fd) != 1) {
    return tl::unexpected(Unavailable("TLS: SSL_new: " + TlsErrors()));
  }
  if (IsIpLiteral(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int status = SSL_connect(ssl);
    if (status == 1) return {};
    const int error = SSL_get_error(ssl, status);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (auto ready = WaitFor(impl_->fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
          !ready) {
        return tl::unexpected(Unavailable("TLS handshake: " + ready.error().message));
      }
      continue;
    }
    std::string detail;
    if (const long verified = SSL_get_verify_result(ssl); verified != X509_V_OK) {
      detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified);
    } else if (error == SSL_ERROR_SYSCALL) {
      detail = errno != 0 ? std::strerror(errno) : "the server closed the connection";
    } else {
      detail = TlsErrors();
    }
    impl_->ssl.reset();
    return tl::unexpected(Unavailable("TLS handshake with " + host + ": " + detail));
  }
}

bool SmtpConnection::is_tls() const { return impl_->ssl != nullptr; }

core::Result<void> SmtpConnection::Write(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    if (impl_->ssl) {
      ERR_clear_error();
      errno = 0;
      const int chunk = static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30));
      const int wrote = SSL_write(impl_->ssl.get(), bytes.data(), chunk);
      if (wrote > 0) {
        bytes.remove_prefix(static_cast<size_t>(wrote));
        continue;
      }
      const int error = SSL_get_error(impl_->ssl.get(), wrote);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        if (auto ready = WaitFor(impl_->fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            !ready) {
          return ready;
        }
        continue;
      }
      if (error == SSL_ERROR_SYSCALL && errno != 0) return tl::unexpected(Unavailable(SystemError("write", errno)));
      return tl::unexpected(Unavailable("TLS write: " + TlsErrors()));
    }
    const ssize_t wrote = ::send(impl_->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (wrote >= 0) {
      bytes.remove_prefix(static_cast<size_t>(wrote));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return tl::unexpected(Unavailable(SystemError("write", errno)));
    if (auto ready = WaitFor(impl_->fd, POLLOUT, deadline); !ready) return ready;
  }
  return {};
}

core::Result<SmtpReply> SmtpConnection::ReadReply(Deadline deadline) {
  SmtpReply reply;
  for (;;) {
    auto taken = ParseSmtpReply(impl_->input, reply);
    if (!taken) return tl::unexpected(taken.error());
    if (*taken > 0) {
      impl_->input.erase(0, *taken);
      return reply;
    }
    if (auto received = impl_->Receive(deadline); !received) return tl::unexpected(received.error());
  }
}

bool SmtpConnection::IsStale() {
  if (!impl_->input.empty()) return true;
  pollfd poll_fd{impl_->fd, POLLIN, 0};
  if (::poll(&poll_fd, 1, 0) == 0) return impl_->ssl && SSL_pending(impl_->ssl.get()) > 0;
  if (!impl_->ssl || (poll_fd.revents & (POLLHUP | POLLERR)) != 0) return true;
  // Under TLS a readable socket may carry only protocol records (a TLS 1.3 session ticket):
  // OpenSSL consumes those and wants more, which leaves the connection usable.
  ERR_clear_error();
  char byte = 0;
  const int peeked = SSL_peek(impl_->ssl.get(), &byte, 1);
  return peeked > 0 || SSL_get_error(impl_->ssl.get(), peeked) != SSL_ERROR_WANT_READ;
}

}  // namespace inkwell::mail
