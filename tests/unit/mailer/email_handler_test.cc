#include "mailer/email_handler.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "contracts/email_request.h"
#include "fakes/fake_delivery_log.h"
#include "fakes/fake_mail_sender.h"
#include "template_dirs.h"

namespace inkwell::mailer {
namespace {

constexpr char kFrom[] = "inkwell <no-reply@inkwell.test>";

amqp::Message WelcomeEmailDelivery(const std::string& to, const std::string& message_id = "m-1") {
  contracts::EmailRequest request;
  request.to = to;
  request.template_name = "welcome";
  request.data = {{"email", to}, {"name", "Ada"}};
  amqp::Message message;
  message.message_id = message_id;
  message.type = std::string(contracts::kEmailRequestType);
  message.body = contracts::EncodeEmailRequest(request);
  return message;
}

class EmailHandlerTest : public ::testing::Test {
 protected:
  EmailHandlerTest() {
    auto sender = std::make_unique<fakes::FakeMailSender>();
    sender_ = sender.get();
    handler_ = std::make_unique<EmailHandler>(std::move(sender), templates_, log_, kFrom, counters_);
  }

  templating::TemplateSet templates_ = RepoTemplates();
  fakes::FakeDeliveryLog log_;
  core::Metrics metrics_;
  MailerCounters counters_{metrics_};
  fakes::FakeMailSender* sender_ = nullptr;  // owned by handler_
  std::unique_ptr<EmailHandler> handler_;
};

TEST_F(EmailHandlerTest, SendsRenderedEmailAndLeavesTheRecordToTheCaller) {
  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kAck);
  const auto sent = sender_->sent();
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].to, "ada@example.org");
  EXPECT_EQ(sent[0].from, kFrom);
  EXPECT_EQ(sent[0].subject, "You've successfully registered!");
  EXPECT_EQ(sent[0].message_id, "m-1@inkwell");
  EXPECT_EQ(disposition.record_before_ack, "m-1");
  EXPECT_FALSE(log_.ids().contains("m-1"));  // the consumer records it, in a batch, before the ack
  EXPECT_EQ(counters_.sent.Value(), 1U);
}

TEST_F(EmailHandlerTest, KnownMessageIdIsAckedWithoutSending) {
  ASSERT_TRUE(log_.Record("m-1"));

  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kAck);
  EXPECT_EQ(sender_->attempts(), 0);
  EXPECT_EQ(counters_.duplicates.Value(), 1U);
  EXPECT_EQ(counters_.sent.Value(), 0U);
}

TEST_F(EmailHandlerTest, SecondDeliveryOfSameMessageIsNotSentAgain) {
  const amqp::Message message = WelcomeEmailDelivery("ada@example.org");

  const Disposition first = handler_->Handle(message);
  ASSERT_TRUE(log_.Record(first.record_before_ack));  // what the consumer does before the ack
  const Disposition second = handler_->Handle(message);

  EXPECT_EQ(first.action, Action::kAck);
  EXPECT_EQ(second.action, Action::kAck);
  EXPECT_TRUE(second.record_before_ack.empty());
  EXPECT_EQ(sender_->sent().size(), 1U);
}

TEST_F(EmailHandlerTest, WrongContentTypeIsDeadLettered) {
  amqp::Message message = WelcomeEmailDelivery("ada@example.org");
  message.content_type = "text/plain";

  const Disposition disposition = handler_->Handle(message);

  EXPECT_EQ(disposition.action, Action::kDeadLetter);
  EXPECT_NE(disposition.reason.find("text/plain"), std::string::npos) << disposition.reason;
  EXPECT_EQ(sender_->attempts(), 0);
}

