#include "contracts/email_request.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::contracts {
namespace {

using Data = std::map<std::string, std::string>;

// The message of a body that must not parse.
std::string ErrorOf(std::string_view body) {
  const auto parsed = ParseEmailRequest(body);
  EXPECT_FALSE(parsed.has_value()) << body;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument) << body;
  return parsed.error().message;
}

void ExpectSameRequest(const EmailRequest& actual, const EmailRequest& expected) {
  EXPECT_EQ(actual.to, expected.to);
  EXPECT_EQ(actual.template_name, expected.template_name);
  EXPECT_EQ(actual.data, expected.data);
  EXPECT_EQ(actual.subject, expected.subject);
  EXPECT_EQ(actual.text, expected.text);
  EXPECT_EQ(actual.html, expected.html);
}

TEST(ParseEmailRequestTest, ReadsTemplatedForm) {
  const auto request = ParseEmailRequest(
      R"({"to": "ada@example.org", "template": "welcome", "data": {"name": "Ada", "email": "ada@example.org"}})");

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_TRUE(request->is_templated());
  EXPECT_EQ(request->to, "ada@example.org");
  EXPECT_EQ(request->template_name, "welcome");
  EXPECT_EQ(request->data, (Data{{"name", "Ada"}, {"email", "ada@example.org"}}));
  EXPECT_EQ(request->subject, "");
}

TEST(ParseEmailRequestTest, TemplatedFormMayOmitDataOrSetItNull) {
  const auto omitted = ParseEmailRequest(R"({"to": "ada@example.org", "template": "welcome"})");
  const auto null = ParseEmailRequest(R"({"to": "ada@example.org", "template": "welcome", "data": null})");

  ASSERT_TRUE(omitted) << omitted.error().message;
  ASSERT_TRUE(null) << null.error().message;
  EXPECT_TRUE(omitted->data.empty());
  EXPECT_TRUE(null->data.empty());
}

TEST(ParseEmailRequestTest, ReadsLiteralForm) {
  const auto request = ParseEmailRequest(
      R"({"to": "ada@example.org", "subject": "Hi", "text": "Hello", "html": "<p>Hello</p>"})");

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_FALSE(request->is_templated());
  EXPECT_EQ(request->to, "ada@example.org");
  EXPECT_EQ(request->subject, "Hi");
  EXPECT_EQ(request->text, "Hello");
  EXPECT_EQ(request->html, "<p>Hello</p>");
}

TEST(ParseEmailRequestTest, LiteralFormHtmlIsOptional) {
  const auto request =
      ParseEmailRequest(R"({"to": "ada@example.org", "subject": "Hi", "text": "Hello"})");

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->html, "");
}

TEST(ParseEmailRequestTest, ReadsLegacyFormAsWelcomeTemplateWithAddressAndMessage) {
  const auto request =
      ParseEmailRequest(R"({"email": "ada@example.org", "message": "Thanks for joining"})");

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->to, "ada@example.org");
  EXPECT_EQ(request->template_name, "welcome");
  EXPECT_EQ(request->data, (Data{{"email", "ada@example.org"}, {"message", "Thanks for joining"}}));
}

TEST(ParseEmailRequestTest, LegacyFormWithoutMessageHasOnlyTheAddress) {
  const auto request = ParseEmailRequest(R"({"email": "ada@example.org"})");

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->template_name, "welcome");
  EXPECT_EQ(request->data, (Data{{"email", "ada@example.org"}}));
}

