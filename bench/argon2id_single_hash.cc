// The time of one argon2id hash at libsodium's INTERACTIVE limits (what inkwell-web uses in
// production), on one thread: the unit of the "registrations/s >= 0.9 x cores / hash time" target.
// With --threads N, N threads hash at once and the rate of the whole is reported too: what bare
// libsodium does on every core of this machine, with nothing else in the way.
//
//   bench-argon2id [--count 10] [--threads 1]
// Prints one line of JSON {"count":N,"threads":T,"median_ms":M,"min_ms":A,"max_ms":B,
// "hashes_per_s":R,"memory_bytes":K}; the times are per hash, over all threads.

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int count = 10;
  int threads = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--count") count = std::max(1, std::stoi(argv[i + 1]));
    if (std::string(argv[i]) == "--threads") threads = std::max(1, std::stoi(argv[i + 1]));
  }
  if (sodium_init() < 0) {
    std::fprintf(stderr, "sodium_init failed\n");
    return 1;
  }
  const std::string password = "benchmark-password";
  std::mutex mutex;
  std::vector<double> milliseconds;
  bool is_out_of_memory = false;
  auto hash = [&] {
    char encoded[crypto_pwhash_STRBYTES];
    for (int i = 0; i < count; ++i) {
      const auto started = std::chrono::steady_clock::now();
      const bool is_hashed = crypto_pwhash_str(encoded, password.data(), password.size(),
                                               crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                               crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
      const double took =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      const std::lock_guard lock(mutex);
      if (!is_hashed) {
        is_out_of_memory = true;
        return;
      }
      milliseconds.push_back(took);
    }
  };
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(hash);
  for (std::thread& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (is_out_of_memory) {
    std::fprintf(stderr, "crypto_pwhash_str: out of memory\n");
    return 1;
  }
  std::sort(milliseconds.begin(), milliseconds.end());
  std::printf("{\"count\":%d,\"threads\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
              "\"hashes_per_s\":%.3f,\"memory_bytes\":%zu}\n",
              count, threads, milliseconds[milliseconds.size() / 2], milliseconds.front(),
              milliseconds.back(), static_cast<double>(milliseconds.size()) / seconds,
              static_cast<size_t>(crypto_pwhash_MEMLIMIT_INTERACTIVE));
  return 0;
}
