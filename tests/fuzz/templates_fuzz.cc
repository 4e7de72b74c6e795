// Fuzz target, differential: our compiled Mustache renderer against mstch 1.0.2
// (the library it replaced). The input is NUL-separated: the template "t", a
// JSON view (when it does not parse, a fixed view with every kind of value),
// then up to four partials "p0".."p3". For every template we load, both must
// render the same bytes; any difference aborts. Left out of the comparison, and
// why:
// - templates we refuse at load (mstch renders malformed text somehow; refusing
// is the point);
// - renders we stop at the partial depth limit (mstch recurses until the stack
// overflows);
// - renders where mstch throws: "{{! }}" (a comment of only spaces) makes it
// build a string from
//   a reversed range (std::length_error); we render the comment as nothing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>

#include "templating/compiled_template.h"
#include "templating/template_renderer.h"
#include "../support/mstch_view.h"

namespace {

using Json = nlohmann::json;
using inkwell::templating::CompiledTemplate;

const Json& DefaultView() {
  static const Json view = Json::parse(R"({
    "a": "<A&'\"/>", "b": true, "c": false, "d": "", "e": null, "n": 0, "f": 2.5,
    "l": [{"a": "one", "x": [1, 2]}, {"b": false}, "s", [true, ""], []],
    "o": {"a": "inner", "o": {"a": "deep", "": "blank"}, "l": []},
    "x": [[["x"]]], "": "root-blank", ".": "dot-key"
  })");
  return view;
}

void Mismatch(const char* what, const std::string& ours, const std::string& theirs) {
  std::fprintf(stderr, "%s mismatch\n--- ours ---\n%s\n--- mstch ---\n%s\n", what, ours.c_str(),
               theirs.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (std::size_t from = 0; parts.size() < 6;) {
    const std::size_t nul = input.find('\0', from);
    parts.emplace_back(input.substr(from, nul == std::string_view::npos ? nul : nul - from));
    if (nul == std::string_view::npos) break;
    from = nul + 1;
  }
  std::map<std::string, std::string> texts{{"t", parts[0]}};
  for (std::size_t part = 2; part < parts.size(); ++part)
    texts["p" + std::to_string(part - 2)] = parts[part];
  Json view =
      parts.size() > 1 ? Json::parse(parts[1], nullptr, false) : Json(Json::value_t::discarded);
  if (view.is_discarded()) view = DefaultView();

  std::vector<CompiledTemplate> templates;
  std::map<std::string, int> index;
  for (const auto& [name, text] : texts) {
    auto compiled = CompiledTemplate::Compile(name, text);
    if (!compiled) {
      if (name == "t") return 0;
      continue;  // a malformed partial is simply missing
    }
    index[name] = static_cast<int>(templates.size());
    templates.push_back(std::move(*compiled));
  }
  std::map<std::string, std::string> loaded_texts;
  for (const auto& [name, position] : index) loaded_texts[name] = texts[name];
  for (auto& compiled : templates) {
    compiled.ResolvePartials([&](const std::string& name) {
      const auto found = index.find(name);
      return found == index.end() ? -1 : found->second;
    });
  }
  const auto main_index = static_cast<std::size_t>(index.at("t"));

  auto ours = inkwell::templating::RenderTemplate(templates, main_index, view);
  if (!ours) return 0;
  std::string theirs;
  try {
    theirs = mstch::render(texts["t"], inkwell::testing::MstchView(view), loaded_texts);
  } catch (const std::exception&) {
    return 0;
  }
  if (*ours != theirs) Mismatch("json view", *ours, theirs);

  // The flat string map the mailer passes: the view's top-level strings.
  std::map<std::string, std::string> values;
  mstch::map context;
  if (view.is_object()) {
    for (const auto& [key, item] : view.items()) {
      if (!item.is_string()) continue;
      values[key] = item.get<std::string>();
      context.emplace(key, item.get<std::string>());
    }
  }
  auto flat = inkwell::templating::RenderTemplate(templates, main_index, values);
  if (!flat) return 0;
  try {
    theirs = mstch::render(texts["t"], context, loaded_texts);
  } catch (const std::exception&) {
    return 0;
  }
  if (*flat != theirs) Mismatch("string map", *flat, theirs);
  return 0;
}
