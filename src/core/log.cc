#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

#include "core/json_escape.h"

namespace inkwell::core {
namespace {

std::atomic<LogLevel> g_min_level{LogLevel::kInfo};
std::string* g_service = new std::string("inkwell");  // leaked on purpose: used until exit

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(text, length) + "." + std::to_string(1000 + millis).substr(1) + "Z";
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel& level) {
  if (text == "debug") level = LogLevel::kDebug;
  else if (text == "info") level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning") level = LogLevel::kWarn;
  else if (text == "error") level = LogLevel::kError;
  else return false;
  return true;
}

std::string_view NameOf(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: break;
  }
  return "error";
}

void Log::Init(std::string service, LogLevel min_level) {
  *g_service = std::move(service);
  g_min_level = min_level;
}

bool Log::Enabled(LogLevel level) { return level >= g_min_level.load(std::memory_order_relaxed); }

void Log::Write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!Enabled(level)) return;
  std::string line = "{\"time\":\"" + Timestamp() + "\",\"service\":\"";
  AppendJsonEscaped(line, *g_service);
  line += "\",\"level\":\"";
  line += NameOf(level);
  line += "\",\"message\":\"";
  AppendJsonEscaped(line, message);
  line += '"';
  for (const auto& [key, value] : fields) {
    line += ",\"";
    AppendJsonEscaped(line, key);
    line += "\":\"";
    AppendJsonEscaped(line, value);
    line += '"';
  }
  line += "}\n";
  // One write per record: lines from several threads never interleave.
  const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  (void)written;  // nowhere left to report a failed log write
}

}  // namespace inkwell::core
