#include "http/form.h"

#include <cctype>

#include "core/percent_decode.h"

namespace inkwell::http {
core::Result<std::string> UrlDecode(std::string_view text) {
  auto decoded = core::PercentDecode(text, /*plus_is_space=*/true);
  if (!decoded) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "malformed %-escape in form data");
  }
  return std::move(*decoded);
}

core::Result<std::map<std::string, std::string>> ParseForm(std::string_view text) {
  std::map<std::string, std::string> fields;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto name = UrlDecode(pair.substr(0, equals));
    if (!name) return tl::unexpected(name.error());
    auto value = UrlDecode(equals == std::string_view::npos ? std::string_view()
                                                             : pair.substr(equals + 1));
    if (!value) return tl::unexpected(value.error());
    fields.emplace(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace inkwell::http
