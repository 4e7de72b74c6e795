#include "amqp/broker_url.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::amqp {
namespace {

// The message of a URL that must not parse.
std::string ErrorOf(std::string_view text) {
  const auto parsed = BrokerUrl::Parse(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument) << text;
  return parsed.error().message;
}

TEST(BrokerUrlTest, UsesRabbitMqDefaultsForBareHost) {
  const auto url = BrokerUrl::Parse("amqp://broker.internal");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "broker.internal");
  EXPECT_EQ(url->port, 5672);
  EXPECT_EQ(url->user, "guest");
  EXPECT_EQ(url->password, "guest");
  EXPECT_EQ(url->vhost, "/");
  EXPECT_FALSE(url->is_tls);
}

TEST(BrokerUrlTest, EmptyPathMeansDefaultVhost) {
  const auto url = BrokerUrl::Parse("amqp://broker:5672/");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->vhost, "/");
}

TEST(BrokerUrlTest, AmqpsDefaultsToPort5671WithTls) {
  const auto url = BrokerUrl::Parse("amqps://broker.internal/");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_TRUE(url->is_tls);
  EXPECT_EQ(url->port, 5671);
}

TEST(BrokerUrlTest, ReadsCredentialsPortAndVhost) {
  const auto url = BrokerUrl::Parse("amqp://inkwell:s3cret@127.0.0.1:5682/production");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->user, "inkwell");
  EXPECT_EQ(url->password, "s3cret");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 5682);
  EXPECT_EQ(url->vhost, "production");
}

TEST(BrokerUrlTest, ExplicitPortOverridesAmqpsDefault) {
  const auto url = BrokerUrl::Parse("amqps://broker:15671");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->port, 15671);
  EXPECT_TRUE(url->is_tls);
}

TEST(BrokerUrlTest, DecodesEscapedSlashVhost) {
  const auto lower = BrokerUrl::Parse("amqp://broker/%2f");
  const auto upper = BrokerUrl::Parse("amqp://broker/%2F");
  const auto named = BrokerUrl::Parse("amqp://broker/team%2Fblue");

  ASSERT_TRUE(lower && upper && named);
  EXPECT_EQ(lower->vhost, "/");
  EXPECT_EQ(upper->vhost, "/");
  EXPECT_EQ(named->vhost, "team/blue");
}

TEST(BrokerUrlTest, DecodesPercentEscapesInCredentials) {
  const auto url = BrokerUrl::Parse("amqp://ada%40example.org:p%3Ass%2F%25%40@broker/");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->user, "ada@example.org");
  EXPECT_EQ(url->password, "p:ss/%@");
  EXPECT_EQ(url->host, "broker");
}

TEST(BrokerUrlTest, UserWithoutPasswordKeepsDefaultPassword) {
  const auto url = BrokerUrl::Parse("amqp://ada@broker");

  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->user, "ada");
  EXPECT_EQ(url->password, "guest");
}

TEST(BrokerUrlTest, RejectsMalformedPercentEscapes) {
  for (const char* text : {"amqp://ada:p%zz@broker/", "amqp://ada:p%4@broker/", "amqp://broker/v%",
                           "amqp://broker/v%2", "amqp://a%g1@broker/"}) {
    const std::string message = ErrorOf(text);

    EXPECT_NE(message.find("%-escape"), std::string::npos) << text << ": " << message;
  }
}

TEST(BrokerUrlTest, RejectsBadPort) {
  for (const char* text : {"amqp://broker:0/", "amqp://broker:65536/", "amqp://broker:port/",
                           "amqp://broker:/", "amqp://broker:-1/", "amqp://broker:56 72/"}) {
    const std::string message = ErrorOf(text);

    EXPECT_NE(message.find("port"), std::string::npos) << text << ": " << message;
  }
}

TEST(BrokerUrlTest, RejectsMissingHost) {
  for (const char* text : {"amqp://", "amqp:///", "amqp://guest:guest@/", "amqp://:5672/"}) {
    const std::string message = ErrorOf(text);

    EXPECT_NE(message.find("host is missing"), std::string::npos) << text << ": " << message;
  }
}

TEST(BrokerUrlTest, RejectsWrongScheme) {
  for (const char* text : {"http://broker/", "AMQP://broker/", "broker:5672", "", "amqp:/broker"}) {
    const std::string message = ErrorOf(text);

    EXPECT_NE(message.find("amqp://"), std::string::npos) << text << ": " << message;
  }
}

TEST(BrokerUrlTest, RedactedHidesPasswordButKeepsTheRest) {
  const auto url = BrokerUrl::Parse("amqp://inkwell:s3cret@127.0.0.1:5682/production");
  ASSERT_TRUE(url) << url.error().message;

  const std::string redacted = url->Redacted();

  EXPECT_EQ(redacted.find("s3cret"), std::string::npos) << redacted;
  EXPECT_EQ(redacted, "amqp://inkwell:***@127.0.0.1:5682/production");
}

TEST(BrokerUrlTest, RedactedShowsDefaultsAndTls) {
  const auto plain = BrokerUrl::Parse("amqp://broker");
  const auto tls = BrokerUrl::Parse("amqps://ada:pw@broker/");
  ASSERT_TRUE(plain && tls);

  const std::string redacted_plain = plain->Redacted();
  const std::string redacted_tls = tls->Redacted();

  EXPECT_EQ(redacted_plain, "amqp://guest:***@broker:5672/");
  EXPECT_EQ(redacted_tls, "amqps://ada:***@broker:5671/");
}

}  // namespace
}  // namespace inkwell::amqp
