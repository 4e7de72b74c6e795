#pragma once

#include <cstddef>
#include <string_view>

namespace inkwell::core {

// Length in bytes of the well-formed UTF-8 sequence at the start of text (1-4), or 0 if it is
// not well-formed (overlong forms, surrogates and code points above U+10FFFF are rejected).
size_t Utf8SequenceLength(std::string_view text);

// True if the whole of text is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// Number of code points in text, which must be valid UTF-8.
size_t Utf8Length(std::string_view text);

// The first max_code_points code points of text (valid UTF-8), never splitting a sequence.
std::string_view Utf8Prefix(std::string_view text, size_t max_code_points);

}  // namespace inkwell::core
