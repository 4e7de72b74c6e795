#include "core/traceparent.h"

#include <algorithm>

#include "core/ids.h"

namespace inkwell::core {
namespace {

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsValid(std::string_view text) {
  if (text.size() != 55 || text[2] != '-' || text[35] != '-' || text[52] != '-') return false;
  const std::string_view version = text.substr(0, 2);
  const std::string_view trace = text.substr(3, 32);
  const std::string_view parent = text.substr(36, 16);
  const std::string_view flags = text.substr(53, 2);
  return IsLowerHex(version) && version != "ff" && IsLowerHex(trace) &&
         trace.find_first_not_of('0') != std::string_view::npos && IsLowerHex(parent) &&
         parent.find_first_not_of('0') != std::string_view::npos && IsLowerHex(flags);
}

}  // namespace

std::string ContinueTrace(std::string_view incoming) {
  // Ids must be unique, not secret (W3C Trace Context): no system call per request.
  std::string traceparent;
  traceparent.reserve(55);
  traceparent += "00-";
  if (IsValid(incoming)) {
    traceparent += incoming.substr(3, 32);
  } else {
    AppendUniqueHex(traceparent, 16);
  }
  traceparent += '-';
  AppendUniqueHex(traceparent, 8);
  traceparent += "-01";
  return traceparent;
}

std::string TraceIdOf(std::string_view traceparent) {
  return IsValid(traceparent) ? std::string(traceparent.substr(3, 32)) : std::string();
}

}  // namespace inkwell::core
