#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace inkwell::core {

// A transparent hash for unordered containers keyed by std::string, so that find() takes a
// std::string_view without building a std::string (with std::equal_to<> as the key equality).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

}  // namespace inkwell::core
