#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "templating/compiled_template.h"

namespace inkwell::templating {

// Renders templates[index] of a set whose partials are resolved to indexes into
// the same set, with mstch's semantics: {{name}} is looked up from the
// innermost context outwards, escaped for HTML (& < > " ' / as mstch does); a
// section repeats over a list, renders once for any other value that is not
// empty (empty: missing, null, "", false, []) and pushes that value as the
// context; an inverted section renders only for an empty value. The JSON view:
// objects are contexts, arrays lists, booleans switches, numbers their dump()
// text; null is empty. Values is a flat context of strings.
// Fails with kInvalidArgument when partials nest deeper than kMaxPartialDepth
// (a partial that includes itself without a section that ends it). Reentrant:
// the templates are only read.
inline constexpr int kMaxPartialDepth = 64;

core::Result<std::string> RenderTemplate(std::span<const CompiledTemplate> templates,
                                         std::size_t index, const nlohmann::json& view);
core::Result<std::string> RenderTemplate(std::span<const CompiledTemplate> templates,
                                         std::size_t index,
                                         const std::map<std::string, std::string>& values);

}  // namespace inkwell::templating
