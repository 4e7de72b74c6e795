#include "templating/template_set.h"

#include <fstream>
#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

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
  for (const auto& [name, text] : set.templates_) {
    set.partials_[name] = PartialsOf(text, set.templates_);
  }
  if (set.templates_.empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "no *.mustache templates in " + folder.string() + " (set INKWELL_TEMPLATE_DIR)");
  }
  return set;
}

namespace {

// Names in "{{> name}}" tags of text.
std::vector<std::string> PartialNames(const std::string& text) {
  std::vector<std::string> names;
  for (std::size_t at = text.find("{{>"); at != std::string::npos; at = text.find("{{>", at + 3)) {
    const std::size_t end = text.find("}}", at + 3);
    if (end == std::string::npos) break;
    std::string name = text.substr(at + 3, end - at - 3);
    const std::size_t first = name.find_first_not_of(" \t");
    const std::size_t last = name.find_last_not_of(" \t");
    if (first != std::string::npos) names.push_back(name.substr(first, last - first + 1));
  }
  return names;
}

}  // namespace

std::map<std::string, std::string> TemplateSet::PartialsOf(
    const std::string& text, const std::map<std::string, std::string>& templates) {
  std::map<std::string, std::string> partials;
  std::vector<std::string> pending = PartialNames(text);
  while (!pending.empty()) {  // transitively; a cycle ends because each name is taken once
    const std::string name = pending.back();
    pending.pop_back();
    const auto found = templates.find(name);
    if (found == templates.end() || partials.contains(name)) continue;
    partials.emplace(name, found->second);
    for (std::string& nested : PartialNames(found->second)) pending.push_back(std::move(nested));
  }
  return partials;
}

namespace {

mstch::node ToNode(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      mstch::map map;
      for (const auto& [key, item] : value.items()) map.emplace(key, ToNode(item));
      return map;
    }
    case nlohmann::json::value_t::array: {
      mstch::array array;
      array.reserve(value.size());
      for (const auto& item : value) array.push_back(ToNode(item));
      return array;
    }
    case nlohmann::json::value_t::string: return value.get<std::string>();
    case nlohmann::json::value_t::boolean: return value.get<bool>();
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return value.dump();
    default: return std::string();  // null, binary, discarded: empty, and false in a section
  }
}

}  // namespace

core::Result<std::string> TemplateSet::RenderView(const std::string& name,
                                                  const nlohmann::json& view) const {
  const auto found = templates_.find(name);
  if (found == templates_.end()) {
    return core::Fail(core::ErrorCode::kNotFound, "no template named '" + name + "'");
  }
  try {
    return mstch::render(found->second, ToNode(view), partials_.at(name));
  } catch (const std::exception& exception) {
    return core::Fail(core::ErrorCode::kInternal,
                      "render template " + name + ": " + exception.what());
  }
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
    return mstch::render(found->second, context, partials_.at(name));
  } catch (const std::exception& exception) {
    return core::Fail(core::ErrorCode::kInternal,
                      "render template " + name + ": " + exception.what());
  }
}

}  // namespace inkwell::templating
