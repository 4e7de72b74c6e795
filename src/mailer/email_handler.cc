#include "mailer/email_handler.h"

#include <chrono>

#include "contracts/email_request.h"
#include "core/log.h"
#include "mailer/email_renderer.h"

namespace inkwell::mailer {
namespace {

bool IsJsonContentType(std::string content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  for (char& c : content_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!content_type.empty() && content_type.back() == ' ') content_type.pop_back();
  // The original system's producers set no content type; anything else declared is refused.
  return content_type.empty() || content_type == "application/json";
}

}  // namespace

void EmailHandler::CountReply(const core::Result<void>& sent) {
  if (sent) return counters_.replies_2xx.Increment();
  // SmtpSender names the reply in its message ("... SMTP 451 ..."); no reply means the
  // connection failed. A maildir failure has no reply either.
  const std::string& text = sent.error().message;
  const size_t at = text.find("SMTP ");
  const char digit = at != std::string::npos && at + 5 < text.size() ? text[at + 5] : '\0';
  if (digit == '4') return counters_.replies_4xx.Increment();
  if (digit == '5') return counters_.replies_5xx.Increment();
  counters_.replies_none.Increment();
}

MailerCounters::MailerCounters(core::Metrics& metrics)
    : consumed(metrics.AddCounter("inkwell_mailer_consumed_total",
                                  "Deliveries received from the email queue")),
      acked(metrics.AddCounter("inkwell_mailer_acked_total",
                               "Deliveries acked after sending (or as duplicates)")),
      sent(metrics.AddCounter("inkwell_mailer_sent_total", "E-mails the mail server accepted")),
      duplicates(metrics.AddCounter("inkwell_mailer_duplicates_total",
                                    "Messages acked without sending: message_id already delivered")),
      retried(metrics.AddCounter("inkwell_mailer_retried_total",
                                 "Messages sent to a delayed-retry queue after a transient failure")),
      dead_lettered(metrics.AddCounter("inkwell_mailer_dead_lettered_total",
                                       "Messages sent to email.dead (poison or permanent failure)")),
      replies_2xx(metrics.AddCounter("inkwell_smtp_replies_total", "Mail server replies by class",
                                     R"(class="2xx")")),
      replies_4xx(metrics.AddCounter("inkwell_smtp_replies_total", "Mail server replies by class",
                                     R"(class="4xx")")),
      replies_5xx(metrics.AddCounter("inkwell_smtp_replies_total", "Mail server replies by class",
                                     R"(class="5xx")")),
      replies_none(metrics.AddCounter("inkwell_smtp_replies_total", "Mail server replies by class",
                                      R"(class="none")")) {}

Disposition EmailHandler::Handle(const amqp::Message& message) {
  if (!IsJsonContentType(message.content_type)) {
    return Disposition{Action::kDeadLetter,
                       "content type '" + message.content_type + "' is not application/json"};
  }
  auto request = contracts::ParseEmailRequest(message.body);
  if (!request) return DispositionFor(tl::unexpected(request.error()));

  if (!message.message_id.empty()) {
    auto is_known = delivery_log_.Contains(message.message_id);
    // Our own store failing says nothing about the message: try it again later.
    if (!is_known) return Disposition{Action::kRetryLater, is_known.error().message};
    if (*is_known) {
      counters_.duplicates.Increment();
      core::LogInfo("duplicate message acked without sending", {{"message_id", message.message_id}});
      return Disposition{Action::kAck, "duplicate"};
    }
  }
  auto rendered = RenderEmail(*request, templates_, from_, message.message_id);
  if (!rendered) return DispositionFor(tl::unexpected(rendered.error()));

  const auto started = std::chrono::system_clock::now();
  const auto started_steady = std::chrono::steady_clock::now();
  const core::Result<void> sent = sender_->Send(*rendered);
  core::Log::Span("smtp reply", core::TraceScope::Current(), started,
                  std::chrono::steady_clock::now() - started_steady,
                  {{"message_id", message.message_id},
                   {"outcome", sent ? "accepted" : sent.error().message}});
  CountReply(sent);
  if (!sent) return DispositionFor(sent);
  counters_.sent.Increment();
  // The caller records message_id before the ack: a redelivery after that is not sent again.
  core::LogDebug("e-mail sent", {{"message_id", message.message_id}});
  return Disposition{Action::kAck, "", message.message_id};
}

}  // namespace inkwell::mailer