TEST_F(EmailHandlerTest, AcceptsJsonContentTypeWithParametersOrNone) {
  amqp::Message with_charset = WelcomeEmailDelivery("ada@example.org", "m-1");
  with_charset.content_type = "Application/JSON; charset=utf-8";
  amqp::Message without = WelcomeEmailDelivery("grace@example.org", "m-2");
  without.content_type = "";

  const Disposition first = handler_->Handle(with_charset);
  const Disposition second = handler_->Handle(without);

  EXPECT_EQ(first.action, Action::kAck) << first.reason;
  EXPECT_EQ(second.action, Action::kAck) << second.reason;
  EXPECT_EQ(sender_->sent().size(), 2U);
}

TEST_F(EmailHandlerTest, UnparsableJsonIsDeadLettered) {
  amqp::Message message = WelcomeEmailDelivery("ada@example.org");
  message.body = "{\"to\": ";

  const Disposition disposition = handler_->Handle(message);

  EXPECT_EQ(disposition.action, Action::kDeadLetter);
  EXPECT_NE(disposition.reason.find("JSON"), std::string::npos) << disposition.reason;
  EXPECT_EQ(sender_->attempts(), 0);
  EXPECT_TRUE(log_.ids().empty());
}

TEST_F(EmailHandlerTest, InvalidRecipientIsDeadLettered) {
  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("not-an-address"));

  EXPECT_EQ(disposition.action, Action::kDeadLetter);
  EXPECT_EQ(sender_->attempts(), 0);
}

TEST_F(EmailHandlerTest, UnknownTemplateIsDeadLettered) {
  amqp::Message message = WelcomeEmailDelivery("ada@example.org");
  message.body = R"({"to": "ada@example.org", "template": "goodbye"})";

  const Disposition disposition = handler_->Handle(message);

  EXPECT_EQ(disposition.action, Action::kDeadLetter);
  EXPECT_NE(disposition.reason.find("goodbye"), std::string::npos) << disposition.reason;
  EXPECT_EQ(sender_->attempts(), 0);
}

TEST_F(EmailHandlerTest, SmtpTemporaryFailureIsRetriedLaterAndNotRecorded) {
  sender_->FailNextWith(core::ErrorCode::kUnavailable);

  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kRetryLater);
  EXPECT_TRUE(sender_->sent().empty());
  EXPECT_FALSE(log_.ids().contains("m-1"));
  EXPECT_EQ(counters_.sent.Value(), 0U);
}

TEST_F(EmailHandlerTest, RetriedMessageIsSentOnNextDelivery) {
  sender_->FailNextWith(core::ErrorCode::kUnavailable);
  const amqp::Message message = WelcomeEmailDelivery("ada@example.org");
  ASSERT_EQ(handler_->Handle(message).action, Action::kRetryLater);

  const Disposition disposition = handler_->Handle(message);

  EXPECT_EQ(disposition.action, Action::kAck);
  EXPECT_EQ(sender_->sent().size(), 1U);
}

TEST_F(EmailHandlerTest, SmtpPermanentFailureIsDeadLetteredAndNotRecorded) {
  sender_->FailNextWith(core::ErrorCode::kInvalidArgument);

  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kDeadLetter);
  EXPECT_FALSE(disposition.reason.empty());
  EXPECT_FALSE(log_.ids().contains("m-1"));
}

TEST_F(EmailHandlerTest, DeliveryLogFailureIsRetriedLaterWithoutSending) {
  log_.FailContainsWith(core::ErrorCode::kUnavailable);

  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kRetryLater);
  EXPECT_EQ(sender_->attempts(), 0);
}

TEST_F(EmailHandlerTest, FailedSendAsksForNoRecord) {
  sender_->FailNextWith(core::ErrorCode::kUnavailable);

  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org"));

  EXPECT_EQ(disposition.action, Action::kRetryLater);
  EXPECT_TRUE(disposition.record_before_ack.empty());
}

