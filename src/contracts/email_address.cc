#include "contracts/email_address.h"

#include <algorithm>
#include <cctype>

#include "core/utf8.h"

namespace inkwell::contracts {
namespace {

bool IsAllowedInLocalPart(unsigned char c) {
  if (c >= 0x80) return true;  // internationalised addresses (RFC 6531), already UTF-8-checked
  if (std::isalnum(c) != 0) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool IsValidDomainLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x80 || std::isalnum(c) != 0 || c == '-';
  });
}

}  // namespace

core::Result<EmailAddress> EmailAddress::Parse(std::string_view text) {
  using core::ErrorCode;
  if (text.empty()) return core::Fail(ErrorCode::kInvalidArgument, "e-mail address is required");
  if (text.size() > kMaxEmailAddressLength) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "e-mail address is too long (at most 254 characters)");
  }
  if (!core::IsValidUtf8(text)) {
    return core::Fail(ErrorCode::kInvalidArgument, "e-mail address is not valid UTF-8");
  }
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return core::Fail(ErrorCode::kInvalidArgument,
                        "e-mail address must not contain control characters (such as line breaks)");
    }
  }
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "e-mail address must look like name@example.org");
  }
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  const bool is_local_valid =
      local.size() <= 64 && local.front() != '.' && local.back() != '.' &&
      local.find("..") == std::string_view::npos &&
      std::all_of(local.begin(), local.end(),
                  [](char c) { return IsAllowedInLocalPart(static_cast<unsigned char>(c)); });
  if (!is_local_valid) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "the part of the e-mail address before the @ is not valid");
  }
  size_t start = 0;
  size_t labels = 0;
  while (start <= domain.size()) {
    const size_t dot = std::min(domain.find('.', start), domain.size());
    if (!IsValidDomainLabel(domain.substr(start, dot - start))) {
      return core::Fail(ErrorCode::kInvalidArgument,
                        "the domain of the e-mail address (after the @) is not valid");
    }
    ++labels;
    start = dot + 1;
  }
  if (labels < 2) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "the domain of the e-mail address needs a dot, as in example.org");
  }
  return EmailAddress(std::string(text));
}

}  // namespace inkwell::contracts
