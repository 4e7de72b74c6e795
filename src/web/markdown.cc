#include "web/markdown.h"

#include <cmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/utf8.h"

namespace inkwell::web {
namespace {

struct FreeDeleter {
  void operator()(char* text) const noexcept { std::free(text); }  // NOLINT: cmark's malloc
};

// Raw HTML in the source becomes text: the writer sees what they typed, escaped, instead of
// cmark's "raw HTML omitted" comment. An HTML block becomes a paragraph holding its text.
void HtmlToText(cmark_node* document) {
  std::vector<cmark_node*> raw;
  cmark_iter* iter = cmark_iter_new(document);
  for (cmark_event_type event = cmark_iter_next(iter); event != CMARK_EVENT_DONE;
       event = cmark_iter_next(iter)) {
    cmark_node* node = cmark_iter_get_node(iter);
    const cmark_node_type type = cmark_node_get_type(node);
    if (event == CMARK_EVENT_ENTER && (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE)) {
      raw.push_back(node);
    }
  }
  cmark_iter_free(iter);
  for (cmark_node* node : raw) {  // replaced after the walk, so the iterator never sees a change
    std::string literal = cmark_node_get_literal(node) ? cmark_node_get_literal(node) : "";
    cmark_node* text = cmark_node_new(CMARK_NODE_TEXT);
    if (cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK) {
      while (!literal.empty() && (literal.back() == '\n' || literal.back() == '\r')) literal.pop_back();
      cmark_node_set_literal(text, literal.c_str());
      cmark_node* paragraph = cmark_node_new(CMARK_NODE_PARAGRAPH);
      cmark_node_append_child(paragraph, text);
      cmark_node_replace(node, paragraph);
    } else {
      cmark_node_set_literal(text, literal.c_str());
      cmark_node_replace(node, text);
    }
    cmark_node_free(node);
  }
}

}  // namespace

std::string RenderMarkdown(std::string_view markdown) {
  // CMARK_OPT_SAFE (the default since cmark 0.29) also drops javascript:, vbscript:, file: and
  // data: link targets. VALIDATE_UTF8 replaces bad sequences instead of passing them through.
  const int options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_SMART;
  cmark_node* document = cmark_parse_document(markdown.data(), markdown.size(), options);
  if (document == nullptr) return {};
  HtmlToText(document);
  std::unique_ptr<char, FreeDeleter> html(cmark_render_html(document, options));
  cmark_node_free(document);
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
      // A heading ends a sentence in the excerpt: "Title. First words".
      const bool ends_heading = event == CMARK_EVENT_EXIT && type == CMARK_NODE_HEADING;
      if (ends_heading && !text.empty() && std::string_view(".!?:").find(text.back()) == std::string_view::npos) {
        text += '.';
      }
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
