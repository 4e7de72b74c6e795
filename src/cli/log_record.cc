#include "cli/log_record.h"

#include <ctime>
#include <exception>

#include <nlohmann/json.hpp>

namespace inkwell::cli {
namespace {

std::string StringOr(const nlohmann::ordered_json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end()) return {};
  return found->is_string() ? found->get<std::string>() : found->dump();
}

bool ReadNumber(std::string_view text, std::size_t& at, std::size_t digits, int& value) {
  if (at + digits > text.size()) return false;
  value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  at += digits;
  return true;
}

bool Expect(std::string_view text, std::size_t& at, std::string_view choices) {
  if (at >= text.size() || choices.find(text[at]) == std::string_view::npos) return false;
  ++at;
  return true;
}

}  // namespace

std::string LogRecord::Field(std::string_view key) const {
  for (const auto& [name, value] : fields) {
    if (name == key) return value;
  }
  return {};
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  std::tm utc{};
  std::size_t at = 0;
  if (!ReadNumber(text, at, 4, utc.tm_year) || !Expect(text, at, "-") ||
      !ReadNumber(text, at, 2, utc.tm_mon) || !Expect(text, at, "-") ||
      !ReadNumber(text, at, 2, utc.tm_mday) || !Expect(text, at, "Tt ") ||
      !ReadNumber(text, at, 2, utc.tm_hour) || !Expect(text, at, ":") ||
      !ReadNumber(text, at, 2, utc.tm_min) || !Expect(text, at, ":") ||
      !ReadNumber(text, at, 2, utc.tm_sec)) {
    return std::nullopt;
  }
  if (utc.tm_mon < 1 || utc.tm_mon > 12 || utc.tm_mday < 1 || utc.tm_mday > 31 ||
      utc.tm_hour > 23 || utc.tm_min > 59 || utc.tm_sec > 60) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  std::chrono::nanoseconds fraction{0};
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::int64_t scale = 100'000'000;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      fraction += std::chrono::nanoseconds((text[at] - '0') * scale);
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::chrono::seconds offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    ++at;
    int hours = 0;
    int minutes = 0;
    if (!ReadNumber(text, at, 2, hours) || !Expect(text, at, ":") ||
        !ReadNumber(text, at, 2, minutes) || hours > 23 || minutes > 59) {
      return std::nullopt;
    }
    offset = std::chrono::seconds(sign * (hours * 3600 + minutes * 60));
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const auto local = std::chrono::system_clock::from_time_t(timegm(&utc)) +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
  return local - offset;
}

std::optional<LogRecord> ParseLogRecord(std::string_view line) {
  try {
    const nlohmann::ordered_json object = nlohmann::ordered_json::parse(line);
    if (!object.is_object()) return std::nullopt;
    LogRecord record;
    record.time_text = StringOr(object, "time");
    record.time = ParseRfc3339(record.time_text).value_or(std::chrono::system_clock::time_point{});
    record.service = StringOr(object, "service");
    record.instance = StringOr(object, "instance");
    record.level = StringOr(object, "level");
    record.message = StringOr(object, "message");
    record.trace_id = StringOr(object, "trace_id");
    record.kind = StringOr(object, "kind");
    if (const auto duration = object.find("duration_ms");
        duration != object.end() && duration->is_number()) {
      record.duration_ms = duration->get<double>();
    }
    if (const auto fields = object.find("fields"); fields != object.end() && fields->is_object()) {
      for (const auto& [key, value] : fields->items()) {
        record.fields.emplace_back(key,
                                   value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    record.raw = std::string(line);
    return record;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace inkwell::cli
