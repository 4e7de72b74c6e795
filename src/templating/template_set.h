#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace inkwell::templating {

using TemplateValues = std::map<std::string, std::string>;

// Mustache templates (mstch) loaded once from a folder: every *.mustache file under it, named by
// its path relative to the folder without the extension ("email/welcome.html"). {{name}} is
// HTML-escaped, {{{name}}} is not. Templates may include each other as partials ({{> name}}).
// Immutable after Load, so safe to share between threads.
class TemplateSet {
 public:
  // kUnavailable if the folder cannot be read; kInvalidArgument if it holds no template.
  static core::Result<TemplateSet> Load(const std::filesystem::path& folder);

  bool Contains(const std::string& name) const { return templates_.contains(name); }
  // kNotFound for an unknown name.
  core::Result<std::string> Render(const std::string& name, const TemplateValues& values) const;
  // The same with a structured view: objects become mustache contexts, arrays lists, booleans
  // section switches, numbers their decimal text; null is empty (and false in a section).
  core::Result<std::string> RenderView(const std::string& name, const nlohmann::json& view) const;

 private:
  static std::map<std::string, std::string> PartialsOf(const std::string& text,
                                                       const std::map<std::string, std::string>& templates);
  std::map<std::string, std::string> templates_;
  // For each template, the partials it includes, directly or through other partials: mstch
  // parses every partial it is given on every render, so each render gets only its own.
  std::map<std::string, std::map<std::string, std::string>> partials_;
};

}  // namespace inkwell::templating
