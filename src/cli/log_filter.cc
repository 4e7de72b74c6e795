#include "cli/log_filter.h"

#include <algorithm>
#include <cctype>

#include "core/traceparent.h"

namespace inkwell::cli {
namespace {

core::LogLevel LevelOf(const LogRecord& record) {
  core::LogLevel level = core::LogLevel::kInfo;
  if (!core::ParseLogLevel(record.level, level)) return core::LogLevel::kInfo;
  return level;
}

bool IsTraceId(std::string_view text) {
  return text.size() == 32 &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }) &&
         text != std::string(32, '0');
}

}  // namespace

bool Matches(const LogFilter& filter, const LogRecord& record) {
  if (!filter.services.empty() && std::find(filter.services.begin(), filter.services.end(),
                                            record.service) == filter.services.end()) {
    return false;
  }
  if (LevelOf(record) < filter.min_level) return false;
  if (filter.since && record.time < *filter.since) return false;
  if (filter.until && record.time > *filter.until) return false;
  if (!filter.trace_id.empty() && record.trace_id != filter.trace_id) return false;
  if (filter.is_spans_only && record.kind != "span") return false;
  return true;
}

core::Result<std::chrono::system_clock::time_point> ParseTimeBound(
    std::string_view text, std::chrono::system_clock::time_point now) {
  if (auto absolute = ParseRfc3339(text)) return *absolute;
  const auto invalid = [&] {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "'" + std::string(text) +
                          "' is neither an RFC 3339 time nor a duration like 90s, 10m, 2h, 7d");
  };
  if (text.empty()) return invalid();
  std::chrono::seconds total{0};
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t first = at;
    long long amount = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) != 0) {
      amount = amount * 10 + (text[at] - '0');
      if (amount > 100'000'000) return invalid();
      ++at;
    }
    if (at == first || at == text.size()) return invalid();
    switch (text[at]) {
      case 's': total += std::chrono::seconds(amount); break;
      case 'm': total += std::chrono::minutes(amount); break;
      case 'h': total += std::chrono::hours(amount); break;
      case 'd': total += std::chrono::hours(24 * amount); break;
      default: return invalid();
    }
    ++at;
  }
  return now - total;
}

core::Result<std::string> ParseTraceId(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (IsTraceId(lower)) return lower;
  std::string from_traceparent = core::TraceIdOf(lower);
  if (!from_traceparent.empty()) return from_traceparent;
  return core::Fail(core::ErrorCode::kInvalidArgument,
                    "'" + std::string(text) +
                        "' is not a trace id (32 hex digits) or a traceparent (00-<trace id>-<span "
                        "id>-<flags>)");
}

}  // namespace inkwell::cli
