#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace inkwell::contracts {

// How inkwell-logd names its JSON-lines files under INKWELL_LOG_DIR, so that readers
// (`inkwell logs`, `inkwell trace`) find them:
//   <service>.jsonl                           the file logd appends to now
//   <service>-<YYYYMMDDTHHMMSS.mmm>Z.jsonl    a rotated file, named by the UTC time of rotation
//   invalid.jsonl                             records that were not JSON objects (kInvalidService)
// Rotated names sort by time when sorted as text.
inline constexpr std::string_view kInvalidService = "invalid";
inline constexpr std::string_view kLogFileExtension = ".jsonl";

struct LogFileName {
  std::string service;
  // Set for a rotated file: when it was rotated. Unset for the current file.
  std::optional<std::chrono::system_clock::time_point> rotated_at;
};

// The service name as it may appear in a file name: every byte outside [A-Za-z0-9._-] becomes
// '_', a leading '.' becomes '_' (no hidden files, no ".."), at most 64 bytes; empty text
// becomes "unknown".
std::string SanitizeServiceName(std::string_view service);

// "<service>.jsonl"; service must already be sanitized.
std::string CurrentLogFileName(std::string_view service);
// "<service>-20261128T081011.123Z.jsonl"; service must already be sanitized.
std::string RotatedLogFileName(std::string_view service,
                               std::chrono::system_clock::time_point rotated_at);
// The service (and rotation time) a file name stands for, or nullopt for a file that is not
// one of ours.
std::optional<LogFileName> ParseLogFileName(std::string_view file_name);

}  // namespace inkwell::contracts
