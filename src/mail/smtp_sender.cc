#include "mail/smtp_sender.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <unistd.h>

#include "mail/mime_encoding.h"
#include "mail/smtp_connection.h"

namespace inkwell::mail {
namespace {

using Clock = std::chrono::steady_clock;

// What the server's EHLO reply offers, of what we use.
struct Extensions {
  bool pipelining = false;
  bool starttls = false;
  std::vector<std::string> auth;  // mechanism names, upper case
};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Extensions ExtensionsOf(const SmtpReply& ehlo) {
  Extensions offered;
  for (size_t i = 1; i < ehlo.lines.size(); ++i) {  // line 0 is the server's greeting text
    const std::string line = Upper(ehlo.lines[i]);
    const std::string_view keyword = std::string_view(line).substr(0, line.find(' '));
    if (keyword == "PIPELINING") offered.pipelining = true;
    if (keyword == "STARTTLS") offered.starttls = true;
    if (keyword == "AUTH") {
      size_t at = keyword.size();
      while (at < line.size()) {
        const size_t start = line.find_first_not_of(' ', at);
        if (start == std::string::npos) break;
        const size_t end = std::min(line.find(' ', start), line.size());
        offered.auth.push_back(line.substr(start, end - start));
        at = end;
      }
    }
  }
  return offered;
}

bool Offers(const Extensions& offered, std::string_view mechanism) {
  return std::find(offered.auth.begin(), offered.auth.end(), mechanism) != offered.auth.end();
}

// The name we give in EHLO: this host's name when it is a plausible domain, else "localhost".
std::string HeloName() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  const std::string_view text(name.data());
  const bool is_plain = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
  return is_plain ? std::string(text) : "localhost";
}

// A command written and waiting for its reply, and what the reply decides.
struct Awaited {
  enum class Kind { kMail, kRcpt, kData, kEnd, kRset } kind;
  size_t index = 0;  // the message it belongs to (not for kRset)
};

struct Command {
  std::string text;
  Awaited awaited;
};

std::string_view StepName(Awaited::Kind kind) {
  switch (kind) {
    case Awaited::Kind::kMail: return "MAIL FROM";
    case Awaited::Kind::kRcpt: return "RCPT TO";
    case Awaited::Kind::kData: return "DATA";
    case Awaited::Kind::kEnd: return "end of data";
    case Awaited::Kind::kRset: return "RSET";
  }
  return "?";
}

}  // namespace

struct SmtpSender::State {
  MailUrl url;
  std::chrono::seconds timeout;
  std::string label;  // scheme, host and port only: safe to put in error messages
  std::string helo_name = HeloName();
  std::optional<SmtpConnection> kept;  // open between messages
  bool can_pipeline = false;

  Clock::time_point Deadline() const { return Clock::now() + timeout; }

  core::Error Failure(core::ErrorCode code, std::string_view step, std::string_view detail) const {
    return core::Error{code, label + ": " + std::string(step) + ": " + std::string(detail)};
  }
  core::Error Unavailable(std::string_view step, const core::Error& error) const {
    return Failure(core::ErrorCode::kUnavailable, step, error.message);
  }

  // Writes line and reads its reply, for the session set-up's one-at-a-time commands.
  core::Result<SmtpReply> Command(SmtpConnection& connection, std::string_view step,
                                  const std::string& line) const {
    const auto deadline = Deadline();
    if (auto wrote = connection.Write(line, deadline); !wrote) {
      return tl::unexpected(Unavailable(step, wrote.error()));
    }
    auto reply = connection.ReadReply(deadline);
    if (!reply) return tl::unexpected(Unavailable(step, reply.error()));
    return reply;
  }

