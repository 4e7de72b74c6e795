#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::web {

// argon2id through libsodium. Hashing takes ~50 ms and 64 MiB at the interactive limits: call
// it on a worker pool, never on an I/O thread. Thread-safe.
class PasswordHasher {
 public:
  enum class Strength {
    kInteractive,  // libsodium's INTERACTIVE limits: production
    kMinimum,      // libsodium's MIN limits: benchmarks and tests only (see Config)
  };
  // Initialises libsodium; throws std::runtime_error if it cannot.
  explicit PasswordHasher(Strength strength = Strength::kInteractive);
  // The encoded hash ($argon2id$...), with a random salt. kUnavailable if memory is short.
  core::Result<std::string> Hash(std::string_view password) const;
  // Constant-time check of a password against an encoded hash.
  bool Verify(std::string_view password, const std::string& encoded_hash) const;

 private:
  unsigned long long ops_limit_;
  std::size_t memory_limit_;
};

}  // namespace inkwell::web
