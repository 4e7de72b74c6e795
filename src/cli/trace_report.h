#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/log_record.h"

namespace inkwell::cli {

// The steps of one registration, in the order they happen.
const std::vector<std::string>& RegistrationSteps();

// The path of one traced request, for `inkwell trace`.
class TraceReport {
 public:
  // Keeps the spans (kind "span") of trace_id, sorted by start time; spans that start in the
  // same millisecond keep the order of RegistrationSteps().
  TraceReport(std::string trace_id, const std::vector<LogRecord>& records);

  bool empty() const { return spans_.empty(); }
  const std::vector<LogRecord>& spans() const { return spans_; }
  // One line per step:
  //   "  +0.000 ms  08:10:11.123  inkwell-web     http request        12.3 ms  POST /api/v1/users
  //   201"
  // then a summary: steps, services, the time from the first start to the last end, and, for a
  // registration (it has an "outbox insert"), the steps of RegistrationSteps() not seen.
  std::string Format() const;

 private:
  std::string trace_id_;
  std::vector<LogRecord> spans_;
};

}  // namespace inkwell::cli
