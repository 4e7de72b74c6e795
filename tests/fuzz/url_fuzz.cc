// Fuzz target: configuration URLs and form data. Parsers must never crash; a decoded form must
// re-encode to something that decodes to the same fields.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "amqp/broker_url.h"
#include "http/form.h"
#include "mail/mail_url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)inkwell::amqp::BrokerUrl::Parse(text);
  (void)inkwell::mail::ParseMailUrl(text);
  auto fields = inkwell::http::ParseForm(text);
  if (!fields) return 0;
  std::string encoded;
  for (const auto& [name, value] : *fields) {
    if (!encoded.empty()) encoded += '&';
    encoded += inkwell::http::UrlEncode(name) + "=" + inkwell::http::UrlEncode(value);
  }
  auto again = inkwell::http::ParseForm(encoded);
  if (!again || *again != *fields) std::abort();
  return 0;
}
