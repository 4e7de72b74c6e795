#include "logd/log_directory.h"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contracts/log_file_name.h"

namespace inkwell::logd {
namespace {

core::Error SystemError(const std::string& call, const std::filesystem::path& path) {
  return core::Error{core::ErrorCode::kUnavailable,
                     call + " " + path.string() + ": " + std::strerror(errno)};
}

core::Result<void> WriteAll(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(SystemError("write", path));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

// When the file was created (statx birth time), or now where the file system does not say.
std::chrono::system_clock::time_point CreatedAt(int fd, std::chrono::system_clock::time_point now) {
  struct statx info {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &info) == 0 && (info.stx_mask & STATX_BTIME) != 0) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(info.stx_btime.tv_sec));
  }
  return now;
}

// A crash can leave a last line without its newline: end it, so the next record starts clean.
core::Result<void> TerminateLastLine(int fd, std::uint64_t size,
                                     const std::filesystem::path& path) {
  if (size == 0) return {};
  char last = '\n';
  if (::pread(fd, &last, 1, static_cast<off_t>(size - 1)) != 1) {
    return tl::unexpected(SystemError("pread", path));
  }
  if (last == '\n') return {};
  return WriteAll(fd, "\n", path);
}

}  // namespace

core::Result<std::unique_ptr<LogDirectory>> LogDirectory::Open(
    const std::filesystem::path& directory, RotationPolicy policy, core::Counter& rotations) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "create_directories " + directory.string() + ": " + error.message());
  }
  const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) return tl::unexpected(SystemError("open", directory));
  std::unique_ptr<LogDirectory> log_directory(
      new LogDirectory(directory, directory_fd, policy, rotations));
  const auto now = std::chrono::system_clock::now();
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const auto name = contracts::ParseLogFileName(entry.path().filename().string());
    if (!name || name->rotated_at || !entry.is_regular_file()) continue;
    auto file = log_directory->CurrentFile(name->service, now);
    if (!file) return tl::unexpected(file.error());
  }
  if (error) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "reading " + directory.string() + ": " + error.message());
  }
  return log_directory;
}

LogDirectory::LogDirectory(std::filesystem::path directory, int directory_fd, RotationPolicy policy,
                           core::Counter& rotations)
    : directory_(std::move(directory)),
      directory_fd_(directory_fd),
      policy_(policy),
      rotations_(rotations) {}

LogDirectory::~LogDirectory() {
  for (auto& [service, file] : files_) ::close(file.fd);
  ::close(directory_fd_);
}

core::Result<LogDirectory::File*> LogDirectory::CurrentFile(
    const std::string& service, std::chrono::system_clock::time_point now) {
  if (auto found = files_.find(service); found != files_.end()) return &found->second;
  const std::filesystem::path path = directory_ / contracts::CurrentLogFileName(service);
  const bool existed = std::filesystem::exists(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return tl::unexpected(SystemError("open", path));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const core::Error failure = SystemError("fstat", path);
    ::close(fd);
    return tl::unexpected(failure);
  }
  File file{fd, static_cast<std::uint64_t>(info.st_size), existed ? CreatedAt(fd, now) : now,
            false};
  if (auto ended = TerminateLastLine(fd, file.size, path); !ended) {
    ::close(fd);
    return tl::unexpected(ended.error());
  }
  // A new directory entry is durable only once the directory is synced.
  if (!existed) is_directory_dirty_ = true;
  return &files_.emplace(service, file).first->second;
}

core::Result<void> LogDirectory::Append(const std::string& service, std::string_view line,
                                        std::chrono::system_clock::time_point now) {
  auto file = CurrentFile(service, now);
  if (!file) return tl::unexpected(file.error());
  const std::uint64_t incoming = line.size() + 1;
  if (ShouldRotate(policy_, (*file)->size, incoming, (*file)->started_at, now)) {
    if (auto rotated = Rotate(service, **file, now); !rotated) return rotated;
    file = CurrentFile(service, now);
    if (!file) return tl::unexpected(file.error());
  }
  if ((*file)->size == 0) (*file)->started_at = now;  // the age counts from the first record
  std::string bytes;
  bytes.reserve(incoming);
  bytes.append(line);
  bytes += '\n';
  const std::filesystem::path path = directory_ / contracts::CurrentLogFileName(service);
  (*file)->is_dirty = true;
  if (auto written = WriteAll((*file)->fd, bytes, path); !written) return written;
  (*file)->size += incoming;
  return {};
}

core::Result<void> LogDirectory::Sync() {
  for (auto& [service, file] : files_) {
    if (!file.is_dirty) continue;
    if (::fdatasync(file.fd) != 0) {
      return tl::unexpected(
          SystemError("fdatasync", directory_ / contracts::CurrentLogFileName(service)));
    }
    file.is_dirty = false;
  }
  if (is_directory_dirty_) {
    if (::fsync(directory_fd_) != 0) return tl::unexpected(SystemError("fsync", directory_));
    is_directory_dirty_ = false;
  }
  return {};
}

core::Result<void> LogDirectory::RotateAged(std::chrono::system_clock::time_point now) {
  std::vector<std::string> aged;
  for (const auto& [service, file] : files_) {
    if (ShouldRotate(policy_, file.size, 0, file.started_at, now)) aged.push_back(service);
  }
  for (const auto& service : aged) {
    if (auto rotated = Rotate(service, files_.at(service), now); !rotated) return rotated;
  }
  return {};
}

core::Result<void> LogDirectory::Rotate(const std::string& service, File& file,
                                        std::chrono::system_clock::time_point now) {
  const std::filesystem::path current = directory_ / contracts::CurrentLogFileName(service);
  // The lines must be on disk under either name before the rename makes the name change.
  if (file.is_dirty && ::fdatasync(file.fd) != 0)
    return tl::unexpected(SystemError("fdatasync", current));
  std::filesystem::path rotated = directory_ / contracts::RotatedLogFileName(service, now);
  for (auto later = now; std::filesystem::exists(rotated);) {  // two rotations in one millisecond
    later += std::chrono::milliseconds(1);
    rotated = directory_ / contracts::RotatedLogFileName(service, later);
  }
  if (::rename(current.c_str(), rotated.c_str()) != 0)
    return tl::unexpected(SystemError("rename", current));
  ::close(file.fd);
  files_.erase(service);
  is_directory_dirty_ = true;
  rotations_.Increment();
  return Prune(service);
}

core::Result<void> LogDirectory::Prune(const std::string& service) {
  std::vector<std::string> rotated_names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const std::string file_name = entry.path().filename().string();
    const auto name = contracts::ParseLogFileName(file_name);
    if (name && name->rotated_at && name->service == service) rotated_names.push_back(file_name);
  }
  if (error) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "reading " + directory_.string() + ": " + error.message());
  }
  for (const auto& file_name : RotatedFilesToDelete(std::move(rotated_names), policy_.keep)) {
    if (::unlink((directory_ / file_name).c_str()) != 0 && errno != ENOENT) {
      return tl::unexpected(SystemError("unlink", directory_ / file_name));
    }
  }
  return {};
}

}  // namespace inkwell::logd
