#include "core/service_main.h"

#include <csignal>
#include <exception>
#include <iostream>

namespace inkwell::core {

void OnTerminationSignal(void (*handler)(int)) {
  std::signal(SIGTERM, handler);
  std::signal(SIGINT, handler);
  std::signal(SIGPIPE, SIG_IGN);
}

int ServiceMain(const char* name, int argc, char** argv, int (*run)(int, char**)) {
  try {
    return run(argc, argv);
  } catch (const std::exception& exception) {
    std::cerr << name << ": " << exception.what() << "\n";
    return 1;
  }
}

}  // namespace inkwell::core
