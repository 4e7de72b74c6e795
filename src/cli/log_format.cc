#include "cli/log_format.h"

#include <cstdio>
#include <ctime>
#include <string_view>

namespace inkwell::cli {
namespace {

void AppendPrintable(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
}

void AppendValue(std::string& out, std::string_view value) {
  const bool needs_quotes = value.empty() || value.find_first_of(" \"=") != std::string_view::npos;
  if (!needs_quotes) return AppendPrintable(out, value);
  out += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    AppendPrintable(out, std::string_view(&c, 1));
  }
  out += '"';
}

void AppendPair(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  AppendPrintable(out, key);
  out += '=';
  AppendValue(out, value);
}

}  // namespace

std::string TimeOfDay(std::chrono::system_clock::time_point time) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis % 1000));
  return text;
}

std::string FormatHuman(const LogRecord& record) {
  std::string line = TimeOfDay(record.time);
  line += ' ';
  AppendPrintable(line, record.service.empty() ? "-" : record.service);
  line += ' ';
  std::string level = record.level.empty() ? "-" : record.level;
  if (level.size() < 5) level.resize(5, ' ');
  AppendPrintable(line, level);
  line += ' ';
  AppendPrintable(line, record.message);
  for (const auto& [key, value] : record.fields) AppendPair(line, key, value);
  if (record.duration_ms) {
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", *record.duration_ms);
    AppendPair(line, "duration_ms", duration);
  }
  if (!record.trace_id.empty()) AppendPair(line, "trace_id", record.trace_id);
  return line;
}

}  // namespace inkwell::cli