TEST(ParseEmailRequestTest, RejectsLegacyFormWithInvalidEmail) {
  const std::string message = ErrorOf(R"({"email": "not an address", "message": "x"})");

  EXPECT_NE(message.find("\"email\""), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsLegacyFormWithNonStringMessage) {
  const std::string message = ErrorOf(R"({"email": "ada@example.org", "message": 7})");

  EXPECT_NE(message.find("\"message\" must be a string"), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsBodyThatIsNotJson) {
  for (const char* body : {"", "not json", "{\"to\": ", "{'to': 'a@b.c'}"}) {
    const std::string message = ErrorOf(body);

    EXPECT_NE(message.find("not valid JSON"), std::string::npos) << body << ": " << message;
  }
}

TEST(ParseEmailRequestTest, RejectsJsonThatIsNotAnObject) {
  for (const char* body : {"[]", "\"ada@example.org\"", "42", "null", "true"}) {
    const std::string message = ErrorOf(body);

    EXPECT_NE(message.find("JSON object"), std::string::npos) << body << ": " << message;
  }
}

TEST(ParseEmailRequestTest, RejectsMissingTo) {
  const std::string message = ErrorOf(R"({"subject": "Hi", "text": "Hello"})");

  EXPECT_NE(message.find("missing field \"to\""), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsNullTo) {
  const std::string message = ErrorOf(R"({"to": null, "subject": "Hi", "text": "Hello"})");

  EXPECT_NE(message.find("missing field \"to\""), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsNonStringTo) {
  const std::string message = ErrorOf(R"({"to": ["ada@example.org"], "subject": "Hi", "text": "x"})");

  EXPECT_NE(message.find("\"to\" must be a string"), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsInvalidTo) {
  for (const char* body : {R"({"to": "ada", "subject": "Hi", "text": "x"})",
                           R"({"to": "ada@example.org\r\nBcc: x@y.z", "subject": "Hi", "text": "x"})",
                           R"({"to": "", "subject": "Hi", "text": "x"})"}) {
    const std::string message = ErrorOf(body);

    EXPECT_NE(message.find("field \"to\": "), std::string::npos) << body << ": " << message;
  }
}

TEST(ParseEmailRequestTest, RejectsLiteralFormWithoutSubjectOrText) {
  const std::string no_subject = ErrorOf(R"({"to": "ada@example.org", "text": "Hello"})");
  const std::string no_text = ErrorOf(R"({"to": "ada@example.org", "subject": "Hi"})");

  EXPECT_NE(no_subject.find("missing field \"subject\""), std::string::npos) << no_subject;
  EXPECT_NE(no_text.find("missing field \"text\""), std::string::npos) << no_text;
}

TEST(ParseEmailRequestTest, RejectsMistypedLiteralFields) {
  const std::string subject = ErrorOf(R"({"to": "ada@example.org", "subject": 1, "text": "x"})");
  const std::string text = ErrorOf(R"({"to": "ada@example.org", "subject": "s", "text": {}})");
  const std::string html =
      ErrorOf(R"({"to": "ada@example.org", "subject": "s", "text": "x", "html": false})");

  EXPECT_NE(subject.find("\"subject\" must be a string"), std::string::npos) << subject;
  EXPECT_NE(text.find("\"text\" must be a string"), std::string::npos) << text;
  EXPECT_NE(html.find("\"html\" must be a string"), std::string::npos) << html;
}

TEST(ParseEmailRequestTest, RejectsMistypedOrEmptyTemplate) {
  const std::string mistyped = ErrorOf(R"({"to": "ada@example.org", "template": 3})");
  const std::string empty = ErrorOf(R"({"to": "ada@example.org", "template": ""})");
  const std::string null = ErrorOf(R"({"to": "ada@example.org", "template": null})");

  EXPECT_NE(mistyped.find("\"template\" must be a string"), std::string::npos) << mistyped;
  EXPECT_NE(empty.find("\"template\" is empty"), std::string::npos) << empty;
  EXPECT_NE(null.find("\"template\""), std::string::npos) << null;
}

TEST(ParseEmailRequestTest, RejectsDataThatIsNotAnObject) {
  const std::string message =
      ErrorOf(R"({"to": "ada@example.org", "template": "welcome", "data": ["x"]})");

  EXPECT_NE(message.find("\"data\" must be an object"), std::string::npos) << message;
}

TEST(ParseEmailRequestTest, RejectsDataValuesThatAreNotStrings) {
  for (const char* value : {"1", "null", "true", "{}", "[]"}) {
    const std::string body = std::string(R"({"to": "ada@example.org", "template": "welcome", "data": {"name": )") +
                             value + "}}";

    const std::string message = ErrorOf(body);

    EXPECT_NE(message.find("\"data.name\" must be a string"), std::string::npos)
        << body << ": " << message;
  }
}

TEST(ParseEmailRequestTest, AcceptsBodyOfExactlyTheLimit) {
  const std::string prefix = R"({"to": "ada@example.org", "subject": "s", "text": ")";
  const std::string suffix = R"("})";
  const std::string body =
      prefix + std::string(kMaxEmailRequestBytes - prefix.size() - suffix.size(), 'x') + suffix;
  ASSERT_EQ(body.size(), kMaxEmailRequestBytes);

  const auto request = ParseEmailRequest(body);

  EXPECT_TRUE(request.has_value()) << request.error().message;
}

TEST(ParseEmailRequestTest, RejectsBodyOverTheLimit) {
  const std::string prefix = R"({"to": "ada@example.org", "subject": "s", "text": ")";
  const std::string suffix = R"("})";
  const std::string body =
      prefix + std::string(kMaxEmailRequestBytes + 1 - prefix.size() - suffix.size(), 'x') + suffix;

  const std::string message = ErrorOf(body);

  EXPECT_NE(message.find("over the limit"), std::string::npos) << message;
}

