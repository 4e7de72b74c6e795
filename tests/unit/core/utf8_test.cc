#include "core/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

TEST(Utf8SequenceLengthTest, MeasuresOneToFourByteSequences) {
  const std::string ascii = "a";
  const std::string two = "\xC3\xA9";           // U+00E9
  const std::string three = "\xE2\x82\xAC";     // U+20AC
  const std::string four = "\xF0\x9F\x98\x80";  // U+1F600

  const size_t ascii_length = Utf8SequenceLength(ascii + "rest");
  const size_t two_length = Utf8SequenceLength(two + "rest");
  const size_t three_length = Utf8SequenceLength(three);
  const size_t four_length = Utf8SequenceLength(four);

  EXPECT_EQ(ascii_length, 1U);
  EXPECT_EQ(two_length, 2U);
  EXPECT_EQ(three_length, 3U);
  EXPECT_EQ(four_length, 4U);
}

TEST(Utf8SequenceLengthTest, AcceptsBoundaryCodePoints) {
  EXPECT_EQ(Utf8SequenceLength("\xC2\x80"), 2U);          // U+0080, smallest two-byte
  EXPECT_EQ(Utf8SequenceLength("\xE0\xA0\x80"), 3U);      // U+0800, smallest three-byte
  EXPECT_EQ(Utf8SequenceLength("\xED\x9F\xBF"), 3U);      // U+D7FF, just below the surrogates
  EXPECT_EQ(Utf8SequenceLength("\xEE\x80\x80"), 3U);      // U+E000, just above them
  EXPECT_EQ(Utf8SequenceLength("\xF0\x90\x80\x80"), 4U);  // U+10000, smallest four-byte
  EXPECT_EQ(Utf8SequenceLength("\xF4\x8F\xBF\xBF"), 4U);  // U+10FFFF, the last code point
}

TEST(Utf8SequenceLengthTest, RejectsEmptyText) {
  const size_t length = Utf8SequenceLength("");

  EXPECT_EQ(length, 0U);
}

TEST(Utf8SequenceLengthTest, RejectsOverlongForms) {
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF"), 0U);          // '/' in two bytes
  EXPECT_EQ(Utf8SequenceLength("\xC1\xBF"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xE0\x80\xAF"), 0U);      // '/' in three bytes
  EXPECT_EQ(Utf8SequenceLength("\xE0\x9F\xBF"), 0U);      // U+07FF in three bytes
  EXPECT_EQ(Utf8SequenceLength("\xF0\x80\x80\xAF"), 0U);  // '/' in four bytes
  EXPECT_EQ(Utf8SequenceLength("\xF0\x8F\xBF\xBF"), 0U);  // U+FFFF in four bytes
}

TEST(Utf8SequenceLengthTest, RejectsUtf16Surrogates) {
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80"), 0U);  // U+D800
  EXPECT_EQ(Utf8SequenceLength("\xED\xBF\xBF"), 0U);  // U+DFFF
}

TEST(Utf8SequenceLengthTest, RejectsCodePointsAboveU10FFFF) {
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80"), 0U);  // U+110000
  EXPECT_EQ(Utf8SequenceLength("\xF5\x80\x80\x80"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xF7\xBF\xBF\xBF"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xF8\x88\x80\x80\x80"), 0U);  // old five-byte form
}

TEST(Utf8SequenceLengthTest, RejectsTruncatedSequences) {
  EXPECT_EQ(Utf8SequenceLength("\xC3"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98"), 0U);
}

TEST(Utf8SequenceLengthTest, RejectsBadContinuationBytes) {
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0U);              // lone continuation byte
  EXPECT_EQ(Utf8SequenceLength("\xC3\x28"), 0U);          // ASCII where a continuation belongs
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\x28"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\xC0"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xFF"), 0U);
  EXPECT_EQ(Utf8SequenceLength("\xFE"), 0U);
}

TEST(IsValidUtf8Test, AcceptsEmptyAsciiAndMixedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80"));
}

TEST(IsValidUtf8Test, AcceptsNulByte) {
  const std::string text("a\0b", 3);

  const bool is_valid = IsValidUtf8(text);

  EXPECT_TRUE(is_valid);
}

TEST(IsValidUtf8Test, RejectsInvalidSequenceAnywhere) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF" "abc"));
  EXPECT_FALSE(IsValidUtf8("abc\xED\xA0\x80" "def"));
  EXPECT_FALSE(IsValidUtf8("abc\xE2\x82"));  // truncated at the end
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));       // Latin-1
}

TEST(Utf8LengthTest, CountsCodePointsNotBytes) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";

  const size_t length = Utf8Length(text);

  EXPECT_EQ(length, 4U);
  EXPECT_EQ(Utf8Length(""), 0U);
}

}  // namespace
}  // namespace inkwell::core
