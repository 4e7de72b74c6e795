#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "cli/log_filter.h"
#include "cli/log_record.h"
#include "core/error.h"

namespace inkwell::cli {

// Reads inkwell-logd's directory (contracts/log_file_name.h): the rotated files once, the
// current files as they grow. A current file that logd rotates while we read it is read to its
// end under its new name before its successor, so following loses and repeats nothing. Lines
// that are not JSON objects are skipped and counted. Holds open files; not thread-safe.
class LogReader {
 public:
  LogReader(std::filesystem::path directory, LogFilter filter);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Every record the filter keeps, in the rotated and current files, oldest first (records of
  // one millisecond in file order). kNotFound when the directory cannot be read or holds no
  // log file.
  core::Result<std::vector<LogRecord>> ReadAll();
  // What was appended to the current files since the last call (or ReadAll), oldest first;
  // picks up files of new services and follows rotations.
  std::vector<LogRecord> Poll();
  std::size_t unreadable_lines() const { return unreadable_lines_; }

 private:
  struct Tail {
    int fd = -1;
    dev_t device = 0;
    ino_t inode = 0;
    std::string partial;  // an incomplete last line, kept until its newline arrives
  };
  bool IsWanted(const std::string& service) const;
  // Opens the current files not followed yet; false if the directory cannot be read.
  bool DiscoverCurrentFiles();
  void OpenTail(const std::string& file_name);
  void ReadTail(Tail& tail, bool is_final, std::vector<LogRecord>& out);
  void ReadFile(const std::filesystem::path& path, std::vector<LogRecord>& out);
  // The service's files rotated after `old` (found by its inode), oldest first, without the
  // successor being followed now.
  std::vector<std::filesystem::path> RotatedSince(const std::string& file_name, const Tail& old,
                                                  const Tail* successor) const;
  void Keep(std::string_view line, std::vector<LogRecord>& out);

  std::filesystem::path directory_;
  LogFilter filter_;
  std::map<std::string, Tail> tails_;  // by current file name
  std::size_t unreadable_lines_ = 0;
};

}  // namespace inkwell::cli
