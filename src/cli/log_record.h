#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inkwell::cli {

// One record from inkwell-logd's files, as the services write it (docs/asyncapi.yaml,
// LogRecord): {"time", "service", "instance", "level", "message", "trace_id"?, "kind"?,
// "duration_ms"?, "fields": {...}}.
struct LogRecord {
  std::chrono::system_clock::time_point time;  // the epoch when "time" is missing or malformed
  std::string time_text;
  std::string service;
  std::string instance;
  std::string level;
  std::string message;
  std::string trace_id;
  std::string kind;  // "span" for a step of a trace
  std::optional<double> duration_ms;
  // In the record's order; values that are not strings as their JSON text.
  std::vector<std::pair<std::string, std::string>> fields;
  std::string raw;  // the line as stored

  // The value of a field, or empty.
  std::string Field(std::string_view key) const;
};

// The record in one line of a log file; nullopt when the line is not a JSON object.
std::optional<LogRecord> ParseLogRecord(std::string_view line);

// RFC 3339 ("2026-11-28T08:10:11.123Z", "2026-11-28T09:10:11+01:00", "2026-11-28 08:10:11Z");
// nullopt if malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace inkwell::cli
