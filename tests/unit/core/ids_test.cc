#include "core/ids.h"

#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

TEST(NewUuidTest, HasCanonicalVersion4Form) {
  const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

  for (int i = 0; i < 200; ++i) {
    const std::string uuid = NewUuid();

    EXPECT_TRUE(std::regex_match(uuid, kUuidV4)) << uuid;
  }
}

TEST(NewUuidTest, NeverRepeatsOverTenThousandCalls) {
  std::set<std::string> seen;

  for (int i = 0; i < 10000; ++i) seen.insert(NewUuid());

  EXPECT_EQ(seen.size(), 10000U);
}

TEST(RandomHexTest, GivesTwoLowerCaseHexDigitsPerByte) {
  const std::string hex = RandomHex(16);
  const std::string empty = RandomHex(0);

  EXPECT_EQ(hex.size(), 32U);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  EXPECT_TRUE(empty.empty());
}

TEST(RandomHexTest, DiffersBetweenCalls) {
  const std::string first = RandomHex(16);

  const std::string second = RandomHex(16);

  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace inkwell::core
