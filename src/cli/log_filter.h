#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/log_record.h"
#include "core/error.h"
#include "core/log.h"

namespace inkwell::cli {

// Which records `inkwell logs` and `inkwell trace` keep. Empty or unset parts keep everything.
struct LogFilter {
  std::vector<std::string> services;  // the record's "service", exactly
  core::LogLevel min_level = core::LogLevel::kDebug;
  std::optional<std::chrono::system_clock::time_point> since;  // inclusive
  std::optional<std::chrono::system_clock::time_point> until;  // inclusive
  std::string trace_id;
  bool is_spans_only = false;
};

// A record whose level is not one of debug/info/warn/error counts as info.
bool Matches(const LogFilter& filter, const LogRecord& record);

// --since / --until: RFC 3339, or a duration before now: "90s", "10m", "2h", "7d" (also a sum
// like "1h30m"). kInvalidArgument otherwise, naming the text.
core::Result<std::chrono::system_clock::time_point> ParseTimeBound(
    std::string_view text, std::chrono::system_clock::time_point now);

// A trace id (32 lower-case hex digits) from itself or from a full W3C traceparent
// ("00-<trace id>-<parent id>-<flags>"); upper case is accepted. kInvalidArgument otherwise.
core::Result<std::string> ParseTraceId(std::string_view text);

}  // namespace inkwell::cli
