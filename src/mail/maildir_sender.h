#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "mail/mail_sender.h"

namespace inkwell::mail {

// Delivers into a local Maildir (for development and tests): each message is one file in
// root/new/. Safe to share between worker threads and between processes on one maildir.
class MaildirSender final : public MailSender {
 public:
  // Creates root/tmp, root/new and root/cur if missing. Throws std::filesystem::filesystem_error
  // if it cannot (bad configuration at start-up; MakeMailSender turns it into kUnavailable).
  explicit MaildirSender(std::filesystem::path root);

  // Writes Serialize(message) to tmp/<unique>, fsyncs it, renames it into new/ and fsyncs new/,
  // so the message is durable when this returns. The unique name follows the Maildir
  // convention: <seconds>.M<microseconds>P<pid>Q<counter>R<random>.<hostname>. Fails with
  // kUnavailable, naming the failed call and errno's text (the tmp file is removed).
  core::Result<void> Send(const MimeMessage& message) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::string UniqueName();

  std::filesystem::path root_;
  std::string hostname_;  // with '/' and ':' escaped as Maildir requires
  std::atomic<uint64_t> counter_{0};
};

}  // namespace inkwell::mail
