#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::contracts {

inline constexpr size_t kMaxEmailAddressLength = 254;  // RFC 5321 path limit less the brackets

// A syntactically valid mailbox address (local@domain), safe to put into a mail header:
// at most 254 bytes, no control characters, no spaces, no angle brackets.
class EmailAddress {
 public:
  // kInvalidArgument with a message fit to show a user ("e-mail address is too long...").
  static core::Result<EmailAddress> Parse(std::string_view text);
  const std::string& value() const { return value_; }

 private:
  explicit EmailAddress(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace inkwell::contracts
