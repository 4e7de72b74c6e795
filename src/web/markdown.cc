#include "web/markdown.h"

#include <cmark.h>

#include <cstdlib>
#include <memory>

#include "core/utf8.h"

namespace inkwell::web {
namespace {

struct FreeDeleter {
  void operator()(char* text) const noexcept { std::free(text); }  // NOLINT: cmark's malloc
};

}  // namespace

std::string RenderMarkdown(std::string_view markdown) {
  // CMARK_OPT_SAFE is the default since cmark 0.29 (raw HTML needs CMARK_OPT_UNSAFE); say it
  // anyway. VALIDATE_UTF8 replaces bad sequences instead of passing them through.
  const int options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_SMART;
  std::unique_ptr<char, FreeDeleter> html(cmark_markdown_to_html(markdown.data(), markdown.size(), options));
  return html ? std::string(html.get()) : std::string();
}

std::string PlainExcerpt(std::string_view markdown, size_t max_characters) {
  const int options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
  cmark_node* document = cmark_parse_document(markdown.data(), markdown.size(), options);
  if (document == nullptr) return {};
  std::string text;
  cmark_iter* iter = cmark_iter_new(document);
  for (cmark_event_type event = cmark_iter_next(iter); event != CMARK_EVENT_DONE;
       event = cmark_iter_next(iter)) {
    cmark_node* node = cmark_iter_get_node(iter);
    const cmark_node_type type = cmark_node_get_type(node);
    if (event == CMARK_EVENT_ENTER &&
        (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE)) {
      if (const char* literal = cmark_node_get_literal(node)) text += literal;
    } else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK ||
               (event == CMARK_EVENT_EXIT && (type == CMARK_NODE_PARAGRAPH || type == CMARK_NODE_HEADING))) {
      if (!text.empty() && text.back() != ' ') text += ' ';
    }
    if (core::Utf8Length(text) > max_characters) break;
  }
  cmark_iter_free(iter);
  cmark_node_free(document);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (core::Utf8Length(text) > max_characters) {
    text = std::string(core::Utf8Prefix(text, max_characters)) + "…";
  }
  return text;
}

}  // namespace inkwell::web
