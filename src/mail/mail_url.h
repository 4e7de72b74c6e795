#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::mail {

// Where mail goes, parsed from INKWELL_MAIL_URL.
struct MailUrl {
  enum class Scheme { kMaildir, kSmtp, kSmtps };
  enum class StartTls { kNone, kOptional, kRequired };

  Scheme scheme = Scheme::kMaildir;
  std::filesystem::path maildir;        // kMaildir only: as written, relative or absolute
  std::string host;                     // smtp/smtps: name or IP address, IPv6 without brackets
  uint16_t port = 0;                    // smtp/smtps: 25 and 465 unless given
  std::string user;                     // percent-decoded; empty means no AUTH
  std::string password;                 // percent-decoded
  StartTls starttls = StartTls::kNone;  // kSmtp only; smtps is TLS from the first byte
};

// Parses one of
//   maildir:PATH                      (PATH relative or absolute; maildir://PATH means the same)
//   smtp://[user[:password]@]host[:port][/][?starttls=required|optional]
//   smtps://[user[:password]@]host[:port][/]
// user and password are percent-decoded; an IPv6 host is written in brackets.
// Fails with kInvalidArgument and a message that names the part that is wrong and never
// contains the password, e.g. "INKWELL_MAIL_URL: unknown scheme 'ftp', expected maildir:,
// smtp:// or smtps://".
core::Result<MailUrl> ParseMailUrl(std::string_view url);

}  // namespace inkwell::mail
