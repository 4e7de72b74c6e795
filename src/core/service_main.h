#pragma once

#include <cstdlib>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace inkwell::core {

// The value, or: log "<what> failed" with the error and exit(1). For a service's start-up, where
// nothing can run without it (a bad setting, a database that cannot be opened).
template <typename T>
T OrExit(Result<T> result, const char* what) {
  if (!result) {
    LogError(std::string(what) + " failed", {{"error", result.error().message}});
    std::exit(1);
  }
  return std::move(*result);
}

// SIGTERM and SIGINT call handler (which must be async-signal-safe: signal a WakeEvent, set an
// atomic); SIGPIPE is ignored, so a peer that goes away is an error return, not a death.
void OnTerminationSignal(void (*handler)(int));

// A service's main(): returns run(argc, argv); an exception that escapes it (a bad setting
// reported by LoadConfig, say) is printed as "<name>: <what>" and the exit code is 1.
int ServiceMain(const char* name, int argc, char** argv, int (*run)(int, char**));

}  // namespace inkwell::core
