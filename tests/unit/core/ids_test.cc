#include "core/ids.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

// The canonical lower-case form of an RFC 4122 version-4 UUID. (No std::regex: g++ 12 warns
// inside it under -fsanitize with -O2, and warnings are errors.)
bool IsUuidV4(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return text[14] == '4' && std::string_view("89ab").find(text[19]) != std::string_view::npos;
}

TEST(NewUuidTest, HasCanonicalVersion4Form) {
  for (int i = 0; i < 200; ++i) {
    const std::string uuid = NewUuid();

    EXPECT_TRUE(IsUuidV4(uuid)) << uuid;
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

TEST(UniqueHexTest, GivesTwoLowerCaseHexDigitsPerByteForAnyLength) {
  for (const size_t bytes : {0U, 3U, 8U, 13U, 16U}) {
    const std::string hex = UniqueHex(bytes);
    EXPECT_EQ(hex.size(), 2 * bytes);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  }
}

TEST(UniqueHexTest, AppendKeepsWhatWasThereAndAddsTwoDigitsPerByte) {
  std::string text = "00-";
  AppendUniqueHex(text, 13);
  ASSERT_EQ(text.size(), 3U + 26U);
  EXPECT_TRUE(text.starts_with("00-"));
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef", 3), std::string::npos) << text;
  // Every byte of the 13 is drawn: a digit pair left unwritten would show as the same pair
  // in every id (resize's zero bytes), which 200 ids from a random source never share.
  std::set<std::string> last_pairs;
  for (int i = 0; i < 200; ++i) {
    std::string id;
    AppendUniqueHex(id, 13);
    last_pairs.insert(id.substr(24));
  }
  EXPECT_GT(last_pairs.size(), 100U);
}

TEST(UniqueHexTest, NeverRepeatsWithinOrAcrossThreads) {
  std::vector<std::string> first(5000);
  std::vector<std::string> second(5000);
  std::thread other([&] {
    for (auto& id : second) id = UniqueHex(8);
  });
  for (auto& id : first) id = UniqueHex(8);
  other.join();
  std::set<std::string> seen(first.begin(), first.end());
  seen.insert(second.begin(), second.end());
  EXPECT_EQ(seen.size(), 10000U) << "each thread's generator is seeded on its own";
}

}  // namespace
}  // namespace inkwell::core
