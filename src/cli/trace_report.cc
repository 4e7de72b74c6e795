#include "cli/trace_report.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "cli/log_format.h"

namespace inkwell::cli {
namespace {

std::size_t StepRank(const std::string& step) {
  const auto& steps = RegistrationSteps();
  return static_cast<std::size_t>(std::find(steps.begin(), steps.end(), step) - steps.begin());
}

double MillisBetween(std::chrono::system_clock::time_point from,
                     std::chrono::system_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// What identifies the step: the request line for HTTP, the fields otherwise.
std::string Details(const LogRecord& span) {
  if (span.message == "http request" && !span.Field("route").empty()) {
    return span.Field("method") + " " + span.Field("route") + " " + span.Field("status");
  }
  std::string details;
  for (const auto& [key, value] : span.fields) {
    if (!details.empty()) details += ' ';
    details += key + "=" + value;
  }
  return details;
}

}  // namespace

const std::vector<std::string>& RegistrationSteps() {
  static const std::vector<std::string> kSteps = {
      "http request", "outbox insert", "publish + confirm", "mailer receive", "smtp reply"};
  return kSteps;
}

TraceReport::TraceReport(std::string trace_id, const std::vector<LogRecord>& records)
    : trace_id_(std::move(trace_id)) {
  for (const auto& record : records) {
    if (record.kind == "span" && record.trace_id == trace_id_) spans_.push_back(record);
  }
  std::stable_sort(spans_.begin(), spans_.end(), [](const LogRecord& a, const LogRecord& b) {
    if (a.time != b.time) return a.time < b.time;
    return StepRank(a.message) < StepRank(b.message);
  });
}

std::string TraceReport::Format() const {
  if (spans_.empty()) return "trace " + trace_id_ + ": no spans found\n";
  std::string out = "trace " + trace_id_ + "\n";
  const auto first = spans_.front().time;
  auto last_end = first;
  std::set<std::string> services;
  std::set<std::string> seen;
  for (const auto& span : spans_) {
    const double duration = span.duration_ms.value_or(0.0);
    char line[512];
    std::snprintf(line, sizeof line, "  %+9.3f ms  %s  %-15s %-19s %8.1f ms  ",
                  MillisBetween(first, span.time), TimeOfDay(span.time).c_str(),
                  span.service.c_str(), span.message.c_str(), duration);
    out += line;
    out += Details(span);
    out += '\n';
    const auto end = span.time + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                     std::chrono::duration<double, std::milli>(duration));
    last_end = std::max(last_end, end);
    services.insert(span.service);
    seen.insert(span.message);
  }
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%zu spans, %zu distinct steps, %zu services, %.1f ms from the first start to the "
                "last end (%s to %s UTC)",
                spans_.size(), seen.size(), services.size(), MillisBetween(first, last_end),
                TimeOfDay(first).c_str(), TimeOfDay(last_end).c_str());
  out += summary;
  out += '\n';
  std::string missing;
  for (const auto& step : RegistrationSteps()) {
    if (seen.contains(step)) continue;
    missing += missing.empty() ? step : ", " + step;
  }
  // Only a registration writes the outbox; other requests have a single step.
  if (seen.contains("outbox insert") && !missing.empty()) {
    out += "registration steps not seen: " + missing + "\n";
  }
  return out;
}

}  // namespace inkwell::cli
