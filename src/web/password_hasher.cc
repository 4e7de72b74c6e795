#include "web/password_hasher.h"

#include <sodium.h>

#include <stdexcept>

namespace inkwell::web {

PasswordHasher::PasswordHasher(Strength strength)
    : ops_limit_(strength == Strength::kMinimum ? crypto_pwhash_OPSLIMIT_MIN
                                                : crypto_pwhash_OPSLIMIT_INTERACTIVE),
      memory_limit_(strength == Strength::kMinimum ? crypto_pwhash_MEMLIMIT_MIN
                                                   : crypto_pwhash_MEMLIMIT_INTERACTIVE) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
}

core::Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(encoded, password.data(), password.size(), ops_limit_, memory_limit_) != 0) {
    return core::Fail(core::ErrorCode::kUnavailable, "crypto_pwhash_str: out of memory");
  }
  return std::string(encoded);
}

bool PasswordHasher::Verify(std::string_view password, const std::string& encoded_hash) const {
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace inkwell::web
