#include "logd/routed_record.h"

#include <ctime>
#include <exception>

#include <nlohmann/json.hpp>

#include "contracts/log_file_name.h"
#include "core/json_escape.h"
#include "core/utf8.h"

namespace inkwell::logd {
namespace {

std::string Timestamp(std::chrono::system_clock::time_point when) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(text, length) + "." + std::to_string(1000 + millis % 1000).substr(1) + "Z";
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  core::AppendJsonEscaped(out, key);
  out += "\":\"";
  core::AppendJsonEscaped(out, value);
  out += '"';
}

RoutedRecord Invalid(std::string_view body, std::string_view routing_key, std::string_view error,
                     std::chrono::system_clock::time_point received_at) {
  std::string line = "{\"time\":\"" + Timestamp(received_at) + "\",\"service\":\"" +
                     std::string(contracts::kInvalidService) +
                     "\",\"level\":\"warn\",\"message\":\"invalid log record\",\"fields\":{";
  AppendField(line, "raw", body);
  line += ',';
  // The escaped text replaces bytes that are not UTF-8; the hex keeps every byte.
  if (!core::IsValidUtf8(body)) {
    AppendField(line, "raw_hex", Hex(body));
    line += ',';
  }
  AppendField(line, "routing_key", routing_key);
  line += ',';
  AppendField(line, "error", error);
  line += "}}";
  return RoutedRecord{std::string(contracts::kInvalidService), std::move(line), false};
}

}  // namespace

RoutedRecord RouteRecord(std::string_view body, std::string_view routing_key,
                         std::chrono::system_clock::time_point received_at) {
  try {
    const nlohmann::json record = nlohmann::json::parse(body);
    if (!record.is_object()) {
      return Invalid(body, routing_key, "not a JSON object", received_at);
    }
    const auto service = record.find("service");
    const std::string name = service != record.end() && service->is_string()
                                 ? contracts::SanitizeServiceName(service->get<std::string>())
                                 : std::string("unknown");
    const bool is_one_line = body.find_first_of("\r\n") == std::string_view::npos;
    return RoutedRecord{name, is_one_line ? std::string(body) : record.dump(), true};
  } catch (const std::exception& error) {
    return Invalid(body, routing_key, error.what(), received_at);
  }
}

}  // namespace inkwell::logd
