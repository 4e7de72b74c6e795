#include "core/json_escape.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

std::string Escaped(std::string_view text) {
  std::string out;
  AppendJsonEscaped(out, text);
  return out;
}

TEST(AppendJsonEscapedTest, AppendsToWhatIsAlreadyThere) {
  std::string out = "prefix:";

  AppendJsonEscaped(out, "value");

  EXPECT_EQ(out, "prefix:value");
}

TEST(AppendJsonEscapedTest, EscapesQuotesAndBackslashes) {
  const std::string escaped = Escaped(R"(say "hi" \ bye)");

  EXPECT_EQ(escaped, R"(say \"hi\" \\ bye)");
}

TEST(AppendJsonEscapedTest, EscapesCommonControlCharactersShortly) {
  const std::string escaped = Escaped("a\nb\rc\td");

  EXPECT_EQ(escaped, R"(a\nb\rc\td)");
}

TEST(AppendJsonEscapedTest, EscapesOtherControlCharactersAsUnicode) {
  const std::string text = std::string("\x00\x01\x1f\x7f\x08\x0c", 6);

  const std::string escaped = Escaped(text);

  EXPECT_EQ(escaped, R"(\u0000\u0001\u001f\u007f\u0008\u000c)");
}

TEST(AppendJsonEscapedTest, KeepsValidUtf8AndPrintableAscii) {
  const std::string text = "Gr\xC3\xBC\xC3\x9F" "e / \xE2\x82\xAC \xF0\x9F\x98\x80 <>&'";

  const std::string escaped = Escaped(text);

  EXPECT_EQ(escaped, text);
}

TEST(AppendJsonEscapedTest, ReplacesEachInvalidByteWithReplacementCharacter) {
  const std::string replacement = "\xEF\xBF\xBD";

  const std::string latin1 = Escaped("caf\xE9");
  const std::string surrogate = Escaped("\xED\xA0\x80");
  const std::string truncated = Escaped("x\xE2\x82");
  const std::string overlong = Escaped("\xC0\xAFy");

  EXPECT_EQ(latin1, "caf" + replacement);
  EXPECT_EQ(surrogate, replacement + replacement + replacement);
  EXPECT_EQ(truncated, "x" + replacement + replacement);
  EXPECT_EQ(overlong, replacement + replacement + "y");
}

}  // namespace
}  // namespace inkwell::core
