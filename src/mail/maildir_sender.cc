#include "mail/maildir_sender.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"

namespace inkwell::mail {
namespace {

// Owns a file descriptor; Close() reports the error that a destructor would have to ignore.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

core::Result<void> ErrnoFailure(std::string_view call, const std::filesystem::path& path) {
  const int saved = errno;
  return core::Fail(core::ErrorCode::kUnavailable, std::string(call) + " " + path.string() + ": " +
                                                       std::generic_category().message(saved));
}

std::string MaildirHostname() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
    return "localhost";
  }
  std::string escaped;
  for (const char c : std::string_view(buffer.data())) {
    if (c == '/') {
      escaped += "\\057";
    } else if (c == ':') {
      escaped += "\\072";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

core::Result<void> WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoFailure("write", path);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return {};
}

core::Result<void> WriteDurably(const std::filesystem::path& path, std::string_view data) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.get() < 0) return ErrnoFailure("open", path);
  if (auto written = WriteAll(file.get(), data, path); !written) return written;
  if (::fsync(file.get()) != 0) return ErrnoFailure("fsync", path);
  if (file.Close() != 0) return ErrnoFailure("close", path);
  return {};
}

core::Result<void> SyncDirectory(const std::filesystem::path& directory) {
  UniqueFd handle(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (handle.get() < 0) return ErrnoFailure("open", directory);
  if (::fsync(handle.get()) != 0) return ErrnoFailure("fsync", directory);
  return {};
}

}  // namespace

MaildirSender::MaildirSender(std::filesystem::path root)
    : root_(std::move(root)), hostname_(MaildirHostname()) {
  for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(root_ / sub);
}

std::string MaildirSender::UniqueName() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds);
  return std::to_string(seconds.count()) + ".M" + std::to_string(micros.count()) + "P" +
         std::to_string(::getpid()) + "Q" + std::to_string(counter_.fetch_add(1) + 1) + "R" +
         core::RandomHex(8) + "." + hostname_;
}

core::Result<void> MaildirSender::Send(const MimeMessage& message) {
  const std::string data = Serialize(message);
  const std::string name = UniqueName();
  const std::filesystem::path temporary = root_ / "tmp" / name;
  const std::filesystem::path delivered = root_ / "new" / name;
  if (auto written = WriteDurably(temporary, data); !written) {
    ::unlink(temporary.c_str());
    return written;
  }
  if (::rename(temporary.c_str(), delivered.c_str()) != 0) {
    auto failure = ErrnoFailure("rename", temporary);
    ::unlink(temporary.c_str());
    return failure;
  }
  // The rename is durable only once the directory entry is on disk.
  return SyncDirectory(root_ / "new");
}

}  // namespace inkwell::mail
