#include "templating/template_set.h"

#include <fstream>
#include <iterator>
#include <vector>

#include <nlohmann/json.hpp>

#include "templating/compiled_template.h"
#include "templating/template_renderer.h"

namespace inkwell::templating {

struct TemplateSet::Compiled {
  std::vector<CompiledTemplate> templates;
  std::map<std::string, std::size_t, std::less<>> index;  // name -> position in templates
};

core::Result<TemplateSet> TemplateSet::Load(const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::recursive_directory_iterator files(folder, error);
  if (error) {
    return core::Fail(core::ErrorCode::kUnavailable, "read templates from " + folder.string() +
                                                         ": " + error.message() +
                                                         " (set INKWELL_TEMPLATE_DIR)");
  }
  std::map<std::string, std::string> texts;
  for (const auto& entry : files) {
    if (!entry.is_regular_file() || entry.path().extension() != ".mustache") continue;
    std::ifstream file(entry.path(), std::ios::binary);
    if (!file)
      return core::Fail(core::ErrorCode::kUnavailable, "read template " + entry.path().string());
    std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    if (file.bad()) {
      return core::Fail(core::ErrorCode::kUnavailable, "read template " + entry.path().string());
    }
    auto name = std::filesystem::relative(entry.path(), folder).replace_extension("").string();
    texts[name] = std::move(text);
  }
  if (texts.empty()) {
    return core::Fail(
        core::ErrorCode::kInvalidArgument,
        "no *.mustache templates in " + folder.string() + " (set INKWELL_TEMPLATE_DIR)");
  }
  auto compiled = std::make_shared<Compiled>();
  for (const auto& [name, text] : texts) {
    auto parsed = CompiledTemplate::Compile(name, text);
    if (!parsed) return tl::unexpected(parsed.error());
    compiled->index.emplace(name, compiled->templates.size());
    compiled->templates.push_back(std::move(*parsed));
  }
  for (auto& parsed : compiled->templates) {
    parsed.ResolvePartials([&](const std::string& name) {
      const auto found = compiled->index.find(name);
      return found == compiled->index.end() ? -1 : static_cast<int>(found->second);
    });
  }
  TemplateSet set;
  set.compiled_ = std::move(compiled);
  return set;
}

bool TemplateSet::Contains(const std::string& name) const {
  return compiled_ != nullptr && compiled_->index.contains(name);
}

core::Result<std::size_t> TemplateSet::IndexOf(const std::string& name) const {
  if (compiled_ != nullptr) {
    if (const auto found = compiled_->index.find(name); found != compiled_->index.end()) {
      return found->second;
    }
  }
  return core::Fail(core::ErrorCode::kNotFound, "no template named '" + name + "'");
}

core::Result<std::string> TemplateSet::RenderView(const std::string& name,
                                                  const nlohmann::json& view) const {
  const auto index = IndexOf(name);
  if (!index) return tl::unexpected(index.error());
  return RenderTemplate(compiled_->templates, *index, view);
}

core::Result<std::string> TemplateSet::Render(const std::string& name,
                                              const TemplateValues& values) const {
  const auto index = IndexOf(name);
  if (!index) return tl::unexpected(index.error());
  return RenderTemplate(compiled_->templates, *index, values);
}

}  // namespace inkwell::templating
