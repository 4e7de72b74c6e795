#include "mail/mail_sender.h"

#include <filesystem>

#include "mail/maildir_sender.h"
#include "mail/smtp_sender.h"

namespace inkwell::mail {

core::Result<std::unique_ptr<MailSender>> MakeMailSender(const MailUrl& url,
                                                         std::chrono::seconds timeout) {
  switch (url.scheme) {
    case MailUrl::Scheme::kMaildir: try { return std::make_unique<MaildirSender>(url.maildir);
      } catch (const std::filesystem::filesystem_error& error) {
        return core::Fail(core::ErrorCode::kUnavailable,
                          std::string("create maildir: ") + error.what());
      }
    case MailUrl::Scheme::kSmtp:
    case MailUrl::Scheme::kSmtps: {
      auto sender = SmtpSender::Create(url, timeout);
      if (!sender) return tl::unexpected(sender.error());
      return std::unique_ptr<MailSender>(std::move(*sender));
    }
  }
  return core::Fail(core::ErrorCode::kInternal, "MakeMailSender: unknown mail URL scheme");
}

std::vector<core::Result<void>> MailSender::SendAll(std::span<const MimeMessage> messages) {
  std::vector<core::Result<void>> results;
  results.reserve(messages.size());
  for (const MimeMessage& message : messages) results.push_back(Send(message));
  return results;
}

}  // namespace inkwell::mail
