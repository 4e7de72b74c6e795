#include "templating/template_renderer.h"

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace inkwell::templating {
namespace {

using OpCode = CompiledTemplate::OpCode;

// mstch's html_escape: these six characters, and nothing else.
void AppendHtmlEscaped(std::string_view text, std::string& out) {
  std::size_t start = 0;
  for (std::size_t at = 0; at < text.size(); ++at) {
    std::string_view entity;
    switch (text[at]) {
      case '&': entity = "&amp;"; break;
      case '\'': entity = "&#39;"; break;
      case '"': entity = "&quot;"; break;
      case '<': entity = "&lt;"; break;
      case '>': entity = "&gt;"; break;
      case '/': entity = "&#x2F;"; break;
      default: continue;
    }
    out.append(text.substr(start, at - start));
    out.append(entity);
    start = at + 1;
  }
  out.append(text.substr(start));
}

// A JSON view as mstch saw it through the old conversion (numbers became their
// dump() text, null an empty string). nullptr is mstch's null node: what a
// missing name resolves to.
struct JsonValues {
  using Node = const nlohmann::json*;

  // mstch's has_token/get_token: an object has its keys; any other value has
  // only ".", itself.
  static bool Find(Node node, const std::string& key, Node& found) {
    if (node != nullptr && node->is_object()) {
      const auto item = node->find(key);
      if (item == node->end()) return false;
      found = &*item;
      return true;
    }
    if (key != ".") return false;
    found = node;
    return true;
  }
  static bool IsEmpty(Node node) {
    if (node == nullptr) return true;
    switch (node->type()) {
      case nlohmann::json::value_t::string: return node->get_ref<const std::string&>().empty();
      case nlohmann::json::value_t::boolean: return !node->get<bool>();
      case nlohmann::json::value_t::array: return node->empty();
      case nlohmann::json::value_t::object:
      case nlohmann::json::value_t::number_integer:
      case nlohmann::json::value_t::number_unsigned:
      case nlohmann::json::value_t::number_float: return false;
      case nlohmann::json::value_t::null:
      case nlohmann::json::value_t::binary:
      case nlohmann::json::value_t::discarded: break;
    }
    return true;
  }
  static void Append(Node node, bool is_escaped, std::string& out) {
    if (node == nullptr) return;
    switch (node->type()) {
      case nlohmann::json::value_t::string: {
        const auto& text = node->get_ref<const std::string&>();
        if (is_escaped) {
          AppendHtmlEscaped(text, out);
        } else {
          out.append(text);
        }
        return;
      }
      case nlohmann::json::value_t::boolean:
        out.append(node->get<bool>() ? "true" : "false");
        return;
      case nlohmann::json::value_t::number_integer:
      case nlohmann::json::value_t::number_unsigned:
      case nlohmann::json::value_t::number_float:
        out.append(node->dump());
        return;  // no escapable bytes
      case nlohmann::json::value_t::object:
      case nlohmann::json::value_t::array:
      case nlohmann::json::value_t::null:
      case nlohmann::json::value_t::binary:
      case nlohmann::json::value_t::discarded: return;
    }
  }
  // A list repeats the section once per item, each item (even a nested list) as
  // the context.
  template <typename Fn>
  static bool ForEachItem(Node node, Fn&& render_with) {
    if (node == nullptr || !node->is_array()) return render_with(node);
    for (const auto& item : *node) {
      if (!render_with(&item)) return false;
    }
    return true;
  }
};

// A flat map of strings: the root context, or one of its strings, or (neither)
// null.
struct StringMapValues {
  struct Node {
    const std::map<std::string, std::string>* map = nullptr;
    const std::string* text = nullptr;
  };

  static bool Find(Node node, const std::string& key, Node& found) {
    if (node.map != nullptr) {
      const auto item = node.map->find(key);
      if (item == node.map->end()) return false;
      found = Node{nullptr, &item->second};
      return true;
    }
    if (key != ".") return false;
    found = node;
    return true;
  }
  static bool IsEmpty(Node node) {
    if (node.map != nullptr) return false;
    return node.text == nullptr || node.text->empty();
  }
  static void Append(Node node, bool is_escaped, std::string& out) {
    if (node.text == nullptr) return;
    if (is_escaped) {
      AppendHtmlEscaped(*node.text, out);
    } else {
      out.append(*node.text);
    }
  }
  template <typename Fn>
  static bool ForEachItem(Node node, Fn&& render_with) {
    return render_with(node);
  }
};

template <typename Values>
class OpRenderer {
 public:
  using Node = typename Values::Node;

  OpRenderer(std::span<const CompiledTemplate> templates, Node root, std::string& out)
      : templates_(templates), out_(out) {
    stack_.reserve(16);
    stack_.push_back(root);
  }

  // Renders ops [begin, end) of `compiled`; false (and error_ set) past the
  // partial depth limit.
  bool Render(const CompiledTemplate& compiled, std::size_t begin, std::size_t end,
              std::string_view indent, int depth) {
    const auto& ops = compiled.ops();
    for (std::size_t at = begin; at < end; ++at) {
      const CompiledTemplate::Op& op = ops[at];
      switch (op.code) {
        case OpCode::kText: out_.append(compiled.TextOf(op)); break;
        case OpCode::kIndent: out_.append(indent); break;
        case OpCode::kEscaped: Values::Append(Resolve(compiled.NameOf(op)), true, out_); break;
        case OpCode::kRaw: Values::Append(Resolve(compiled.NameOf(op)), false, out_); break;
        case OpCode::kSection:
        case OpCode::kInverted:
          if (!RenderSection(compiled, at, indent, depth)) return false;
          at = op.end - 1;
          break;
        case OpCode::kPartial:
          if (op.partial < 0) break;  // a missing partial renders empty, as in mstch
          if (depth == kMaxPartialDepth) {
            error_ = "template " + compiled.name() + ": partials nested deeper than " +
                     std::to_string(kMaxPartialDepth) + " (a partial that includes itself?)";
            return false;
          }
          {
            const CompiledTemplate& partial = templates_[static_cast<std::size_t>(op.partial)];
            if (!Render(partial, 0, partial.ops().size(), compiled.TextOf(op), depth + 1))
              return false;
          }
          break;
      }
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool RenderSection(const CompiledTemplate& compiled, std::size_t at, std::string_view indent,
                     int depth) {
    const CompiledTemplate::Op& op = compiled.ops()[at];
    const Node node = Resolve(compiled.NameOf(op));
    const auto render_body = [&](Node context) {
      stack_.push_back(context);
      const bool is_rendered = Render(compiled, at + 1, op.end, indent, depth);
      stack_.pop_back();
      return is_rendered;
    };
    if (op.code == OpCode::kInverted) {
      // mstch pushes a null context for an inverted section, so {{.}} in it is
      // empty.
      return !Values::IsEmpty(node) || render_body(Node{});
    }
    return Values::IsEmpty(node) || Values::ForEachItem(node, render_body);
  }

  // mstch's find_node: the first segment from the innermost context outwards,
  // the rest inside it.
  Node Resolve(const CompiledTemplate::Name& name) const {
    Node node{};
    bool is_found = false;
    for (auto context = stack_.rbegin(); context != stack_.rend() && !is_found; ++context) {
      is_found = Values::Find(*context, name.segments.front(), node);
    }
    if (!is_found) return Node{};
    for (std::size_t segment = 1; segment < name.segments.size(); ++segment) {
      Node inner{};
      if (!Values::Find(node, name.segments[segment], inner)) return Node{};
      node = inner;
    }
    return node;
  }

  std::span<const CompiledTemplate> templates_;
  std::string& out_;
  std::vector<Node> stack_;
  std::string error_;
};

// A first guess at the output size: the template's text and that of the
// partials it includes.
std::size_t ExpectedSize(std::span<const CompiledTemplate> templates,
                         const CompiledTemplate& compiled) {
  std::size_t size = compiled.text_size();
  for (const auto& op : compiled.ops()) {
    if (op.code == OpCode::kPartial && op.partial >= 0) {
      size += templates[static_cast<std::size_t>(op.partial)].text_size();
    }
  }
  return size + size / 4 + 256;
}

template <typename Values>
core::Result<std::string> RenderWith(std::span<const CompiledTemplate> templates, std::size_t index,
                                     typename Values::Node root) {
  const CompiledTemplate& compiled = templates[index];
  std::string out;
  out.reserve(ExpectedSize(templates, compiled));
  OpRenderer<Values> renderer(templates, root, out);
  if (!renderer.Render(compiled, 0, compiled.ops().size(), {}, 0)) {
    return core::Fail(core::ErrorCode::kInvalidArgument, renderer.error());
  }
  return out;
}

}  // namespace

core::Result<std::string> RenderTemplate(std::span<const CompiledTemplate> templates,
                                         std::size_t index, const nlohmann::json& view) {
  return RenderWith<JsonValues>(templates, index, &view);
}

core::Result<std::string> RenderTemplate(std::span<const CompiledTemplate> templates,
                                         std::size_t index,
                                         const std::map<std::string, std::string>& values) {
  return RenderWith<StringMapValues>(templates, index, StringMapValues::Node{&values, nullptr});
}

}  // namespace inkwell::templating
