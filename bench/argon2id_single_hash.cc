// The time of one argon2id hash at libsodium's INTERACTIVE limits (what inkwell-web uses in
// production), on one thread: the unit of the "registrations/s >= 0.9 x cores / hash time" target.
//
//   bench-argon2id [--count 10]
// Prints one line of JSON {"count":N,"median_ms":M,"min_ms":A,"max_ms":B,"memory_bytes":K}.

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int count = 10;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--count") count = std::max(1, std::stoi(argv[i + 1]));
  }
  if (sodium_init() < 0) {
    std::fprintf(stderr, "sodium_init failed\n");
    return 1;
  }
  const std::string password = "benchmark-password";
  std::vector<double> milliseconds;
  char encoded[crypto_pwhash_STRBYTES];
  for (int i = 0; i < count; ++i) {
    const auto started = std::chrono::steady_clock::now();
    if (crypto_pwhash_str(encoded, password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      std::fprintf(stderr, "crypto_pwhash_str: out of memory\n");
      return 1;
    }
    milliseconds.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
  }
  std::sort(milliseconds.begin(), milliseconds.end());
  std::printf("{\"count\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"memory_bytes\":%zu}\n",
              count, milliseconds[milliseconds.size() / 2], milliseconds.front(),
              milliseconds.back(), static_cast<size_t>(crypto_pwhash_MEMLIMIT_INTERACTIVE));
  return 0;
}
