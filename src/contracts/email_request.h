#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::contracts {

// The AMQP `type` of a message on the `email` exchange (see docs/asyncapi.yaml).
inline constexpr std::string_view kEmailRequestType = "email.send";
// Bodies above this size are refused by the mailer (poison, never retried).
inline constexpr size_t kMaxEmailRequestBytes = 256 * 1024;

// "Send this e-mail": the body of a message on the `email` work queue. Two forms:
//   {"to", "template", "data": {string: string}}  rendered from templates/<template>.*.mustache
//   {"to", "subject", "text", "html"}             sent as given (html optional)
// and the original system's {"email", "message"}, read as the welcome template with
// data {"email": <address>, "message": ...} ("message" only when given).
struct EmailRequest {
  std::string to;
  std::string template_name;  // empty for the literal form
  std::map<std::string, std::string> data;
  std::string subject;
  std::string text;
  std::string html;

  bool is_templated() const { return !template_name.empty(); }
};

// Decodes and validates a message body. kInvalidArgument, with a reason fit for a dead-letter
// header, when the body is too large, not JSON, not an object, or a field is missing, of the
// wrong type, or (for "to") not a valid e-mail address.
core::Result<EmailRequest> ParseEmailRequest(std::string_view body);

// The canonical JSON form; ParseEmailRequest(EncodeEmailRequest(r)) == r.
std::string EncodeEmailRequest(const EmailRequest& request);

}  // namespace inkwell::contracts
