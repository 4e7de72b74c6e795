#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/metrics.h"
#include "logd/rotation_policy.h"

namespace inkwell::logd {

// The directory of JSON-lines files, one current file per service (contracts/log_file_name.h),
// rotated by the policy. Lines appended are durable only after Sync() returns: the owner acks
// the broker after that, never before. NOT thread-safe: one thread (logd's consumer) owns it.
class LogDirectory {
 public:
  // Creates the directory if needed and picks up the current files already there (a file
  // cut short by a crash gets its last line terminated). kUnavailable if it cannot.
  static core::Result<std::unique_ptr<LogDirectory>> Open(const std::filesystem::path& directory,
                                                          RotationPolicy policy,
                                                          core::Counter& rotations);
  ~LogDirectory();  // closes the files; what was not synced may be lost (and is not acked)
  LogDirectory(const LogDirectory&) = delete;
  LogDirectory& operator=(const LogDirectory&) = delete;

  // Appends line and a newline to the service's current file, rotating it first if the policy
  // says so. service must be sanitized. kUnavailable on a failed write, rename or open.
  core::Result<void> Append(const std::string& service, std::string_view line,
                            std::chrono::system_clock::time_point now);
  // Makes every line appended so far durable: fdatasync of each written file, fsync of the
  // directory after a file was created or renamed.
  core::Result<void> Sync();
  // Rotates the current files older than the policy's max_age (for services gone quiet).
  core::Result<void> RotateAged(std::chrono::system_clock::time_point now);

 private:
  struct File {
    int fd = -1;
    std::uint64_t size = 0;
    std::chrono::system_clock::time_point started_at;
    bool is_dirty = false;
  };
  LogDirectory(std::filesystem::path directory, int directory_fd, RotationPolicy policy,
               core::Counter& rotations);
  core::Result<File*> CurrentFile(const std::string& service,
                                  std::chrono::system_clock::time_point now);
  core::Result<void> Rotate(const std::string& service, File& file,
                            std::chrono::system_clock::time_point now);
  core::Result<void> Prune(const std::string& service);

  std::filesystem::path directory_;
  int directory_fd_;
  RotationPolicy policy_;
  core::Counter& rotations_;
  std::map<std::string, File> files_;
  bool is_directory_dirty_ = false;
};

}  // namespace inkwell::logd
