#include "http/form.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::http {
namespace {

using Fields = std::map<std::string, std::string>;

TEST(UrlDecodeTest, DecodesPlusAsSpace) {
  const auto decoded = UrlDecode("Ada+Lovelace");

  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, "Ada Lovelace");
}

TEST(UrlDecodeTest, DecodesPercentEscapesInEitherCase) {
  const auto decoded = UrlDecode("ada%40example.org%2B%2b%20x%C3%A9");

  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, "ada@example.org++ x\xC3\xA9");
}

TEST(UrlDecodeTest, DecodesEscapedNulAndPercent) {
  const auto decoded = UrlDecode("a%00b%25");

  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, std::string("a\0b%", 4));
}

TEST(UrlDecodeTest, LeavesPlainTextAlone) {
  const auto empty = UrlDecode("");
  const auto plain = UrlDecode("abc-._~");

  ASSERT_TRUE(empty && plain);
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(*plain, "abc-._~");
}

TEST(UrlDecodeTest, RejectsMalformedEscapes) {
  for (const char* text : {"%", "%4", "abc%", "abc%2", "%zz", "%4g", "%g4", "100%", "%%41"}) {
    const auto decoded = UrlDecode(text);

    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, core::ErrorCode::kInvalidArgument) << text;
  }
}

TEST(ParseFormTest, ParsesNamesAndValues) {
  const auto fields = ParseForm("user_name=Ada+Lovelace&user_email=ada%40example.org&user_password=p%26ss%3D");

  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_EQ(*fields, (Fields{{"user_name", "Ada Lovelace"},
                             {"user_email", "ada@example.org"},
                             {"user_password", "p&ss="}}));
}

TEST(ParseFormTest, KeepsFirstValueOfRepeatedName) {
  const auto fields = ParseForm("a=first&b=x&a=second");

  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->at("a"), "first");
  EXPECT_EQ(fields->size(), 2U);
}

TEST(ParseFormTest, SkipsEmptyPairs) {
  const auto fields = ParseForm("&&a=1&&b=2&");

  ASSERT_TRUE(fields);
  EXPECT_EQ(*fields, (Fields{{"a", "1"}, {"b", "2"}}));
}

TEST(ParseFormTest, NameWithoutEqualsHasEmptyValue) {
  const auto fields = ParseForm("flag&empty=&x=a=b");

  ASSERT_TRUE(fields);
  EXPECT_EQ(*fields, (Fields{{"flag", ""}, {"empty", ""}, {"x", "a=b"}}));
}

TEST(ParseFormTest, EmptyTextHasNoFields) {
  const auto fields = ParseForm("");

  ASSERT_TRUE(fields);
  EXPECT_TRUE(fields->empty());
}

TEST(ParseFormTest, RejectsMalformedEscapeInNameOrValue) {
  const auto in_value = ParseForm("a=1&b=%zz");
  const auto in_name = ParseForm("%4=1");

  ASSERT_FALSE(in_value);
  EXPECT_EQ(in_value.error().code, core::ErrorCode::kInvalidArgument);
  ASSERT_FALSE(in_name);
  EXPECT_EQ(in_name.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(UrlEncodeTest, KeepsUnreservedCharacters) {
  const std::string encoded = UrlEncode("AZaz09-_.~");

  EXPECT_EQ(encoded, "AZaz09-_.~");
}

TEST(UrlEncodeTest, EscapesEverythingElseInUpperCaseHex) {
  const std::string encoded = UrlEncode("ada+x@example.org /&=?#%\xC3\xA9");

  EXPECT_EQ(encoded, "ada%2Bx%40example.org%20%2F%26%3D%3F%23%25%C3%A9");
}

TEST(UrlEncodeTest, RoundTripsThroughUrlDecode) {
  std::string every_byte;
  for (int byte = 0; byte < 256; ++byte) every_byte += static_cast<char>(byte);

  const auto decoded = UrlDecode(UrlEncode(every_byte));

  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, every_byte);
}

TEST(UrlEncodeTest, EncodedValueSurvivesParseForm) {
  const std::string value = "a&b=c+d %";

  const auto fields = ParseForm("k=" + UrlEncode(value));

  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->at("k"), value);
}

}  // namespace
}  // namespace inkwell::http
