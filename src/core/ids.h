#pragma once

#include <string>

namespace inkwell::core {

// A random RFC 4122 version-4 UUID in its canonical lower-case form, from the kernel's CSPRNG
// (getrandom). Used for message ids, which must never repeat.
std::string NewUuid();

// 'bytes' random bytes from the kernel's CSPRNG as lower-case hex.
std::string RandomHex(size_t bytes);

}  // namespace inkwell::core
