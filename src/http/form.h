#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::http {

// Decodes %XX escapes and '+' (as a space). kInvalidArgument on a malformed escape.
core::Result<std::string> UrlDecode(std::string_view text);

// Parses application/x-www-form-urlencoded text (a POST body or a query string) into
// name → value. A repeated name keeps its first value. kInvalidArgument on a malformed escape.
core::Result<std::map<std::string, std::string>> ParseForm(std::string_view text);

// Percent-encodes text for a query string value.
std::string UrlEncode(std::string_view text);

}  // namespace inkwell::http
