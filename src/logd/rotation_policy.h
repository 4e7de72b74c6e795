#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace inkwell::logd {

// When inkwell-logd starts a new file for a service, and how many old ones it keeps.
struct RotationPolicy {
  std::uint64_t max_bytes = 10 * 1024 * 1024;  // INKWELL_LOG_MAX_BYTES
  std::chrono::seconds max_age{24 * 60 * 60};  // INKWELL_LOG_MAX_AGE
  unsigned keep = 10;                          // INKWELL_LOG_KEEP
};

// True when the current file (size bytes, started at started_at) must be rotated before
// incoming_bytes more are appended: it would grow past max_bytes, or it is older than max_age.
// An empty file is never rotated (one line larger than max_bytes gets a file of its own).
bool ShouldRotate(const RotationPolicy& policy, std::uint64_t size, std::uint64_t incoming_bytes,
                  std::chrono::system_clock::time_point started_at,
                  std::chrono::system_clock::time_point now);

// Of one service's rotated file names (any order), those to delete so that the newest `keep`
// remain. Rotated names sort by time as text (contracts/log_file_name.h).
std::vector<std::string> RotatedFilesToDelete(std::vector<std::string> rotated_names,
                                              unsigned keep);

}  // namespace inkwell::logd
