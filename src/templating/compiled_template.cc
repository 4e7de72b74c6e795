#include "templating/compiled_template.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace inkwell::templating {

// Parsing follows mstch 1.0.2 step by step, because the output must match it
// byte for byte:
// 1. Tokenize: tags between "{{" and "}}", and text cut after every '\n'. Only
// ' ' counts as
//    space inside a tag (a tab is part of the name, as in mstch).
// 2. Strip standalone lines: a line (tokens up to one ending in '\n', or a tag
// ending the
//    template) holding a section, inverted, end, comment or partial tag and
//    otherwise only whitespace text loses all its whitespace text, newline
//    included. A partial right after whitespace on such a line is indented by
//    that whitespace.
// 3. Emit operations, with a kIndent before every token that starts a line:
// mstch writes a
//    partial's indentation there (inside a section body when the token is its
//    end tag).
// Unlike mstch, malformed text is refused instead of being rendered somehow.
class TemplateCompiler {
 public:
  TemplateCompiler(std::string_view name, std::string_view text) : name_(name), text_(text) {}

  core::Result<CompiledTemplate> Compile() {
    if (auto tokenized = Tokenize(); !tokenized) return tl::unexpected(tokenized.error());
    StripStandaloneLines();
    if (auto emitted = Emit(); !emitted) return tl::unexpected(emitted.error());
    result_.name_ = std::string(name_);
    return std::move(result_);
  }

 private:
  enum class TokenType {
    kText,
    kVariable,
    kUnescaped,
    kSection,
    kInverted,
    kEnd,
    kComment,
    kPartial
  };
  struct Token {
    TokenType type = TokenType::kText;
    std::string_view text;       // kText: the text; a tag: its name
    bool is_eol = false;         // text ending in '\n', or the empty text after a final tag
    bool is_whitespace = false;  // text of only " \r\n\t" (or empty)
    std::size_t line = 0;
    std::string_view indent;  // kPartial on a standalone line: the whitespace before it
  };
  static constexpr std::size_t kMaxSectionDepth = 64;

  tl::unexpected<core::Error> Fail(std::size_t line, const std::string& what) const {
    return core::Fail(
        core::ErrorCode::kInvalidArgument,
        "template " + std::string(name_) + " line " + std::to_string(line) + ": " + what);
  }

  void AddText(std::size_t begin, std::size_t end) {
    std::size_t start = begin;
    for (std::size_t at = begin; at < end; ++at) {
      if (text_[at] != '\n' && at != end - 1) continue;
      Token token;
      token.text = text_.substr(start, at + 1 - start);
      token.is_eol = text_[at] == '\n';
      token.is_whitespace = token.text.find_first_not_of(" \r\n\t") == std::string_view::npos;
      tokens_.push_back(token);
      start = at + 1;
    }
  }

  core::Result<void> Tokenize() {
    std::size_t line = 1;
    std::size_t counted = 0;  // newlines before `counted` are in `line`
    const auto line_at = [&](std::size_t position) {
      line += static_cast<std::size_t>(
          std::count(text_.begin() + static_cast<std::ptrdiff_t>(counted),
                     text_.begin() + static_cast<std::ptrdiff_t>(position), '\n'));
      counted = position;
      return line;
    };
    for (std::size_t current = 0; current < text_.size();) {
      const std::size_t open = text_.find("{{", current);
      if (open == std::string_view::npos) {
        AddText(current, text_.size());
        break;
      }
      std::size_t close = text_.find("}}", open + 1);
      if (close == std::string_view::npos)
        return Fail(line_at(open), "unterminated tag: '{{' without '}}'");
      if (text_.find("{{", open + 2) < close) {
        return Fail(line_at(open), "unterminated tag: '{{' again before '}}'");
      }
      if (text_[open + 2] == '{' && close + 2 < text_.size() && text_[close + 2] == '}') ++close;
      AddText(current, open);
      auto tag = ParseTag(text_.substr(open + 2, close - open - 2), line_at(open));
      if (!tag) return tl::unexpected(tag.error());
      tokens_.push_back(*tag);
      current = close + 2;
      if (current == text_.size())
        tokens_.push_back(Token{TokenType::kText, {}, true, true, 0, {}});
    }
    return {};
  }

