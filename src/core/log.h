#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace inkwell::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn"/"warning", "error"; false otherwise.
bool ParseLogLevel(std::string_view text, LogLevel& level);
std::string_view NameOf(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

// Where log records go besides stderr (the `logs` exchange, see amqp::LogPublisher). Offer must
// never block: a sink that cannot keep up drops and counts.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // routing_key is "<service>.<level>"; record is one JSON object without a newline.
  virtual void Offer(std::string routing_key, std::string record) noexcept = 0;
};

// Structured logging. Each record is one JSON object (docs/asyncapi.yaml, LogRecord):
//   {"time", "service", "instance", "level", "message", "trace_id"?, "fields": {...}}
// written to stderr as one line with one write(2) (lines never interleave), and offered to the
// sink if one is installed. Spans are records with "kind": "span", "duration_ms" and the span
// name as message; they mark one step of a traced request and go to the sink (and to stderr
// only at debug level). Thread-safe.
class Log {
 public:
  static void Init(std::string service, LogLevel min_level);
  // The sink must outlive its installation; pass nullptr to remove it before destroying it.
  static void SetSink(LogSink* sink);
  static bool Enabled(LogLevel level);
  static void Write(LogLevel level, std::string_view message,
                    std::initializer_list<LogField> fields = {});
  // One step of a trace: started at `start`, took `duration`. Nothing when trace_id is empty.
  static void Span(std::string_view name, std::string_view trace_id,
                   std::chrono::system_clock::time_point start,
                   std::chrono::steady_clock::duration duration,
                   std::initializer_list<LogField> fields = {});
  static const std::string& service();
  static const std::string& instance();
};

// Sets the trace id that this thread's log records carry, for the scope's lifetime.
class TraceScope {
 public:
  explicit TraceScope(std::string trace_id);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  static const std::string& Current();

 private:
  std::string previous_;
};

inline void LogDebug(std::string_view message, std::initializer_list<LogField> fields = {}) {
  if (Log::Enabled(LogLevel::kDebug)) Log::Write(LogLevel::kDebug, message, fields);
}
inline void LogInfo(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kInfo, message, fields);
}
inline void LogWarn(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kWarn, message, fields);
}
inline void LogError(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log::Write(LogLevel::kError, message, fields);
}

}  // namespace inkwell::core
