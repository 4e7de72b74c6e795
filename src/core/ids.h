#pragma once

#include <string>

namespace inkwell::core {

// A random RFC 4122 version-4 UUID in its canonical lower-case form, from the kernel's CSPRNG
// (getrandom). Used for message ids, which must never repeat.
std::string NewUuid();

// 'bytes' random bytes from the kernel's CSPRNG as lower-case hex. For secrets.
std::string RandomHex(size_t bytes);

// 'bytes' bytes as lower-case hex from a per-thread generator (xoshiro256**) seeded once from the
// kernel's CSPRNG: unique for trace ids, span ids and MIME boundaries, without a system call
// per id. Predictable from earlier output: never for tokens, passwords or anything secret.
std::string UniqueHex(size_t bytes);
// The same, appended to out.
void AppendUniqueHex(std::string& out, size_t bytes);

}  // namespace inkwell::core