TEST_F(EmailHandlerTest, MessageWithoutIdIsSentButNotRecorded) {
  const Disposition disposition = handler_->Handle(WelcomeEmailDelivery("ada@example.org", ""));

  EXPECT_EQ(disposition.action, Action::kAck);
  ASSERT_EQ(sender_->sent().size(), 1U);
  EXPECT_FALSE(sender_->sent()[0].message_id.empty());
  EXPECT_TRUE(disposition.record_before_ack.empty());
  EXPECT_TRUE(log_.ids().empty());
}

TEST_F(EmailHandlerTest, LegacyBodyIsSentAsWelcomeWithMessage) {
  amqp::Message message = WelcomeEmailDelivery("ada@example.org");
  message.content_type = "";
  message.body = R"({"email": "ada@example.org", "message": "Hello from the old system"})";

  const Disposition disposition = handler_->Handle(message);

  EXPECT_EQ(disposition.action, Action::kAck) << disposition.reason;
  ASSERT_EQ(sender_->sent().size(), 1U);
  EXPECT_EQ(sender_->sent()[0].subject, "You've successfully registered!");
  EXPECT_NE(sender_->sent()[0].text.find("Hello from the old system"), std::string::npos);
}


TEST_F(EmailHandlerTest, HandleAllDecidesEachMessageOfABatchInOrder) {
  ASSERT_TRUE(log_.Record("m-4"));  // delivered before: a duplicate now
  amqp::Message wrong_type = WelcomeEmailDelivery("bob@example.org", "m-2");
  wrong_type.content_type = "text/plain";
  const amqp::Message ada = WelcomeEmailDelivery("ada@example.org", "m-1");
  const amqp::Message grace = WelcomeEmailDelivery("grace@example.org", "m-3");
  const amqp::Message again = WelcomeEmailDelivery("cy@example.org", "m-4");
  const amqp::Message dee = WelcomeEmailDelivery("dee@example.org", "m-5");
  const amqp::Message* batch[] = {&ada, &wrong_type, &grace, &again, &dee};
  sender_->FailNextWith(core::ErrorCode::kUnavailable);  // the first one sent: ada's

  const std::vector<Disposition> dispositions = handler_->HandleAll(batch);

  ASSERT_EQ(dispositions.size(), 5U);
  EXPECT_EQ(dispositions[0].action, Action::kRetryLater);
  EXPECT_TRUE(dispositions[0].record_before_ack.empty());
  EXPECT_EQ(dispositions[1].action, Action::kDeadLetter);
  EXPECT_NE(dispositions[1].reason.find("text/plain"), std::string::npos);
  EXPECT_EQ(dispositions[2].action, Action::kAck);
  EXPECT_EQ(dispositions[2].record_before_ack, "m-3");
  EXPECT_EQ(dispositions[3].action, Action::kAck);
  EXPECT_EQ(dispositions[3].reason, "duplicate");
  EXPECT_TRUE(dispositions[3].record_before_ack.empty());
  EXPECT_EQ(dispositions[4].record_before_ack, "m-5");
  EXPECT_EQ(sender_->attempts(), 3) << "ada, grace and dee; not the wrong type nor the duplicate";
  const auto sent = sender_->sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0].to, "grace@example.org");
  EXPECT_EQ(sent[1].to, "dee@example.org");
  EXPECT_EQ(counters_.sent.Value(), 2);
  EXPECT_EQ(counters_.duplicates.Value(), 1);
}

TEST_F(EmailHandlerTest, HandleAllWithNothingToSendLeavesTheSenderAlone) {
  amqp::Message bad = WelcomeEmailDelivery("ada@example.org");
  bad.body = "not json";
  const amqp::Message* batch[] = {&bad};

  const std::vector<Disposition> dispositions = handler_->HandleAll(batch);

  ASSERT_EQ(dispositions.size(), 1U);
  EXPECT_EQ(dispositions[0].action, Action::kDeadLetter);
  EXPECT_EQ(sender_->attempts(), 0);
}

}  // namespace
}  // namespace inkwell::mailer
