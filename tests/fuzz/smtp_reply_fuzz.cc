// Fuzz target: what an SMTP server sends us. The reply parser must take whole replies only (each
// ending in LF, with a code from 200 to 599), never read past its input, and refuse the rest with
// an error; dot-stuffing must leave no line that ends the data early.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mail/smtp_connection.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string_view rest = input;
  for (;;) {
    inkwell::mail::SmtpReply reply;
    const auto taken = inkwell::mail::ParseSmtpReply(rest, reply);
    if (!taken || *taken == 0) break;
    if (*taken > rest.size() || rest[*taken - 1] != '\n') std::abort();
    if (reply.code < 200 || reply.code > 599 || reply.lines.empty()) std::abort();
    rest.remove_prefix(*taken);
  }

  const std::string stuffed = inkwell::mail::DotStuffed(input);
  if (!stuffed.ends_with(".\r\n")) std::abort();
  // The only line that is a lone "." is the terminator.
  const std::size_t lone_dot = stuffed.find("\n.\r\n");
  if (lone_dot != std::string::npos && lone_dot != stuffed.size() - 4) std::abort();
  if (stuffed.starts_with(".\r\n") && stuffed.size() != 3) std::abort();
  return 0;
}
