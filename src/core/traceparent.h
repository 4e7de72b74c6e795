#pragma once

#include <string>
#include <string_view>

namespace inkwell::core {

// W3C Trace Context: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
// Continues a valid incoming traceparent (same trace id, a new span id) or starts a new trace.
std::string ContinueTrace(std::string_view incoming);
// The trace id part of a traceparent, or empty if it is malformed.
std::string TraceIdOf(std::string_view traceparent);

}  // namespace inkwell::core
