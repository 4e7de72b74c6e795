#include "logd/rotation_policy.h"

#include <gtest/gtest.h>

namespace inkwell::logd {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;

const Time kStart = Time(seconds(1'800'000'000));
const RotationPolicy kPolicy{1000, seconds(3600), 3};

TEST(RotationPolicyTest, FileThatWouldGrowPastMaxBytesIsRotated) {
  EXPECT_TRUE(ShouldRotate(kPolicy, 900, 101, kStart, kStart));
}

TEST(RotationPolicyTest, FileThatReachesExactlyMaxBytesIsKept) {
  EXPECT_FALSE(ShouldRotate(kPolicy, 900, 100, kStart, kStart));
}

TEST(RotationPolicyTest, FileOlderThanMaxAgeIsRotated) {
  EXPECT_TRUE(ShouldRotate(kPolicy, 10, 10, kStart, kStart + seconds(3600)));
  EXPECT_FALSE(ShouldRotate(kPolicy, 10, 10, kStart, kStart + seconds(3599)));
}

TEST(RotationPolicyTest, EmptyFileIsNeverRotatedEvenForAHugeLine) {
  EXPECT_FALSE(ShouldRotate(kPolicy, 0, 5000, kStart, kStart + hours(48)));
}

TEST(RotationPolicyTest, AgeCheckWithoutIncomingBytesRotatesOnlyOldFiles) {
  EXPECT_TRUE(ShouldRotate(kPolicy, 1, 0, kStart, kStart + hours(2)));
  EXPECT_FALSE(ShouldRotate(kPolicy, 1, 0, kStart, kStart + seconds(1)));
}

TEST(RotationPolicyTest, OldestRotatedFilesBeyondKeepAreDeleted) {
  const std::vector<std::string> names = {
      "web-20261128T100000.000Z.jsonl", "web-20261128T080000.000Z.jsonl",
      "web-20261128T090000.000Z.jsonl", "web-20261127T230000.000Z.jsonl",
      "web-20261128T110000.000Z.jsonl"};

  const auto doomed = RotatedFilesToDelete(names, 3);

  EXPECT_EQ(doomed, (std::vector<std::string>{"web-20261127T230000.000Z.jsonl",
                                              "web-20261128T080000.000Z.jsonl"}));
}

TEST(RotationPolicyTest, NothingIsDeletedWithinKeep) {
  EXPECT_TRUE(RotatedFilesToDelete({"a-20261128T100000.000Z.jsonl"}, 1).empty());
}

TEST(RotationPolicyTest, KeepZeroDeletesEveryRotatedFile) {
  EXPECT_EQ(RotatedFilesToDelete({"a-20261128T100000.000Z.jsonl"}, 0).size(), 1U);
}

}  // namespace
}  // namespace inkwell::logd
