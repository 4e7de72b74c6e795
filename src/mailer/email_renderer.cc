#include "mailer/email_renderer.h"

#include <cctype>

#include "core/ids.h"

namespace inkwell::mailer {
namespace {

using core::ErrorCode;

std::string Trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

core::Result<std::string> RenderPart(const templating::TemplateSet& templates,
                                     const std::string& name, const templating::TemplateValues& values) {
  auto rendered = templates.Render(name, values);
  if (!rendered) {
    return core::Fail(rendered.error().code == ErrorCode::kNotFound ? ErrorCode::kInvalidArgument
                                                                    : rendered.error().code,
                      rendered.error().message);
  }
  return rendered;
}

}  // namespace

std::string MessageIdFor(const std::string& message_id) {
  if (message_id.empty()) return core::NewUuid() + "@inkwell";
  std::string local;
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : message_id.substr(0, 128)) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_') {
      local += c;
    } else {
      local += '=';
      local += kHex[byte >> 4];
      local += kHex[byte & 0xf];
    }
  }
  return local + "@inkwell";
}

core::Result<mail::MimeMessage> RenderEmail(const contracts::EmailRequest& request,
                                            const templating::TemplateSet& templates,
                                            const std::string& from, const std::string& message_id) {
  mail::MimeMessage message;
  message.from = from;
  message.to = request.to;
  message.message_id = MessageIdFor(message_id);
  message.date = std::chrono::system_clock::now();
  if (!request.is_templated()) {
    message.subject = request.subject;
    message.text = request.text;
    message.html = request.html;
    return message;
  }
  const std::string& base = request.template_name;
  if (!templates.Contains(base + ".subject") || !templates.Contains(base + ".txt")) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "unknown template '" + request.template_name + "'");
  }
  templating::TemplateValues values = request.data;
  values["to"] = request.to;
  auto subject = RenderPart(templates, base + ".subject", values);
  if (!subject) return tl::unexpected(subject.error());
  auto text = RenderPart(templates, base + ".txt", values);
  if (!text) return tl::unexpected(text.error());
  message.subject = Trim(std::move(*subject));
  message.text = std::move(*text);
  if (templates.Contains(base + ".html")) {
    auto html = RenderPart(templates, base + ".html", values);
    if (!html) return tl::unexpected(html.error());
    message.html = std::move(*html);
  }
  if (message.subject.empty()) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "template '" + request.template_name + "' rendered an empty subject");
  }
  if (Trim(message.text).empty()) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "template '" + request.template_name + "' rendered an empty text part");
  }
  return message;
}

}  // namespace inkwell::mailer
