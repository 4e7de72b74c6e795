// Fuzz target: MIME serialisation of hostile field values. Whatever the input, the header block
// must hold exactly our headers (no injected one), and every line must end in CRLF.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mail/mime_message.h"

namespace {

std::string_view Take(std::string_view& input) {
  const std::size_t cut = input.find('\x01');
  const std::string_view part = input.substr(0, cut);
  input = cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  inkwell::mail::MimeMessage message;
  message.from = std::string(Take(input));
  message.to = std::string(Take(input));
  message.subject = std::string(Take(input));
  message.text = std::string(Take(input));
  message.html = std::string(Take(input));
  message.message_id = std::string(Take(input));
  const std::string wire = inkwell::mail::Serialize(message);
  const std::size_t end_of_headers = wire.find("\r\n\r\n");
  if (end_of_headers == std::string::npos) std::abort();
  int header_count = 0;
  for (std::size_t at = 0; at < wire.size();) {
    const std::size_t line_end = wire.find('\n', at);
    if (line_end == std::string::npos || line_end == 0 || wire[line_end - 1] != '\r') std::abort();
    if (at < end_of_headers && wire[at] != ' ' && wire[at] != '\t') ++header_count;
    at = line_end + 1;
  }
  // Date, From, To, Subject, Message-ID, MIME-Version, Content-Type (+ Content-Transfer-Encoding
  // for a single part): a header line more than that was injected.
  if (header_count > 8) std::abort();
  return 0;
}
