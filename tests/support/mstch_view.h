#pragma once

// The JSON → mstch view mapping that TemplateSet::RenderView used when it rendered with mstch:
// objects become maps, arrays lists, booleans section switches, numbers their decimal text,
// null (and anything else) the empty string. mstch is now only the oracle our own renderer is
// compared with (unit test, fuzz target, bench-templates), which all feed it through this.

#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace inkwell::testing {

inline mstch::node MstchView(const nlohmann::json& value) {
  using Json = nlohmann::json;
  switch (value.type()) {
    case Json::value_t::object: {
      mstch::map map;
      for (const auto& [key, item] : value.items()) map.emplace(key, MstchView(item));
      return map;
    }
    case Json::value_t::array: {
      mstch::array array;
      array.reserve(value.size());
      for (const auto& item : value) array.push_back(MstchView(item));
      return array;
    }
    case Json::value_t::string: return value.get<std::string>();
    case Json::value_t::boolean: return value.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return value.dump();
    default: return std::string();
  }
}

}  // namespace inkwell::testing
