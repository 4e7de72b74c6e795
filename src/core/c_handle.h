#pragma once

#include <memory>

namespace inkwell::core {

// Owns a C library handle and frees it with FreeFn: CHandle<sqlite3, sqlite3_close_v2>.
template <auto FreeFn>
struct CFree {
  template <typename T>
  void operator()(T* handle) const noexcept {
    FreeFn(handle);
  }
};
template <typename T, auto FreeFn>
using CHandle = std::unique_ptr<T, CFree<FreeFn>>;

}  // namespace inkwell::core