  // `content` is what stands between "{{" and "}}" (for "{{{x}}}", "{x}").
  core::Result<Token> ParseTag(std::string_view content, std::size_t line) const {
    Token token;
    token.line = line;
    if (!content.empty() && content.front() == '=' && content.back() == '=') {
      return Fail(line, "set-delimiter tags ({{=<% %>=}}) are not supported");
    }
    std::size_t first = content.find_first_not_of(' ');
    const std::size_t last = content.find_last_not_of(' ');
    if (!content.empty() && content.front() == '{' && content.back() == '}') {
      token.type = TokenType::kUnescaped;
      token.text = TrimSpaces(content.substr(1, content.size() - 2));
    } else if (first == std::string_view::npos) {
      return Fail(line, "empty tag");
    } else {
      token.type = TypeOfSigil(content[first]);
      if (token.type != TokenType::kVariable) first = content.find_first_not_of(' ', first + 1);
      if (token.type == TokenType::kComment) return token;
      if (first != std::string_view::npos) token.text = content.substr(first, last + 1 - first);
    }
    if (token.text.empty()) return Fail(line, "tag without a name");
    if (token.text.find_first_of("{}") != std::string_view::npos) {
      return Fail(line, "stray brace in tag name '" + std::string(token.text) + "'");
    }
    if (token.text.front() == '=') {
      return Fail(line, "set-delimiter tags ({{=<% %>=}}) are not supported");
    }
    return token;
  }

