#include "cli/log_reader.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contracts/log_file_name.h"

namespace inkwell::cli {
namespace {

void SortByTime(std::vector<LogRecord>& records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const LogRecord& a, const LogRecord& b) { return a.time < b.time; });
}

}  // namespace

LogReader::LogReader(std::filesystem::path directory, LogFilter filter)
    : directory_(std::move(directory)), filter_(std::move(filter)) {}

LogReader::~LogReader() {
  for (auto& [name, tail] : tails_) ::close(tail.fd);
}

bool LogReader::IsWanted(const std::string& service) const {
  if (filter_.services.empty()) return true;
  return std::any_of(filter_.services.begin(), filter_.services.end(), [&](const std::string& s) {
    return contracts::SanitizeServiceName(s) == service;
  });
}

void LogReader::Keep(std::string_view line, std::vector<LogRecord>& out) {
  if (line.empty()) return;
  auto record = ParseLogRecord(line);
  if (!record) {
    ++unreadable_lines_;
    return;
  }
  if (Matches(filter_, *record)) out.push_back(std::move(*record));
}

bool LogReader::DiscoverCurrentFiles() {
  std::error_code error;
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const std::string file_name = entry.path().filename().string();
    const auto name = contracts::ParseLogFileName(file_name);
    if (!name || name->rotated_at || !IsWanted(name->service)) continue;
    if (!tails_.contains(file_name)) found.push_back(file_name);
  }
  if (error) return false;
  for (const auto& file_name : found) OpenTail(file_name);
  return true;
}

void LogReader::OpenTail(const std::string& file_name) {
  const int fd = ::open((directory_ / file_name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // rotated away meanwhile: the next poll finds its successor
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return;
  }
  tails_[file_name] = Tail{fd, info.st_dev, info.st_ino, {}};
}

void LogReader::ReadTail(Tail& tail, bool is_final, std::vector<LogRecord>& out) {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t got = ::read(tail.fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    tail.partial.append(buffer, static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (std::size_t end; (end = tail.partial.find('\n', start)) != std::string::npos;
         start = end + 1) {
      Keep(std::string_view(tail.partial).substr(start, end - start), out);
    }
    tail.partial.erase(0, start);
  }
  if (is_final && !tail.partial.empty()) {
    Keep(tail.partial, out);
    tail.partial.clear();
  }
}

void LogReader::ReadFile(const std::filesystem::path& path, std::vector<LogRecord>& out) {
  std::ifstream file(path, std::ios::binary);
  std::string line;
  while (std::getline(file, line)) Keep(line, out);
}

core::Result<std::vector<LogRecord>> LogReader::ReadAll() {
  std::error_code error;
  if (!std::filesystem::is_directory(directory_, error)) {
    return core::Fail(core::ErrorCode::kNotFound,
                      "cannot read log directory " + directory_.string() + ": " +
                          (error ? error.message() : "not a directory"));
  }
  // Open the current files first: one rotated after this is still read through its descriptor,
  // and skipped below by its inode, so no record is read twice or missed.
  if (!DiscoverCurrentFiles()) {
    return core::Fail(core::ErrorCode::kNotFound,
                      "cannot list the log directory " + directory_.string());
  }
  std::vector<std::filesystem::path> rotated;
  std::size_t log_files = tails_.size();
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const auto name = contracts::ParseLogFileName(entry.path().filename().string());
    if (!name || !name->rotated_at) continue;
    ++log_files;
    if (!IsWanted(name->service)) continue;
    // A file rotated before --since holds nothing newer.
    if (filter_.since && *name->rotated_at < *filter_.since) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) != 0) continue;
    const bool is_followed = std::any_of(tails_.begin(), tails_.end(), [&](const auto& tail) {
      return tail.second.device == info.st_dev && tail.second.inode == info.st_ino;
    });
    if (!is_followed) rotated.push_back(entry.path());
  }
  if (log_files == 0) {
    return core::Fail(core::ErrorCode::kNotFound,
                      "no log files (*.jsonl) in " + directory_.string());
  }
  std::sort(rotated.begin(), rotated.end());
  std::vector<LogRecord> records;
  for (const auto& path : rotated) ReadFile(path, records);
  std::vector<LogRecord> current = Poll();
  records.insert(records.end(), std::make_move_iterator(current.begin()),
                 std::make_move_iterator(current.end()));
  SortByTime(records);
  return records;
}

std::vector<LogRecord> LogReader::Poll() {
  DiscoverCurrentFiles();
  std::vector<LogRecord> records;
  std::vector<std::string> renamed;
  for (auto& [file_name, tail] : tails_) {
    struct stat info {};
    const bool is_renamed = ::stat((directory_ / file_name).c_str(), &info) != 0 ||
                            info.st_ino != tail.inode || info.st_dev != tail.device;
    // Once logd renamed the file it writes no more to it: read its rest, then its successor.
    ReadTail(tail, is_renamed, records);
    if (is_renamed) renamed.push_back(file_name);
  }
  for (const auto& file_name : renamed) {
    const Tail old = tails_[file_name];
    ::close(old.fd);
    tails_.erase(file_name);
    // Open the successor before looking for files rotated in between: if it is rotated too
    // meanwhile, its descriptor still reads it, and its inode keeps it out of the list below.
    OpenTail(file_name);
    const auto successor = tails_.find(file_name);
    // logd may have rotated more than once since the last poll: read, in order, every file
    // rotated after the one we were reading.
    for (const auto& path :
         RotatedSince(file_name, old, successor == tails_.end() ? nullptr : &successor->second)) {
      ReadFile(path, records);
    }
    if (successor != tails_.end()) ReadTail(successor->second, false, records);
  }
  SortByTime(records);
  return records;
}

std::vector<std::filesystem::path> LogReader::RotatedSince(const std::string& file_name,
                                                           const Tail& old,
                                                           const Tail* successor) const {
  const auto current = contracts::ParseLogFileName(file_name);
  std::vector<std::pair<std::string, std::filesystem::path>> rotated;  // name, path
  std::string old_name;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const std::string name_text = entry.path().filename().string();
    const auto name = contracts::ParseLogFileName(name_text);
    if (!name || !name->rotated_at || name->service != current->service) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) != 0) continue;
    if (info.st_dev == old.device && info.st_ino == old.inode) {
      old_name = name_text;
      continue;
    }
    if (successor != nullptr && info.st_dev == successor->device &&
        info.st_ino == successor->inode) {
      continue;
    }
    rotated.emplace_back(name_text, entry.path());
  }
  // The file we read was deleted already (INKWELL_LOG_KEEP): what came between is unknown.
  if (old_name.empty()) return {};
  std::sort(rotated.begin(), rotated.end());
  std::vector<std::filesystem::path> later;
  for (const auto& [name, path] : rotated) {
    if (name > old_name) later.push_back(path);
  }
  return later;
}

}  // namespace inkwell::cli
