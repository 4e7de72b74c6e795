#include "contracts/email_address.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::contracts {
namespace {

// The message of an address that must not parse.
std::string ParseErrorOf(std::string_view text) {
  const auto parsed = EmailAddress::Parse(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument) << text;
  return parsed.error().message;
}

TEST(EmailAddressTest, AcceptsCommonForms) {
  for (const char* text : {"ada@example.org", "a@b.co", "first.last@example.org",
                           "user+tag@sub.example.co.uk", "x_y-z@my-host.example",
                           "o'brien@example.ie", "!#$%&'*+/=?^_`{|}~-@example.org",
                           "1234@123.example", "Ada.Lovelace@Example.ORG"}) {
    const auto address = EmailAddress::Parse(text);

    ASSERT_TRUE(address.has_value()) << text << ": " << address.error().message;
    EXPECT_EQ(address->value(), text);
  }
}

TEST(EmailAddressTest, AcceptsInternationalisedAddress) {
  const std::string text = "j\xC3\xB6rg@b\xC3\xBC" "cher.example";

  const auto address = EmailAddress::Parse(text);

  ASSERT_TRUE(address.has_value()) << address.error().message;
  EXPECT_EQ(address->value(), text);
}

TEST(EmailAddressTest, RejectsEmptyAddress) {
  const std::string message = ParseErrorOf("");

  EXPECT_NE(message.find("required"), std::string::npos) << message;
}

TEST(EmailAddressTest, AcceptsExactly254BytesAndRejects255) {
  const std::string domain = "@" + std::string(63, 'd') + "." + std::string(63, 'e') + "." +
                             std::string(61, 'f') + ".org";  // 194 bytes
  const std::string fits = std::string(60, 'a') + domain;
  const std::string too_long = std::string(61, 'a') + domain;
  ASSERT_EQ(fits.size(), 254U);

  const auto accepted = EmailAddress::Parse(fits);
  const std::string message = ParseErrorOf(too_long);

  EXPECT_TRUE(accepted.has_value()) << accepted.error().message;
  EXPECT_NE(message.find("too long"), std::string::npos) << message;
}

TEST(EmailAddressTest, RejectsLineBreaks) {
  for (const char* text : {"ada@example.org\r\nBcc: all@example.org", "ada@example.org\n",
                           "ada\r@example.org"}) {
    const std::string message = ParseErrorOf(text);

    EXPECT_NE(message.find("control characters"), std::string::npos) << message;
  }
}

TEST(EmailAddressTest, RejectsOtherControlCharacters) {
  ParseErrorOf(std::string("ada\0@example.org", 16));
  ParseErrorOf("ada\t@example.org");
  ParseErrorOf("ada@exam\x7fple.org");
  ParseErrorOf("ada@example.org\x1b");
}

TEST(EmailAddressTest, RejectsSpacesAndAngleBrackets) {
  ParseErrorOf("ada lovelace@example.org");
  ParseErrorOf("ada@exa mple.org");
  ParseErrorOf("<ada@example.org>");
  ParseErrorOf("Ada <ada@example.org>");
  ParseErrorOf("ada@example.org ");
}

TEST(EmailAddressTest, RejectsAddressWithoutAt) {
  for (const char* text : {"ada.example.org", "@example.org", "ada@"}) {
    const std::string message = ParseErrorOf(text);

    EXPECT_NE(message.find("name@example.org"), std::string::npos) << text << ": " << message;
  }
}

TEST(EmailAddressTest, RejectsSecondAt) {
  ParseErrorOf("ada@home@example.org");
}

TEST(EmailAddressTest, RejectsDomainWithoutDot) {
  const std::string message = ParseErrorOf("ada@localhost");

  EXPECT_NE(message.find("needs a dot"), std::string::npos) << message;
}

TEST(EmailAddressTest, RejectsLeadingTrailingAndDoubleDotsInLocalPart) {
  for (const char* text : {".ada@example.org", "ada.@example.org", "a..da@example.org"}) {
    const std::string message = ParseErrorOf(text);

    EXPECT_NE(message.find("before the @"), std::string::npos) << text << ": " << message;
  }
}

TEST(EmailAddressTest, RejectsLeadingTrailingAndDoubleDotsInDomain) {
  for (const char* text : {"ada@.example.org", "ada@example.org.", "ada@example..org"}) {
    const std::string message = ParseErrorOf(text);

    EXPECT_NE(message.find("after the @"), std::string::npos) << text << ": " << message;
  }
}

TEST(EmailAddressTest, RejectsDomainLabelStartingOrEndingWithHyphen) {
  ParseErrorOf("ada@-example.org");
  ParseErrorOf("ada@example-.org");
  ParseErrorOf("ada@example.-org");
}

TEST(EmailAddressTest, RejectsDomainLabelOver63Characters) {
  const std::string label_64 = std::string(64, 'x');

  ParseErrorOf("ada@" + label_64 + ".org");
  EXPECT_TRUE(EmailAddress::Parse("ada@" + std::string(63, 'x') + ".org").has_value());
}

TEST(EmailAddressTest, RejectsLocalPartOver64Bytes) {
  const std::string local_65 = std::string(65, 'a');

  ParseErrorOf(local_65 + "@example.org");
  EXPECT_TRUE(EmailAddress::Parse(std::string(64, 'a') + "@example.org").has_value());
}

TEST(EmailAddressTest, RejectsCharactersNotAllowedInDomainOrLocalPart) {
  ParseErrorOf("ada@exam_ple.org");
  ParseErrorOf("ada@example.org:25");
  ParseErrorOf("a(da)@example.org");
  ParseErrorOf("a\"da\"@example.org");
  ParseErrorOf("a,da@example.org");
}

TEST(EmailAddressTest, RejectsInvalidUtf8) {
  for (const char* text : {"j\xF6rg@example.org", "ada@b\xC3.example", "\xED\xA0\x80@example.org",
                           "\xC0\xAF@example.org"}) {
    const std::string message = ParseErrorOf(text);

    EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace inkwell::contracts