  // EHLO, or HELO for a server that does not know EHLO (no extensions then).
  core::Result<Extensions> Hello(SmtpConnection& connection) const {
    auto ehlo = Command(connection, "EHLO", "EHLO " + helo_name + "\r\n");
    if (!ehlo) return tl::unexpected(ehlo.error());
    if (ehlo->code == 250) return ExtensionsOf(*ehlo);
    if (ehlo->code < 500) {
      return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "EHLO", ehlo->Describe()));
    }
    auto helo = Command(connection, "HELO", "HELO " + helo_name + "\r\n");
    if (!helo) return tl::unexpected(helo.error());
    if (helo->code != 250) {
      return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "HELO", helo->Describe()));
    }
    return Extensions{};
  }

  // AUTH PLAIN, or LOGIN when that is all the server offers. Rejected credentials are the
  // operator's to fix, not the message's: kUnavailable, so mail waits for the fix.
  core::Result<void> Authenticate(SmtpConnection& connection, const Extensions& offered) const {
    auto expect = [&](core::Result<SmtpReply> reply, int code) -> core::Result<void> {
      if (!reply) return tl::unexpected(reply.error());
      if (reply->code == code) return {};
      return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "AUTH", reply->Describe()));
    };
    if (Offers(offered, "PLAIN")) {
      std::string credentials;
      credentials += '\0';
      credentials += url.user;
      credentials += '\0';
      credentials += url.password;
      return expect(Command(connection, "AUTH", "AUTH PLAIN " + EncodeBase64(credentials) + "\r\n"), 235);
    }
    if (Offers(offered, "LOGIN")) {
      if (auto step = expect(Command(connection, "AUTH", "AUTH LOGIN\r\n"), 334); !step) return step;
      if (auto step = expect(Command(connection, "AUTH", EncodeBase64(url.user) + "\r\n"), 334); !step) {
        return step;
      }
      return expect(Command(connection, "AUTH", EncodeBase64(url.password) + "\r\n"), 235);
    }
    std::string offered_list;
    for (const std::string& mechanism : offered.auth) offered_list += " " + mechanism;
    return tl::unexpected(Failure(
        core::ErrorCode::kUnavailable, "AUTH",
        "the server offers no mechanism we speak (PLAIN, LOGIN); it offers:" +
            (offered_list.empty() ? std::string(" none") : offered_list)));
  }

  // Connects and sets up the session: greeting, EHLO, STARTTLS, AUTH.
  core::Result<void> Open() {
    kept.reset();
    const auto deadline = Deadline();
    auto opened = SmtpConnection::Connect(url.host, url.port, deadline);
    if (!opened) return tl::unexpected(core::Error{core::ErrorCode::kUnavailable, label + ": " + opened.error().message});
    if (url.scheme == MailUrl::Scheme::kSmtps) {
      if (auto tls = opened->StartTls(url.host, deadline); !tls) {
        return tl::unexpected(Unavailable("TLS", tls.error()));
      }
    }
    auto greeting = opened->ReadReply(deadline);
    if (!greeting) return tl::unexpected(Unavailable("greeting", greeting.error()));
    if (greeting->code != 220) {
      return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "greeting", greeting->Describe()));
    }
    auto offered = Hello(*opened);
    if (!offered) return tl::unexpected(offered.error());
    if (url.scheme == MailUrl::Scheme::kSmtp && url.starttls != MailUrl::StartTls::kNone) {
      if (offered->starttls) {
        auto reply = Command(*opened, "STARTTLS", "STARTTLS\r\n");
        if (!reply) return tl::unexpected(reply.error());
        if (reply->code == 220) {
          if (auto tls = opened->StartTls(url.host, Deadline()); !tls) {
            return tl::unexpected(Unavailable("STARTTLS", tls.error()));
          }
          offered = Hello(*opened);  // RFC 3207: forget what was offered in clear
          if (!offered) return tl::unexpected(offered.error());
        } else if (url.starttls == MailUrl::StartTls::kRequired) {
          return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "STARTTLS", reply->Describe()));
        }  // starttls=optional and refused (454): go on in clear, as the URL allows
      } else if (url.starttls == MailUrl::StartTls::kRequired) {
        return tl::unexpected(Failure(core::ErrorCode::kUnavailable, "STARTTLS",
                                      "the server does not offer STARTTLS, and the mail URL "
                                      "says starttls=required"));
      }
    }
    if (!url.user.empty()) {
      if (auto authenticated = Authenticate(*opened, *offered); !authenticated) {
        return authenticated;
      }
    }
    kept = std::move(*opened);
    can_pipeline = offered->pipelining;
    return {};
  }
};

SmtpSender::SmtpSender(std::unique_ptr<State> state) : state_(std::move(state)) {}

SmtpSender::~SmtpSender() {
  if (!state_->kept) return;
  // Polite, not awaited: a server that is gone must not hold up shutdown.
  (void)state_->kept->Write("QUIT\r\n", Clock::now() + std::chrono::milliseconds(100));
}

core::Result<std::unique_ptr<SmtpSender>> SmtpSender::Create(const MailUrl& url,
                                                             std::chrono::seconds timeout) {
  if (url.scheme == MailUrl::Scheme::kMaildir) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "SmtpSender: not an smtp(s) URL");
  }
  auto state = std::make_unique<State>();
  state->url = url;
  state->timeout = std::max(timeout, std::chrono::seconds(1));
  state->label = url.scheme == MailUrl::Scheme::kSmtps ? "smtps://" : "smtp://";
  state->label += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  state->label += ":" + std::to_string(url.port);
  return std::unique_ptr<SmtpSender>(new SmtpSender(std::move(state)));
}

core::Result<void> SmtpSender::Send(const MimeMessage& message) {
  return std::move(SendAll(std::span<const MimeMessage>(&message, 1)).front());
}

