#pragma once

#include <string>
#include <string_view>

namespace inkwell::core {

// Appends text to out as the inside of a JSON string literal. Invalid UTF-8 bytes are
// replaced by U+FFFD so that a log line stays valid JSON whatever it quotes.
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace inkwell::core
