// The SMTP client's protocol pieces that need no server: reply parsing and dot-stuffing.
#include <string>

#include <gtest/gtest.h>

#include "mail/smtp_connection.h"

namespace inkwell::mail {
namespace {

TEST(SmtpReplyTest, SingleLine) {
  SmtpReply reply;
  const auto taken = ParseSmtpReply("250 2.0.0 Ok: queued\r\nMORE", reply);

  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, 22u);
  EXPECT_EQ(reply.code, 250);
  ASSERT_EQ(reply.lines.size(), 1u);
  EXPECT_EQ(reply.lines[0], "2.0.0 Ok: queued");
  EXPECT_EQ(reply.Describe(), "SMTP 250 2.0.0 Ok: queued");
}

TEST(SmtpReplyTest, MultiLineKeepsEveryLine) {
  SmtpReply reply;
  const std::string ehlo = "250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n";
  const auto taken = ParseSmtpReply(ehlo, reply);

  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, ehlo.size());
  ASSERT_EQ(reply.lines.size(), 3u);
  EXPECT_EQ(reply.lines[1], "PIPELINING");
  EXPECT_EQ(reply.Describe(), "SMTP 250 mx.example.org; PIPELINING; AUTH PLAIN LOGIN");
}

TEST(SmtpReplyTest, IncompleteReplyTakesNothing) {
  SmtpReply reply;
  EXPECT_EQ(*ParseSmtpReply("", reply), 0u);
  EXPECT_EQ(*ParseSmtpReply("250 Ok", reply), 0u);
  EXPECT_EQ(*ParseSmtpReply("250-first\r\n250 la", reply), 0u);
}

TEST(SmtpReplyTest, BareCodeAndBareLfAreAccepted) {
  SmtpReply reply;
  const auto taken = ParseSmtpReply("354\n", reply);

  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, 4u);
  EXPECT_EQ(reply.code, 354);
  EXPECT_EQ(reply.Describe(), "SMTP 354 ");
}

TEST(SmtpReplyTest, MalformedRepliesAreRefusedWithTheLine) {
  for (const char* bad : {"HTTP/1.1 400 Bad Request\r\n", "25\r\n", "250x\r\n", "650 six\r\n",
                          "250-a\r\n251 b\r\n", "\r\n"}) {
    SmtpReply reply;
    const auto taken = ParseSmtpReply(bad, reply);
    ASSERT_FALSE(taken) << bad;
    EXPECT_EQ(taken.error().code, core::ErrorCode::kUnavailable);
  }
  SmtpReply reply;
  EXPECT_NE(ParseSmtpReply("\x01\x02 binary\r\n", reply).error().message.find("'?? binary'"),
            std::string::npos);
}

TEST(SmtpReplyTest, EndlessReplyIsRefused) {
  SmtpReply reply;
  std::string flood(70 * 1024, 'x');
  EXPECT_FALSE(ParseSmtpReply(flood, reply));
  std::string many;
  while (many.size() < 70 * 1024) many += "250-more\r\n";
  EXPECT_FALSE(ParseSmtpReply(many, reply));
}

TEST(DotStuffedTest, LeadingDotsAreDoubledAndTheEndIsMarked) {
  EXPECT_EQ(DotStuffed("a\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(DotStuffed(".first\r\n"), "..first\r\n.\r\n");
  EXPECT_EQ(DotStuffed("no final line break"), "no final line break\r\n.\r\n");
  EXPECT_EQ(DotStuffed("line\r\n.\r\n"), "line\r\n..\r\n.\r\n") << "a lone dot must not end the data";
  EXPECT_EQ(DotStuffed(""), ".\r\n");
  EXPECT_EQ(DotStuffed("a\n.b"), "a\n..b\r\n.\r\n") << "a bare LF also starts a line";
}

}  // namespace
}  // namespace inkwell::mail
