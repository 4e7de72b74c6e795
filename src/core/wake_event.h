#pragma once

namespace inkwell::core {

// A Linux eventfd that one thread polls (with the AMQP socket) and others signal to wake it.
// Signal is thread-safe and async-signal-safe; Drain is for the polling thread.
class WakeEvent {
 public:
  WakeEvent();  // throws std::system_error if the kernel refuses an eventfd
  ~WakeEvent();
  WakeEvent(const WakeEvent&) = delete;
  WakeEvent& operator=(const WakeEvent&) = delete;

  int fd() const { return fd_; }
  void Signal() const noexcept;
  // Clears pending signals; returns immediately.
  void Drain() const noexcept;
  // Waits until signalled or the timeout passes, then drains. True if signalled.
  bool Wait(int timeout_ms) const noexcept;

 private:
  int fd_;
};

}  // namespace inkwell::core
