#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace inkwell::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn"/"warning", "error"; kInvalidArgument otherwise (see config.cc).
bool ParseLogLevel(std::string_view text, LogLevel& level);
std::string_view NameOf(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

// Structured JSON-lines logging to stderr: one object per line with time, service, level,
// message and the given fields. Thread-safe; a record is written with one write(2) so lines
// from several threads never interleave.
class Log {
 public:
  static void Init(std::string service, LogLevel min_level);
  static bool Enabled(LogLevel level);
  static void Write(LogLevel level, std::string_view message,
                    std::initializer_list<LogField> fields = {});
};

inline void LogDebug(std::string_view message, std::initializer_list<LogField> fields = {}) {
  if (Log::Enabled(LogLevel::kDebug)) Log::Write(LogLevel::kDebug, message, fields);
}
inline void LogInfo(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kInfo, message, fields);
}
inline void LogWarn(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kWarn, message, fields);
}
inline void LogError(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kError, message, fields);
}

}  // namespace inkwell::core
