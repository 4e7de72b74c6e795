#include "mailer/ack_coalescer.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace inkwell::mailer {
namespace {

using Tags = std::vector<std::uint64_t>;

AckCoalescer DeliveredOneTo(std::uint64_t last) {
  AckCoalescer acks;
  for (std::uint64_t tag = 1; tag <= last; ++tag) acks.Delivered(tag);
  return acks;
}

TEST(AckCoalescerTest, ReadyRunAtTheFrontGoesAsOneMultipleAck) {
  AckCoalescer acks = DeliveredOneTo(5);
  for (std::uint64_t tag : {3, 1, 2}) acks.Ready(tag);
  const AckCoalescer::Plan plan = acks.Take(8);
  ASSERT_TRUE(plan.ack_up_to.has_value());
  EXPECT_EQ(*plan.ack_up_to, 3u);
  EXPECT_EQ(plan.covered, 3u);
  EXPECT_TRUE(plan.single_acks.empty());
  EXPECT_EQ(acks.unsettled(), 2u);  // 4 and 5 are still being worked on
  EXPECT_EQ(acks.waiting(), 0u);
}

TEST(AckCoalescerTest, ReadyTagsBehindAGapWaitForItToClose) {
  AckCoalescer acks = DeliveredOneTo(6);
  for (std::uint64_t tag : {2, 3, 5}) acks.Ready(tag);
  AckCoalescer::Plan plan = acks.Take(8);
  EXPECT_FALSE(plan.ack_up_to.has_value()) << "tag 1 is not ready: a multiple-ack would ack it";
  EXPECT_TRUE(plan.single_acks.empty());
  EXPECT_EQ(acks.waiting(), 3u);

  acks.Ready(1);
  plan = acks.Take(8);
  ASSERT_TRUE(plan.ack_up_to.has_value());
  EXPECT_EQ(*plan.ack_up_to, 3u) << "stops before 4, which is not ready";
  EXPECT_EQ(acks.waiting(), 1u);  // 5
  EXPECT_EQ(acks.unsettled(), 3u);  // 4, 5, 6
}

TEST(AckCoalescerTest, TooManyWaitingGoOutOneByOne) {
  AckCoalescer acks = DeliveredOneTo(6);
  for (std::uint64_t tag : {2, 4, 6}) acks.Ready(tag);
  AckCoalescer::Plan plan = acks.Take(2);
  EXPECT_FALSE(plan.ack_up_to.has_value());
  EXPECT_EQ(plan.single_acks, (Tags{2, 4, 6}));
  EXPECT_EQ(acks.waiting(), 0u);
  EXPECT_EQ(acks.unsettled(), 3u);  // 1, 3, 5

  // Once 1 and 3 are ready, the acked 2 no longer separates them.
  acks.Ready(1);
  acks.Ready(3);
  plan = acks.Take(2);
  ASSERT_TRUE(plan.ack_up_to.has_value());
  EXPECT_EQ(*plan.ack_up_to, 3u);
  EXPECT_EQ(plan.covered, 2u);
}

TEST(AckCoalescerTest, MaxWaitingZeroFlushesEverythingReady) {
  AckCoalescer acks = DeliveredOneTo(4);
  for (std::uint64_t tag : {1, 3}) acks.Ready(tag);
  const AckCoalescer::Plan plan = acks.Take(0);
  ASSERT_TRUE(plan.ack_up_to.has_value());
  EXPECT_EQ(*plan.ack_up_to, 1u);
  EXPECT_EQ(plan.single_acks, (Tags{3}));
  EXPECT_EQ(plan.covered + plan.single_acks.size(), 2u);
  EXPECT_EQ(acks.unsettled(), 2u);  // 2 and 4 are never acked by these
}

TEST(AckCoalescerTest, ARejectedTagNoLongerHoldsBackTheOnesAfterIt) {
  AckCoalescer acks = DeliveredOneTo(3);
  acks.Ready(2);
  acks.Ready(3);
  acks.Settled(1);  // rejected on the wire: a multiple-ack must not cover it, and need not
  const AckCoalescer::Plan plan = acks.Take(8);
  ASSERT_TRUE(plan.ack_up_to.has_value());
  EXPECT_EQ(*plan.ack_up_to, 3u);
  EXPECT_EQ(plan.covered, 2u);
  EXPECT_EQ(acks.unsettled(), 0u);
}

TEST(AckCoalescerTest, UnknownSettledAndClearedTagsAreNeverAcked) {
  AckCoalescer acks = DeliveredOneTo(2);
  acks.Ready(7);  // never delivered on this connection
  acks.Settled(1);
  acks.Ready(1);  // already rejected
  EXPECT_EQ(acks.waiting(), 0u);
  EXPECT_FALSE(acks.Take(0).ack_up_to.has_value());

  acks.Ready(2);
  acks.Clear();  // the connection is gone: its tags mean nothing on the next one
  const AckCoalescer::Plan plan = acks.Take(0);
  EXPECT_FALSE(plan.ack_up_to.has_value());
  EXPECT_TRUE(plan.single_acks.empty());
  EXPECT_EQ(acks.unsettled(), 0u);
}

}  // namespace
}  // namespace inkwell::mailer
