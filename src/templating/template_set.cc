#include "templating/template_set.h"

#include <fstream>
#include <mstch/mstch.hpp>
#include <sstream>

namespace inkwell::templating {

core::Result<TemplateSet> TemplateSet::Load(const std::filesystem::path& folder) {
  TemplateSet set;
  std::error_code error;
  std::filesystem::recursive_directory_iterator files(folder, error);
  if (error) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "read templates from " + folder.string() + ": " + error.message() +
                          " (set INKWELL_TEMPLATE_DIR)");
  }
  for (const auto& entry : files) {
    if (!entry.is_regular_file() || entry.path().extension() != ".mustache") continue;
    std::ifstream file(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file) {
      return core::Fail(core::ErrorCode::kUnavailable, "read template " + entry.path().string());
    }
    auto name = std::filesystem::relative(entry.path(), folder).replace_extension("").string();
    set.templates_[name] = text.str();
  }
  if (set.templates_.empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "no *.mustache templates in " + folder.string() + " (set INKWELL_TEMPLATE_DIR)");
  }
  return set;
}

core::Result<std::string> TemplateSet::Render(const std::string& name,
                                              const TemplateValues& values) const {
  const auto found = templates_.find(name);
  if (found == templates_.end()) {
    return core::Fail(core::ErrorCode::kNotFound, "no template named '" + name + "'");
  }
  mstch::map context;
  for (const auto& [key, value] : values) context.emplace(key, value);
  try {
    return mstch::render(found->second, context, templates_);
  } catch (const std::exception& exception) {
    return core::Fail(core::ErrorCode::kInternal,
                      "render template " + name + ": " + exception.what());
  }
}

}  // namespace inkwell::templating
