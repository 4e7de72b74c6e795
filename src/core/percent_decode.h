#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace inkwell::core {

// Decodes %XX escapes (hex digits in either case), and '+' as a space when plus_is_space (form
// data). nullopt on a malformed escape: a '%' not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);

}  // namespace inkwell::core
