#include "core/wake_event.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace inkwell::core {

WakeEvent::WakeEvent() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

WakeEvent::~WakeEvent() { ::close(fd_); }

void WakeEvent::Signal() const noexcept {
  const std::uint64_t one = 1;
  const ssize_t written = ::write(fd_, &one, sizeof one);
  (void)written;  // EAGAIN only when the counter is saturated: already signalled
}

void WakeEvent::Drain() const noexcept {
  std::uint64_t count = 0;
  const ssize_t got = ::read(fd_, &count, sizeof count);
  (void)got;  // EAGAIN: nothing pending
}

bool WakeEvent::Wait(int timeout_ms) const noexcept {
  pollfd descriptor{fd_, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, timeout_ms);
  if (ready > 0) {
    Drain();
    return true;
  }
  return false;
}

}  // namespace inkwell::core