  static std::string_view TrimSpaces(std::string_view text) {
    const std::size_t first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(' ') + 1 - first);
  }

  static TokenType TypeOfSigil(char sigil) {
    switch (sigil) {
      case '>': return TokenType::kPartial;
      case '^': return TokenType::kInverted;
      case '/': return TokenType::kEnd;
      case '&': return TokenType::kUnescaped;
      case '#': return TokenType::kSection;
      case '!': return TokenType::kComment;
      default: return TokenType::kVariable;
    }
  }

  static bool IsStandaloneKind(TokenType type) {
    return type != TokenType::kText && type != TokenType::kVariable &&
           type != TokenType::kUnescaped;
  }

  void StripStandaloneLines() {
    std::vector<Token> kept;
    kept.reserve(tokens_.size());
    std::size_t line_begin = 0;
    bool has_tag = false;
    bool has_content = false;
    for (std::size_t at = 0; at < tokens_.size(); ++at) {
      const Token& token = tokens_[at];
      if (IsStandaloneKind(token.type)) {
        has_tag = true;
      } else if (token.type != TokenType::kText || !token.is_whitespace) {
        has_content = true;
      }
      if (!token.is_eol) continue;
      const bool is_standalone = has_tag && !has_content;
      for (std::size_t in_line = line_begin; in_line <= at; ++in_line) {
        Token kept_token = tokens_[in_line];
        if (is_standalone && kept_token.type == TokenType::kText && kept_token.is_whitespace)
          continue;
        if (is_standalone && kept_token.type == TokenType::kPartial && in_line != line_begin &&
            tokens_[in_line - 1].type == TokenType::kText && tokens_[in_line - 1].is_whitespace) {
          kept_token.indent = tokens_[in_line - 1].text;
        }
        kept.push_back(kept_token);
      }
      line_begin = at + 1;
      has_tag = has_content = false;
    }
    kept.insert(kept.end(), tokens_.begin() + static_cast<std::ptrdiff_t>(line_begin),
                tokens_.end());
    tokens_ = std::move(kept);
  }

  std::uint32_t StoreText(std::string_view text) {
    const auto begin = static_cast<std::uint32_t>(result_.text_.size());
    result_.text_.append(text);
    return begin;
  }

  std::uint32_t InternName(std::string_view text) {
    auto& names = result_.names_;
    const auto found =
        std::find_if(names.begin(), names.end(),
                     [&](const CompiledTemplate::Name& name) { return name.text == text; });
    if (found != names.end()) return static_cast<std::uint32_t>(found - names.begin());
    CompiledTemplate::Name name;
    name.text = std::string(text);
    // mstch splits "a.b.c" at its last dot, recursively, except that a leading
    // "." alone is the current value: "..a" is {".", "a"}, ".a" is {"", "a"},
    // "a." is {"a", ""}.
    for (std::size_t from = 0;;) {
      const std::size_t dot = text.find('.', from);
      name.segments.emplace_back(
          text.substr(from, dot == std::string_view::npos ? dot : dot - from));
      if (dot == std::string_view::npos) break;
      from = dot + 1;
    }
    if (name.segments.size() >= 2 && name.segments[0].empty() && name.segments[1].empty()) {
      name.segments.erase(name.segments.begin());
      name.segments[0] = ".";
    }
    names.push_back(std::move(name));
    return static_cast<std::uint32_t>(names.size() - 1);
  }

  void AddOp(CompiledTemplate::OpCode code, std::uint32_t begin, std::uint32_t size,
             std::uint32_t name) {
    CompiledTemplate::Op op;
    op.code = code;
    op.begin = begin;
    op.size = size;
    op.name = name;
    result_.ops_.push_back(op);
  }

  void AddTextOp(std::string_view text) {
    auto& ops = result_.ops_;
    // Adjacent text becomes one operation: the pool is appended in order, so it
    // stays contiguous. Never across a section's end: the text after it is
    // outside the body.
    if (ops.size() > body_end_ && ops.back().code == CompiledTemplate::OpCode::kText &&
        ops.back().begin + ops.back().size == result_.text_.size()) {
      StoreText(text);
      ops.back().size += static_cast<std::uint32_t>(text.size());
      return;
    }
    AddOp(CompiledTemplate::OpCode::kText, StoreText(text), static_cast<std::uint32_t>(text.size()),
          0);
  }

  core::Result<void> Emit() {
    using OpCode = CompiledTemplate::OpCode;
    struct OpenSection {
      std::size_t op;
      std::string_view name;
      std::size_t line;
    };
    std::vector<OpenSection> open;
    bool is_line_start = true;
    for (const Token& token : tokens_) {
      if (is_line_start) AddOp(OpCode::kIndent, 0, 0, 0);
      is_line_start = token.is_eol;
      switch (token.type) {
        case TokenType::kText:
          if (!token.text.empty()) AddTextOp(token.text);
          break;
        case TokenType::kVariable: AddOp(OpCode::kEscaped, 0, 0, InternName(token.text)); break;
        case TokenType::kUnescaped: AddOp(OpCode::kRaw, 0, 0, InternName(token.text)); break;
        case TokenType::kSection:
        case TokenType::kInverted:
          if (open.size() == kMaxSectionDepth) return Fail(token.line, "sections nested too deep");
          open.push_back(OpenSection{result_.ops_.size(), token.text, token.line});
          AddOp(token.type == TokenType::kSection ? OpCode::kSection : OpCode::kInverted, 0, 0,
                InternName(token.text));
          break;
        case TokenType::kEnd:
          if (open.empty())
            return Fail(token.line,
                        "end tag {{/" + std::string(token.text) + "}} without a section");
          if (open.back().name != token.text) {
            return Fail(token.line, "end tag {{/" + std::string(token.text) +
                                        "}} closes section '" + std::string(open.back().name) +
                                        "' opened on line " + std::to_string(open.back().line));
          }
          body_end_ = result_.ops_.size();
          result_.ops_[open.back().op].end = static_cast<std::uint32_t>(body_end_);
          open.pop_back();
          break;
        case TokenType::kPartial:
          AddOp(OpCode::kPartial, StoreText(token.indent),
                static_cast<std::uint32_t>(token.indent.size()), InternName(token.text));
          break;
        case TokenType::kComment: break;
      }
    }
    if (!open.empty()) {
      return Fail(open.back().line,
                  "section '" + std::string(open.back().name) + "' is never closed");
    }
    return {};
  }

  std::string_view name_;
  std::string_view text_;
  std::vector<Token> tokens_;
  CompiledTemplate result_;
  std::size_t body_end_ = 0;  // ops before this may not grow: a section ends after them
};

core::Result<CompiledTemplate> CompiledTemplate::Compile(std::string_view name,
                                                         std::string_view text) {
  return TemplateCompiler(name, text).Compile();
}

}  // namespace inkwell::templating
