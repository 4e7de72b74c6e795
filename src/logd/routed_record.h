#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace inkwell::logd {

// One message body from the `logd` queue, decided: which file it goes to and the line written.
struct RoutedRecord {
  std::string service;  // sanitized (contracts::SanitizeServiceName), or "invalid"
  std::string line;     // one JSON object, no newline
  bool is_valid = true;
};

// A JSON object goes to the file of its "service" field ("unknown" if missing or not a
// string), stored as received unless it spans several lines (then re-serialized on one).
// Anything else (not JSON, not an object, invalid UTF-8) goes to "invalid" as a record of its
// own: {"time", "service":"invalid", "level":"warn", "message":"invalid log record",
// "fields":{"raw", "routing_key", "error"}} with the raw text escaped (bytes that are not
// UTF-8 also as "raw_hex"), so nothing is ever dropped. Never throws.
RoutedRecord RouteRecord(std::string_view body, std::string_view routing_key,
                         std::chrono::system_clock::time_point received_at);

}  // namespace inkwell::logd
