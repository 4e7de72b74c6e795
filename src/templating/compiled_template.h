#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace inkwell::templating {

// One Mustache template parsed once into a flat list of operations, with the
// same meaning mstch 1.0.2 gives the text (mstch stays the test oracle:
// tests/unit/templating/mustache_oracle_test.cc). A section's body is the
// operations between it and its `end`, so rendering is a loop over the list
// with no re-tokenizing. Immutable once its partials are resolved, so safe to
// share between threads. Rendering lives in template_renderer.h.
class CompiledTemplate {
 public:
  enum class OpCode : std::uint8_t {
    kText,      // text_[begin, begin + size)
    kIndent,    // a line of a partial starts here: the indentation of the {{> tag
                // that included it
    kEscaped,   // {{name}}: names_[name], HTML-escaped
    kRaw,       // {{{name}}} or {{& name}}
    kSection,   // {{#name}}: body is ops_[index + 1, end)
    kInverted,  // {{^name}}
    kPartial,   // {{> name}}: template `partial` (or nothing if it is missing),
                // indented by text_[begin, begin + size) when the tag stood alone
                // on its line
  };
  struct Op {
    OpCode code = OpCode::kText;
    std::uint32_t begin = 0;
    std::uint32_t size = 0;
    std::uint32_t name = 0;
    std::uint32_t end = 0;
    std::int32_t partial = -1;
  };
  // A tag's name as mstch looks it up: the first segment up the context stack,
  // each further one in the value found so far. "a.b.c" is {"a", "b", "c"}; "."
  // is {"."}.
  struct Name {
    std::string text;
    std::vector<std::string> segments;
  };

  // Parses `text`. Fails with kInvalidArgument "template NAME line N: what is
  // wrong" for an unterminated tag, an unclosed, mismatched or stray section
  // end, an empty or brace-holding tag name, and set-delimiter tags ({{=<%
  // %>=}}), which are not supported. `name` is only used in those messages.
  static core::Result<CompiledTemplate> Compile(std::string_view name, std::string_view text);

  // Points each {{> name}} at the template `find(name)` returns (-1 for none:
  // renders empty).
  template <typename FindFn>
  void ResolvePartials(FindFn find) {
    for (Op& op : ops_) {
      if (op.code == OpCode::kPartial) op.partial = find(names_[op.name].text);
    }
  }

  const std::string& name() const { return name_; }
  const std::vector<Op>& ops() const { return ops_; }
  const Name& NameOf(const Op& op) const { return names_[op.name]; }
  std::string_view TextOf(const Op& op) const {
    return std::string_view(text_).substr(op.begin, op.size);
  }
  // Bytes of literal text: a first guess at the size of a rendering.
  std::size_t text_size() const { return text_.size(); }

 private:
  friend class TemplateCompiler;
  std::string name_;
  std::vector<Op> ops_;
  std::vector<Name> names_;
  std::string text_;  // literal text and partial indentation, referenced by the ops
};

}  // namespace inkwell::templating
