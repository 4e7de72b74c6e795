#pragma once

#include <chrono>
#include <string>

#include "cli/log_record.h"

namespace inkwell::cli {

// One record for people, on one line:
//   "08:10:11.123 inkwell-web info  user registered user_id=7 trace_id=4bf9…"
// UTC time of day, service, level padded to 5, message, then the fields as key=value (values
// with spaces, quotes or nothing quoted), a span's duration_ms, and the trace id. Control
// characters in the record are shown escaped, so one record stays one line.
std::string FormatHuman(const LogRecord& record);

// "08:10:11.123" (UTC).
std::string TimeOfDay(std::chrono::system_clock::time_point time);

}  // namespace inkwell::cli
