#include "core/wake_event.h"

#include <thread>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

TEST(WakeEventTest, WaitTimesOutWithoutSignal) {
  const WakeEvent wake;

  const bool is_signalled = wake.Wait(10);

  EXPECT_FALSE(is_signalled);
  EXPECT_GE(wake.fd(), 0);
}

TEST(WakeEventTest, WaitReturnsTrueAfterSignalAndDrainsIt) {
  const WakeEvent wake;
  wake.Signal();
  wake.Signal();

  const bool first = wake.Wait(1000);
  const bool second = wake.Wait(0);

  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
}

TEST(WakeEventTest, DrainClearsPendingSignals) {
  const WakeEvent wake;
  wake.Signal();

  wake.Drain();

  EXPECT_FALSE(wake.Wait(0));
}

TEST(WakeEventTest, SignalFromAnotherThreadWakesWaiter) {
  const WakeEvent wake;
  std::thread signaller([&wake] { wake.Signal(); });

  const bool is_signalled = wake.Wait(5000);
  signaller.join();

  EXPECT_TRUE(is_signalled);
}

}  // namespace
}  // namespace inkwell::core
