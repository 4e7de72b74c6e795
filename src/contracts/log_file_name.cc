#include "contracts/log_file_name.h"

#include <cstdio>
#include <ctime>

namespace inkwell::contracts {
namespace {

constexpr std::size_t kMaxServiceBytes = 64;
// "20261128T081011.123Z"
constexpr std::size_t kStampBytes = 20;

bool IsAllowed(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Number(std::string_view digits) {
  int value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

std::optional<std::chrono::system_clock::time_point> ParseStamp(std::string_view stamp) {
  if (stamp.size() != kStampBytes || stamp[8] != 'T' || stamp[15] != '.' || stamp[19] != 'Z' ||
      !IsDigits(stamp.substr(0, 8)) || !IsDigits(stamp.substr(9, 6)) ||
      !IsDigits(stamp.substr(16, 3))) {
    return std::nullopt;
  }
  std::tm utc{};
  utc.tm_year = Number(stamp.substr(0, 4)) - 1900;
  utc.tm_mon = Number(stamp.substr(4, 2)) - 1;
  utc.tm_mday = Number(stamp.substr(6, 2));
  utc.tm_hour = Number(stamp.substr(9, 2));
  utc.tm_min = Number(stamp.substr(11, 2));
  utc.tm_sec = Number(stamp.substr(13, 2));
  if (utc.tm_mon > 11 || utc.tm_mday < 1 || utc.tm_mday > 31 || utc.tm_hour > 23 ||
      utc.tm_min > 59 || utc.tm_sec > 60) {
    return std::nullopt;
  }
  const std::time_t seconds = timegm(&utc);
  return std::chrono::system_clock::from_time_t(seconds) +
         std::chrono::milliseconds(Number(stamp.substr(16, 3)));
}

}  // namespace

std::string SanitizeServiceName(std::string_view service) {
  if (service.empty()) return "unknown";
  std::string name(service.substr(0, kMaxServiceBytes));
  for (char& c : name) {
    if (!IsAllowed(c)) c = '_';
  }
  if (name.front() == '.') name.front() = '_';
  return name;
}

std::string CurrentLogFileName(std::string_view service) {
  return std::string(service) + std::string(kLogFileExtension);
}

std::string RotatedLogFileName(std::string_view service,
                               std::chrono::system_clock::time_point rotated_at) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(rotated_at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  const std::size_t length = std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis % 1000));
  return std::string(service) + "-" + std::string(stamp, length) + fraction +
         std::string(kLogFileExtension);
}

std::optional<LogFileName> ParseLogFileName(std::string_view file_name) {
  if (!file_name.ends_with(kLogFileExtension)) return std::nullopt;
  const std::string_view stem = file_name.substr(0, file_name.size() - kLogFileExtension.size());
  if (stem.empty()) return std::nullopt;
  for (const char c : stem) {
    if (!IsAllowed(c)) return std::nullopt;
  }
  if (stem.size() > kStampBytes + 1 && stem[stem.size() - kStampBytes - 1] == '-') {
    if (auto rotated_at = ParseStamp(stem.substr(stem.size() - kStampBytes))) {
      return LogFileName{std::string(stem.substr(0, stem.size() - kStampBytes - 1)), rotated_at};
    }
  }
  return LogFileName{std::string(stem), std::nullopt};
}

}  // namespace inkwell::contracts
