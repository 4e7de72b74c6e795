#include "templating/template_set.h"

#include <fstream>
#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>
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
    return mstch::render(found->second, ToNode(view), templates_);
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
    return mstch::render(found->second, context, templates_);
  } catch (const std::exception& exception) {
    return core::Fail(core::ErrorCode::kInternal,
                      "render template " + name + ": " + exception.what());
  }
}

}  // namespace inkwell::templating
