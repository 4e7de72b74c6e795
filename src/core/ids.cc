#include "core/ids.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace inkwell::core {
namespace {

void FillRandom(unsigned char* data, size_t size) {
  size_t filled = 0;
  while (filled < size) {
    const ssize_t got = getrandom(data + filled, size - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");  // the kernel has no entropy API: cannot go on
    }
    filled += static_cast<size_t>(got);
  }
}

std::string ToHex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kHex[data[i] >> 4];
    hex += kHex[data[i] & 0xf];
  }
  return hex;
}

}  // namespace

std::string NewUuid() {
  std::array<unsigned char, 16> bytes{};
  FillRandom(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = ToHex(bytes.data(), bytes.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

void AppendUniqueHex(std::string& out, size_t bytes) {
  // xoshiro256** (Blackman and Vigna): 256 bits of state, seeded from getrandom per thread.
  struct Generator {
    std::array<std::uint64_t, 4> state{};
    Generator() {
      do {
        FillRandom(reinterpret_cast<unsigned char*>(state.data()), sizeof state);
      } while (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0);
    }
    static std::uint64_t Rotate(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t Next() {
      const std::uint64_t result = Rotate(state[1] * 5, 7) * 9;
      const std::uint64_t t = state[1] << 17;
      state[2] ^= state[0];
      state[3] ^= state[1];
      state[1] ^= state[2];
      state[0] ^= state[3];
      state[2] ^= t;
      state[3] = Rotate(state[3], 45);
      return result;
    }
  };
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local Generator generator;
  const size_t at = out.size();
  out.resize(at + 2 * bytes);  // written in place: this runs for every request's trace
  char* hex = out.data() + at;
  for (size_t done = 0; done < bytes; done += 8) {
    const std::uint64_t word = generator.Next();
    for (size_t i = 0; i < 8 && done + i < bytes; ++i) {
      const auto byte = static_cast<unsigned char>(word >> (8 * i));
      *hex++ = kHex[byte >> 4];
      *hex++ = kHex[byte & 0xf];
    }
  }
}

std::string UniqueHex(size_t bytes) {
  std::string hex;
  AppendUniqueHex(hex, bytes);
  return hex;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> data(bytes);
  FillRandom(data.data(), data.size());
  return ToHex(data.data(), data.size());
}

}  // namespace inkwell::core
