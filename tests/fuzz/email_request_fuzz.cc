// Fuzz target: any bytes as an `email` queue message body. Parsing must never crash, and what
// it accepts must survive an encode/parse round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "contracts/email_address.h"
#include "contracts/email_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)inkwell::contracts::EmailAddress::Parse(body);
  auto request = inkwell::contracts::ParseEmailRequest(body);
  if (!request) return 0;
  auto again = inkwell::contracts::ParseEmailRequest(inkwell::contracts::EncodeEmailRequest(*request));
  if (!again || again->to != request->to || again->template_name != request->template_name ||
      again->data != request->data || again->subject != request->subject ||
      again->text != request->text || again->html != request->html) {
    std::abort();
  }
  return 0;
}
