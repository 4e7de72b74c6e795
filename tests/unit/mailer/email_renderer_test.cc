#include "mailer/email_renderer.h"

#include <string>

#include <gtest/gtest.h>

#include "template_dirs.h"

namespace inkwell::mailer {
namespace {

constexpr char kSender[] = "inkwell <no-reply@inkwell.test>";

contracts::EmailRequest WelcomeRequest(const std::string& name) {
  contracts::EmailRequest request;
  request.to = "ada@example.org";
  request.template_name = "welcome";
  request.data = {{"email", "ada@example.org"}, {"name", name}};
  return request;
}

TEST(RenderEmailTest, RendersWelcomeTemplate) {
  const templating::TemplateSet templates = RepoTemplates();

  auto message = RenderEmail(WelcomeRequest("Ada"), templates, kSender, "m-1");

  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->subject, "You've successfully registered!");
  EXPECT_EQ(message->from, kSender);
  EXPECT_EQ(message->to, "ada@example.org");
  EXPECT_NE(message->text.find("ada@example.org"), std::string::npos) << message->text;
  EXPECT_NE(message->html.find("ada@example.org"), std::string::npos) << message->html;
  EXPECT_NE(message->text.find("Ada"), std::string::npos);
  EXPECT_EQ(message->message_id, "m-1@inkwell");
  EXPECT_NE(message->date, std::chrono::system_clock::time_point());
}

TEST(RenderEmailTest, HtmlPartEscapesNameAndTextPartDoesNot) {
  const templating::TemplateSet templates = RepoTemplates();

  auto message = RenderEmail(WelcomeRequest("<b>x</b>"), templates, kSender, "m-1");

  ASSERT_TRUE(message) << message.error().message;
  EXPECT_NE(message->html.find("&lt;b&gt;x&lt;"), std::string::npos) << message->html;
  EXPECT_EQ(message->html.find("<b>"), std::string::npos) << message->html;
  EXPECT_NE(message->text.find("<b>x</b>"), std::string::npos) << message->text;
}

TEST(RenderEmailTest, LegacyMessageAppearsInBothParts) {
  const templating::TemplateSet templates = RepoTemplates();
  contracts::EmailRequest request;
  request.to = "ada@example.org";
  request.template_name = "welcome";
  request.data = {{"message", "Thanks & welcome"}};

  auto message = RenderEmail(request, templates, kSender, "m-1");

  ASSERT_TRUE(message) << message.error().message;
  EXPECT_NE(message->text.find("Thanks & welcome"), std::string::npos) << message->text;
  EXPECT_NE(message->html.find("Thanks &amp; welcome"), std::string::npos) << message->html;
}

TEST(RenderEmailTest, OffersToAsTemplateValue) {
  TempTemplateDir dir;
  dir.Write("email/note.subject.mustache", "For {{to}}\n");
  dir.Write("email/note.txt.mustache", "Hi {{{to}}}");
  contracts::EmailRequest request;
  request.to = "grace@example.org";
  request.template_name = "note";

  auto message = RenderEmail(request, dir.Load(), kSender, "m-1");

  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->subject, "For grace@example.org");
  EXPECT_EQ(message->text, "Hi grace@example.org");
  EXPECT_EQ(message->html, "");  // no note.html template: plain text only
}

TEST(RenderEmailTest, SendsLiteralFormAsGiven) {
  const templating::TemplateSet templates = RepoTemplates();
  contracts::EmailRequest request;
  request.to = "ada@example.org";
  request.subject = "Your invoice";
  request.text = "Amount: 3 <EUR>";
  request.html = "<p>Amount: 3 &lt;EUR&gt;</p>";

  auto message = RenderEmail(request, templates, kSender, "m-2");

  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->subject, "Your invoice");
  EXPECT_EQ(message->text, "Amount: 3 <EUR>");
  EXPECT_EQ(message->html, "<p>Amount: 3 &lt;EUR&gt;</p>");
  EXPECT_EQ(message->to, "ada@example.org");
}

TEST(RenderEmailTest, UnknownTemplateIsInvalidArgument) {
  const templating::TemplateSet templates = RepoTemplates();
  contracts::EmailRequest request = WelcomeRequest("Ada");
  request.template_name = "goodbye";

  auto message = RenderEmail(request, templates, kSender, "m-1");

  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(message.error().message.find("goodbye"), std::string::npos);
}

TEST(RenderEmailTest, TemplateWithoutTextPartIsInvalidArgument) {
  TempTemplateDir dir;
  dir.Write("email/half.subject.mustache", "Subject");
  dir.Write("email/half.html.mustache", "<p>only html</p>");
  contracts::EmailRequest request = WelcomeRequest("Ada");
  request.template_name = "half";

  auto message = RenderEmail(request, dir.Load(), kSender, "m-1");

  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(RenderEmailTest, EmptyRenderedSubjectIsInvalidArgument) {
  TempTemplateDir dir;
  dir.Write("email/blank.subject.mustache", "  {{missing}} \n");
  dir.Write("email/blank.txt.mustache", "Body");
  contracts::EmailRequest request = WelcomeRequest("Ada");
  request.template_name = "blank";

  auto message = RenderEmail(request, dir.Load(), kSender, "m-1");

  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(message.error().message.find("empty subject"), std::string::npos);
}

TEST(RenderEmailTest, EmptyRenderedTextIsInvalidArgument) {
  TempTemplateDir dir;
  dir.Write("email/blank.subject.mustache", "Subject");
  dir.Write("email/blank.txt.mustache", "{{missing}}");
  contracts::EmailRequest request = WelcomeRequest("Ada");
  request.template_name = "blank";

  auto message = RenderEmail(request, dir.Load(), kSender, "m-1");

  // The header promises kInvalidArgument for "an empty rendered subject or text".
  ASSERT_FALSE(message) << "rendered an e-mail with an empty text part";
  EXPECT_EQ(message.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(MessageIdForTest, IsDeterministic) {
  const std::string first = MessageIdFor("0b7c6f1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f");

  const std::string second = MessageIdFor("0b7c6f1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f");

  EXPECT_EQ(first, second);
  EXPECT_EQ(first, "0b7c6f1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f@inkwell");
}

TEST(MessageIdForTest, ReplacesCharactersNotSafeInMessageId) {
  const std::string id = MessageIdFor("a b<c>@d\r\n\"e\xC3\xA9");

  const std::string local = id.substr(0, id.rfind('@'));
  EXPECT_EQ(id.substr(id.rfind('@')), "@inkwell");
  EXPECT_EQ(local.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._="),
            std::string::npos)
      << id;
  EXPECT_EQ(local.find('@'), std::string::npos);
}

TEST(MessageIdForTest, DistinctUnsafeIdsStayDistinct) {
  const std::string slash = MessageIdFor("a/b");
  const std::string colon = MessageIdFor("a:b");
  const std::string literal = MessageIdFor("a=2fb");

  EXPECT_NE(slash, colon);
  EXPECT_NE(slash, literal);
}

TEST(MessageIdForTest, EmptyIdGetsFreshRandomId) {
  const std::string first = MessageIdFor("");

  const std::string second = MessageIdFor("");

  EXPECT_NE(first, second);
  EXPECT_EQ(first.size(), 36U + std::string("@inkwell").size());
  EXPECT_EQ(first.substr(36), "@inkwell");
}

TEST(MessageIdForTest, BoundsLengthOfLongIds) {
  const std::string id = MessageIdFor(std::string(1000, 'x'));

  EXPECT_LE(id.size(), 128U + std::string("@inkwell").size());
}

}  // namespace
}  // namespace inkwell::mailer
