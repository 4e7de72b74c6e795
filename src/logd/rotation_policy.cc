#include "logd/rotation_policy.h"

#include <algorithm>

namespace inkwell::logd {

bool ShouldRotate(const RotationPolicy& policy, std::uint64_t size, std::uint64_t incoming_bytes,
                  std::chrono::system_clock::time_point started_at,
                  std::chrono::system_clock::time_point now) {
  if (size == 0) return false;
  if (size + incoming_bytes > policy.max_bytes) return true;
  return now - started_at >= policy.max_age;
}

std::vector<std::string> RotatedFilesToDelete(std::vector<std::string> rotated_names,
                                              unsigned keep) {
  if (rotated_names.size() <= keep) return {};
  std::sort(rotated_names.begin(), rotated_names.end());
  rotated_names.resize(rotated_names.size() - keep);  // the oldest ones
  return rotated_names;
}

}  // namespace inkwell::logd