TEST(EncodeEmailRequestTest, TemplatedRequestSurvivesRoundTrip) {
  EmailRequest request;
  request.to = "ada@example.org";
  request.template_name = "welcome";
  request.data = {{"name", "Ada \"the\" <Countess>\n"}, {"email", "ada@example.org"},
                  {"greeting", "Gr\xC3\xBC\xC3\x9F" "e"}};

  const auto decoded = ParseEmailRequest(EncodeEmailRequest(request));

  ASSERT_TRUE(decoded) << decoded.error().message;
  ExpectSameRequest(*decoded, request);
}

TEST(EncodeEmailRequestTest, TemplatedRequestWithoutDataSurvivesRoundTrip) {
  EmailRequest request;
  request.to = "ada@example.org";
  request.template_name = "welcome";

  const auto decoded = ParseEmailRequest(EncodeEmailRequest(request));

  ASSERT_TRUE(decoded) << decoded.error().message;
  ExpectSameRequest(*decoded, request);
}

TEST(EncodeEmailRequestTest, LiteralRequestSurvivesRoundTrip) {
  EmailRequest with_html;
  with_html.to = "ada@example.org";
  with_html.subject = "Hi \xE2\x82\xAC";
  with_html.text = "line 1\r\nline 2\t\"quoted\"";
  with_html.html = "<p>Hello &amp; welcome</p>";
  EmailRequest without_html = with_html;
  without_html.html = "";

  const auto decoded_with = ParseEmailRequest(EncodeEmailRequest(with_html));
  const auto decoded_without = ParseEmailRequest(EncodeEmailRequest(without_html));

  ASSERT_TRUE(decoded_with) << decoded_with.error().message;
  ASSERT_TRUE(decoded_without) << decoded_without.error().message;
  ExpectSameRequest(*decoded_with, with_html);
  ExpectSameRequest(*decoded_without, without_html);
}

TEST(EncodeEmailRequestTest, WritesCanonicalTemplatedForm) {
  EmailRequest request;
  request.to = "ada@example.org";
  request.template_name = "welcome";
  request.data = {{"name", "Ada"}};

  const std::string body = EncodeEmailRequest(request);

  EXPECT_EQ(body, R"({"data":{"name":"Ada"},"template":"welcome","to":"ada@example.org"})");
}

}  // namespace
}  // namespace inkwell::contracts
