#include "mail/mail_url.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::mail {
namespace {

// The error message of a URL that must not parse.
std::string ErrorOf(std::string_view url) {
  const auto parsed = ParseMailUrl(url);
  EXPECT_FALSE(parsed.has_value()) << url;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

TEST(ParseMailUrlTest, AcceptsRelativeAndAbsoluteMaildir) {
  const auto relative = ParseMailUrl("maildir:var/mail");
  const auto absolute = ParseMailUrl("maildir:/srv/mail");
  const auto slashes = ParseMailUrl("maildir:///srv/mail");

  ASSERT_TRUE(relative && absolute && slashes);
  EXPECT_EQ(relative->scheme, MailUrl::Scheme::kMaildir);
  EXPECT_EQ(relative->maildir, "var/mail");
  EXPECT_EQ(absolute->maildir, "/srv/mail");
  EXPECT_EQ(slashes->maildir, "/srv/mail");
}

TEST(ParseMailUrlTest, SmtpDefaultsToPort25WithoutTlsOrAuth) {
  const auto url = ParseMailUrl("smtp://mail.example.org");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->scheme, MailUrl::Scheme::kSmtp);
  EXPECT_EQ(url->host, "mail.example.org");
  EXPECT_EQ(url->port, 25);
  EXPECT_EQ(url->user, "");
  EXPECT_EQ(url->password, "");
  EXPECT_EQ(url->starttls, MailUrl::StartTls::kNone);
}

TEST(ParseMailUrlTest, SmtpsDefaultsToPort465) {
  const auto url = ParseMailUrl("smtps://mail.example.org/");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->scheme, MailUrl::Scheme::kSmtps);
  EXPECT_EQ(url->port, 465);
}

TEST(ParseMailUrlTest, ReadsPercentDecodedCredentialsPortAndStartTls) {
  const auto url =
      ParseMailUrl("smtp://ada%40example.org:p%3Ass%2F%25@127.0.0.1:2525?starttls=required");
  const auto optional = ParseMailUrl("smtp://relay:587/?starttls=optional");
  const auto user_only = ParseMailUrl("smtps://ada@relay");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->user, "ada@example.org");
  EXPECT_EQ(url->password, "p:ss/%");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 2525);
  EXPECT_EQ(url->starttls, MailUrl::StartTls::kRequired);
  ASSERT_TRUE(optional) << optional.error().message;
  EXPECT_EQ(optional->starttls, MailUrl::StartTls::kOptional);
  EXPECT_EQ(optional->port, 587);
  ASSERT_TRUE(user_only) << user_only.error().message;
  EXPECT_EQ(user_only->user, "ada");
  EXPECT_EQ(user_only->password, "");
}

TEST(ParseMailUrlTest, ReadsBracketedIpv6Host) {
  const auto url = ParseMailUrl("smtp://[::1]:2525");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 2525);
}

TEST(ParseMailUrlTest, RejectsUnknownScheme) {
  EXPECT_EQ(ErrorOf("ftp://host"),
            "INKWELL_MAIL_URL: unknown scheme 'ftp', expected maildir:, smtp:// or smtps://");
}

TEST(ParseMailUrlTest, RejectsEachMalformedPart) {
  EXPECT_NE(ErrorOf("var/mail").find("missing scheme"), std::string::npos);
  EXPECT_NE(ErrorOf("maildir:").find("needs a path"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp:host").find("expected '//'"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://").find("missing host"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://user@:25").find("missing host"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host:").find("bad port ''"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host:0").find("bad port '0'"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host:65536").find("bad port"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host:25x").find("bad port"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://::1:25").find("brackets"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://[::1").find("lacks ']'"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://[::1]x").find("after IPv6 host"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host/inbox").find("unexpected path"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host?tls=1").find("unknown parameter 'tls'"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://host?starttls=maybe").find("bad starttls value 'maybe'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("smtps://host?starttls=required").find("smtp:// only"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://:secret@host").find("empty user name"), std::string::npos);
  EXPECT_NE(ErrorOf("smtp://u%4@host").find("percent-encoding in the user name"),
            std::string::npos);
}

TEST(ParseMailUrlTest, ErrorsNeverShowThePassword) {
  const std::string message = ErrorOf("smtp://ada:s3cr%zzet@host");

  EXPECT_NE(message.find("password"), std::string::npos);
  EXPECT_EQ(message.find("s3cr"), std::string::npos);
}

}  // namespace
}  // namespace inkwell::mail
