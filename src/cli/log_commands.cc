#include "cli/log_commands.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/log_filter.h"
#include "cli/log_format.h"
#include "cli/log_reader.h"
#include "cli/trace_report.h"

namespace inkwell::cli {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(200);

std::atomic<bool> g_is_interrupted{false};

void OnInterrupt(int) { g_is_interrupted = true; }

// The filter the options describe, or a message for stderr.
core::Result<LogFilter> FilterFor(const LogsOptions& options) {
  LogFilter filter;
  filter.services = options.services;
  if (!options.min_level.empty() && !core::ParseLogLevel(options.min_level, filter.min_level)) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--level " + options.min_level + ": expected debug, info, warn or error");
  }
  const auto now = std::chrono::system_clock::now();
  if (!options.since.empty()) {
    auto since = ParseTimeBound(options.since, now);
    if (!since)
      return core::Fail(core::ErrorCode::kInvalidArgument, "--since " + since.error().message);
    filter.since = *since;
  }
  if (!options.until.empty()) {
    auto until = ParseTimeBound(options.until, now);
    if (!until)
      return core::Fail(core::ErrorCode::kInvalidArgument, "--until " + until.error().message);
    filter.until = *until;
  }
  if (!options.trace.empty()) {
    auto trace_id = ParseTraceId(options.trace);
    if (!trace_id)
      return core::Fail(core::ErrorCode::kInvalidArgument, "--trace " + trace_id.error().message);
    filter.trace_id = *trace_id;
  }
  return filter;
}

void Print(const std::vector<LogRecord>& records, bool is_json) {
  for (const auto& record : records)
    std::cout << (is_json ? record.raw : FormatHuman(record)) << '\n';
  std::cout.flush();
}

void WarnAboutUnreadable(const LogReader& reader) {
  if (reader.unreadable_lines() > 0) {
    std::cerr << "inkwell: skipped " << reader.unreadable_lines()
              << " line(s) that are not JSON objects\n";
  }
}

}  // namespace

int RunLogs(const LogsOptions& options) {
  auto filter = FilterFor(options);
  if (!filter) {
    std::cerr << "inkwell logs: " << filter.error().message << "\n";
    return kLogsBadUsage;
  }
  LogReader reader(options.log_dir, *filter);
  auto records = reader.ReadAll();
  if (!records) {
    std::cerr << "inkwell logs: " << records.error().message << "\n";
    return kLogsNothing;
  }
  Print(*records, options.is_json);
  if (!options.is_following) {
    WarnAboutUnreadable(reader);
    return kLogsOk;
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  while (!g_is_interrupted) {
    std::this_thread::sleep_for(kPollInterval);
    Print(reader.Poll(), options.is_json);
  }
  WarnAboutUnreadable(reader);
  return kLogsOk;
}

int RunTrace(const std::string& log_dir, const std::string& trace) {
  auto trace_id = ParseTraceId(trace);
  if (!trace_id) {
    std::cerr << "inkwell trace: " << trace_id.error().message << "\n";
    return kLogsBadUsage;
  }
  LogFilter filter;
  filter.trace_id = *trace_id;
  filter.is_spans_only = true;
  LogReader reader(log_dir, filter);
  auto records = reader.ReadAll();
  if (!records) {
    std::cerr << "inkwell trace: " << records.error().message << "\n";
    return kLogsNothing;
  }
  const TraceReport report(*trace_id, *records);
  if (report.empty()) {
    std::cerr << "inkwell trace: no span with trace id " << *trace_id << " in " << log_dir << "\n";
    return kLogsNothing;
  }
  std::cout << report.Format();
  return kLogsOk;
}

}  // namespace inkwell::cli
