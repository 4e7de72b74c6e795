#pragma once

#include <string>
#include <vector>

namespace inkwell::cli {

// Exit codes of `inkwell logs` and `inkwell trace`: 0 fine, 1 nothing readable (no directory,
// no log file; for trace: no span), 2 bad usage.
inline constexpr int kLogsOk = 0;
inline constexpr int kLogsNothing = 1;
inline constexpr int kLogsBadUsage = 2;

struct LogsOptions {
  std::string log_dir = "var/log";  // INKWELL_LOG_DIR, --log-dir
  std::vector<std::string> services;
  std::string min_level;  // empty: all
  std::string since;
  std::string until;
  std::string trace;  // a trace id or a traceparent
  bool is_following = false;
  bool is_json = false;
};

// `inkwell logs`: prints the records the options select, oldest first, then (with -f) what is
// appended until SIGINT/SIGTERM, polling every 200 ms. Errors go to stderr.
int RunLogs(const LogsOptions& options);

// `inkwell trace <trace-id|traceparent>`: prints the spans of one trace in time order and a
// summary (cli::TraceReport).
int RunTrace(const std::string& log_dir, const std::string& trace);

}  // namespace inkwell::cli
