#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace inkwell::templating {

using TemplateValues = std::map<std::string, std::string>;

// Mustache templates loaded once from a folder: every *.mustache file under it,
// named by its path relative to the folder without the extension
// ("email/welcome.html"). {{name}} is HTML-escaped,
// {{{name}}} is not. Templates may include each other as partials ({{> name}}).
// Each is parsed once, at Load, and rendered from that parse with the output
// mstch 1.0.2 gives (see compiled_template.h). Immutable after Load, so safe to
// share between threads; copies share the parsed templates.
class TemplateSet {
 public:
  // kUnavailable if the folder cannot be read; kInvalidArgument if it holds no
  // template, or if a template is malformed ("template NAME line N: what is
  // wrong"): an unterminated tag, an unclosed or mismatched section, a
  // set-delimiter tag (not supported).
  static core::Result<TemplateSet> Load(const std::filesystem::path& folder);

  bool Contains(const std::string& name) const;
  // kNotFound for an unknown name; kInvalidArgument if partials nest deeper
  // than 64 (a partial including itself). A partial naming no template renders
  // empty.
  core::Result<std::string> Render(const std::string& name, const TemplateValues& values) const;
  // The same with a structured view: objects become mustache contexts, arrays
  // lists, booleans section switches, numbers their decimal text; null is empty
  // (and false in a section).
  core::Result<std::string> RenderView(const std::string& name, const nlohmann::json& view) const;

 private:
  struct Compiled;
  core::Result<std::size_t> IndexOf(const std::string& name) const;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace inkwell::templating
