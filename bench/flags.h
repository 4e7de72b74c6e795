#pragma once

// Command-line flags of the benchmark programs: "--name value" pairs, nothing more.

#include <string>

namespace inkwell::bench {

// The value of "--name value" in argv, or `fallback`.
inline std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace inkwell::bench
