#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <ctime>
#include <string>

#include "core/json_escape.h"

namespace inkwell::core {
namespace {

std::atomic<LogLevel> g_min_level{LogLevel::kInfo};
std::atomic<LogSink*> g_sink{nullptr};
// Leaked on purpose: used by any thread until exit, including from static destructors.
std::string* g_service = new std::string("inkwell");
std::string* g_instance = new std::string();
thread_local std::string t_trace_id;

std::string Timestamp(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(text, length) + "." + std::to_string(1000 + millis).substr(1) + "Z";
}

void AppendString(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  AppendJsonEscaped(out, key);
  out += "\":\"";
  AppendJsonEscaped(out, value);
  out += '"';
}

std::string Record(std::chrono::system_clock::time_point when, std::string_view level,
                   std::string_view message, std::string_view trace_id,
                   std::initializer_list<LogField> fields, std::string_view extra) {
  std::string record = "{\"time\":\"" + Timestamp(when) + "\"";
  AppendString(record, "service", *g_service);
  AppendString(record, "instance", *g_instance);
  AppendString(record, "level", level);
  AppendString(record, "message", message);
  if (!trace_id.empty()) AppendString(record, "trace_id", trace_id);
  record += extra;
  record += ",\"fields\":{";
  bool is_first = true;
  for (const auto& [key, value] : fields) {
    if (!is_first) record += ',';
    is_first = false;
    record += '"';
    AppendJsonEscaped(record, key);
    record += "\":\"";
    AppendJsonEscaped(record, value);
    record += '"';
  }
  record += "}}";
  return record;
}

void Emit(std::string_view level, std::string record, bool to_stderr) {
  if (to_stderr) {
    record += '\n';
    // One write per record: lines from several threads never interleave.
    const ssize_t written = ::write(STDERR_FILENO, record.data(), record.size());
    (void)written;  // nowhere left to report a failed log write
    record.pop_back();
  }
  if (LogSink* sink = g_sink.load(std::memory_order_acquire)) {
    sink->Offer(*g_service + "." + std::string(level), std::move(record));
  }
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
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  *g_instance = std::string(host) + ":" + std::to_string(getpid());
  *g_service = std::move(service);
  g_min_level = min_level;
}

void Log::SetSink(LogSink* sink) { g_sink.store(sink, std::memory_order_release); }

bool Log::Enabled(LogLevel level) { return level >= g_min_level.load(std::memory_order_relaxed); }

const std::string& Log::service() { return *g_service; }
const std::string& Log::instance() { return *g_instance; }

void Log::Write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!Enabled(level)) return;
  Emit(NameOf(level),
       Record(std::chrono::system_clock::now(), NameOf(level), message, t_trace_id, fields, ""),
       /*to_stderr=*/true);
}

void Log::Span(std::string_view name, std::string_view trace_id,
               std::chrono::system_clock::time_point start,
               std::chrono::steady_clock::duration duration, std::initializer_list<LogField> fields) {
  // A span belongs to a trace; untraced work (bulk loads, messages from other producers) costs
  // no log record per message.
  if (trace_id.empty()) return;
  const double millis = std::chrono::duration<double, std::milli>(duration).count();
  char extra[80];
  std::snprintf(extra, sizeof extra, ",\"kind\":\"span\",\"duration_ms\":%.3f", millis);
  Emit("info", Record(start, "info", name, trace_id, fields, extra),
       /*to_stderr=*/Enabled(LogLevel::kDebug));
}

TraceScope::TraceScope(std::string trace_id) : previous_(std::move(t_trace_id)) {
  t_trace_id = std::move(trace_id);
}

TraceScope::~TraceScope() { t_trace_id = std::move(previous_); }

const std::string& TraceScope::Current() { return t_trace_id; }

}  // namespace inkwell::core
