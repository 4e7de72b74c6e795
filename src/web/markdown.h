#pragma once

#include <string>
#include <string_view>

namespace inkwell::web {

// CommonMark to HTML with cmark in safe mode: raw HTML in the source is shown as escaped text
// and javascript:/vbscript:/file:/data: link targets are dropped, so the output can be put into
// a page as is. Invalid UTF-8 is replaced (U+FFFD). Never fails.
std::string RenderMarkdown(std::string_view markdown);
// The first `max_characters` of the text a reader sees, without markup (for listings).
std::string PlainExcerpt(std::string_view markdown, size_t max_characters);

}  // namespace inkwell::web