std::vector<core::Result<void>> SmtpSender::SendAll(std::span<const MimeMessage> messages) {
  State& state = *state_;
  last_connects_ = 0;
  std::vector<std::optional<core::Result<void>>> results(messages.size());
  auto fail = [&](size_t index, core::Error error) {
    if (!results[index]) results[index] = tl::unexpected(std::move(error));
  };
  auto finish = [&](const core::Error& unanswered) {
    std::vector<core::Result<void>> out;
    out.reserve(results.size());
    for (auto& result : results) out.push_back(result ? std::move(*result) : tl::unexpected(unanswered));
    return out;
  };
  if (messages.empty()) return {};

  // Each exchange gets the whole timeout (content once sent is always given time to be
  // answered: cutting that short would report a mail the server accepts as failed, and send it
  // twice). No new transaction starts after four timeouts, so that a server that answers slowly
  // but just in time cannot hold a batch anywhere near the broker's consumer delivery timeout.
  const auto last_start = Clock::now() + 4 * state.timeout;
  // Everything that can fail or throw before a byte is sent, per message.
  std::vector<std::string> data(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    try {
      data[i] = DotStuffed(Serialize(messages[i]));
    } catch (const std::exception& exception) {
      fail(i, core::Error{core::ErrorCode::kInternal,
                          std::string("SmtpSender: encoding the message: ") + exception.what()});
    }
  }
  for (int attempt = 0;; ++attempt) {
    const bool is_reused = state.kept && !state.kept->IsStale();
    if (!is_reused) {
      ++last_connects_;
      if (auto opened = state.Open(); !opened) return finish(opened.error());
    }
    SmtpConnection& connection = *state.kept;
    size_t replies_read = 0;
    size_t next = 0;  // the next message whose envelope is still to be written
    std::deque<Command> queued;
    std::optional<core::Error> broken;

    auto queue_envelope = [&](size_t index) {
      const MimeMessage& message = messages[index];
      queued.push_back({"MAIL FROM:<" + EnvelopeAddress(message.from) + ">\r\n", {Awaited::Kind::kMail, index}});
      queued.push_back({"RCPT TO:<" + EnvelopeAddress(message.to) + ">\r\n", {Awaited::Kind::kRcpt, index}});
      queued.push_back({"DATA\r\n", {Awaited::Kind::kData, index}});
    };
    // After a failed transaction: RSET, and (without pipelining) nothing more of that message.
    auto abandon = [&](size_t index) {
      std::erase_if(queued, [&](const Command& command) {
        return command.awaited.index == index && command.awaited.kind != Awaited::Kind::kRset;
      });
      queued.push_front({"RSET\r\n", {Awaited::Kind::kRset, index}});
    };

    while (!broken && (next < messages.size() || !queued.empty())) {
      // One round: write a group of commands, then read every reply to it.
      while (next < messages.size() && results[next]) ++next;  // failed before sending
      if (queued.empty() || (state.can_pipeline && next < messages.size())) {
        if (next < messages.size() && Clock::now() < last_start) queue_envelope(next++);
      }
      if (queued.empty()) break;  // nothing in flight, and no time left to start another
      std::string out;
      std::vector<Awaited> awaited;
      // Without PIPELINING one command per round; with it, everything queued: the previous
      // message's data and this one's envelope, ending with DATA (RFC 2920 §3.1).
      do {
        out += queued.front().text;
        awaited.push_back(queued.front().awaited);
        queued.pop_front();
      } while (state.can_pipeline && !queued.empty());

      const auto deadline = state.Deadline();
      if (auto wrote = connection.Write(out, deadline); !wrote) {
        broken = state.Unavailable(StepName(awaited.front().kind), wrote.error());
        break;
      }
      for (const Awaited& expected : awaited) {
        auto reply = connection.ReadReply(deadline);
        if (!reply) {
          broken = state.Unavailable(StepName(expected.kind), reply.error());
          break;
        }
        if (reply->code == 421) {  // the server is closing the session: nothing more on it
          broken = state.Failure(core::ErrorCode::kUnavailable, StepName(expected.kind), reply->Describe());
          break;
        }
        ++replies_read;
        const size_t index = expected.index;
        const bool is_positive = reply->code >= 200 && reply->code < 300;
        auto reply_error = [&] {
          return state.Failure(reply->code >= 500 ? core::ErrorCode::kInvalidArgument
                                                  : core::ErrorCode::kUnavailable,
                               StepName(expected.kind), reply->Describe());
        };
        switch (expected.kind) {
          case Awaited::Kind::kMail:
          case Awaited::Kind::kRcpt:
            if (!is_positive) {
              fail(index, reply_error());
              if (!state.can_pipeline) abandon(index);
            }
            break;
          case Awaited::Kind::kData:
            if (reply->code == 354 && !results[index]) {
              queued.push_front({std::move(data[index]), {Awaited::Kind::kEnd, index}});
            } else if (reply->code == 354) {
              // The server takes data although it refused the envelope: end it empty, then RSET.
              abandon(index);
              queued.push_front({".\r\n", {Awaited::Kind::kEnd, index}});
            } else {
              fail(index, reply_error());
              abandon(index);
            }
            break;
          case Awaited::Kind::kEnd:
            if (is_positive) {
              if (!results[index]) results[index] = core::Result<void>{};
            } else {
              fail(index, reply_error());
            }
            break;
          case Awaited::Kind::kRset:
            break;
        }
      }
    }
    if (!broken) {
      return finish(core::Error{core::ErrorCode::kUnavailable,
                                state.label + ": not attempted: the batch ran past four SMTP timeouts"});
    }
    state.kept.reset();
    // A kept connection that was dead before it answered anything: nothing was accepted, so a
    // fresh connection may carry the whole batch again. Once only.
    if (is_reused && replies_read == 0 && attempt == 0) continue;
    return finish(*broken);
  }
}

}  // namespace inkwell::mail
