#include "mailer/email_handler.h"

#include <chrono>

#include "contracts/email_request.h"
#include "core/log.h"
#include "core/traceparent.h"
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
                                      R"(class="none")")),
      batch_messages(metrics.AddHistogram("inkwell_mailer_batch_messages",
                                          "Messages per send, pipelined over one SMTP connection",
                                          "", {1, 2, 4, 8, 16})) {}

tl::expected<mail::MimeMessage, Disposition> EmailHandler::Prepare(const amqp::Message& message) {
  if (!IsJsonContentType(message.content_type)) {
    return tl::unexpected(Disposition{
        Action::kDeadLetter, "content type '" + message.content_type + "' is not application/json"});
  }
  auto request = contracts::ParseEmailRequest(message.body);
  if (!request) return tl::unexpected(DispositionFor(tl::unexpected(request.error())));

  if (!message.message_id.empty()) {
    auto is_known = delivery_log_.Contains(message.message_id);
    // Our own store failing says nothing about the message: try it again later.
    if (!is_known) return tl::unexpected(Disposition{Action::kRetryLater, is_known.error().message});
    if (*is_known) {
      counters_.duplicates.Increment();
      core::LogInfo("duplicate message acked without sending", {{"message_id", message.message_id}});
      return tl::unexpected(Disposition{Action::kAck, kDuplicateReason});
    }
  }
  auto rendered = RenderEmail(*request, templates_, from_, message.message_id);
  if (!rendered) return tl::unexpected(DispositionFor(tl::unexpected(rendered.error())));
  return std::move(*rendered);
}

Disposition EmailHandler::Handle(const amqp::Message& message) {
  const amqp::Message* one[] = {&message};
  return std::move(HandleAll(one).front());
}

std::vector<Disposition> EmailHandler::HandleAll(std::span<const amqp::Message* const> messages) {
  std::vector<Disposition> dispositions(messages.size());
  std::vector<mail::MimeMessage> to_send;
  std::vector<size_t> sent_from;  // for each of to_send: its index in messages
  for (size_t i = 0; i < messages.size(); ++i) {
    const core::TraceScope trace(core::TraceIdOf(messages[i]->Header("traceparent")));
    try {
      auto prepared = Prepare(*messages[i]);
      if (!prepared) {
        dispositions[i] = std::move(prepared.error());
        continue;
      }
      to_send.push_back(std::move(*prepared));
      sent_from.push_back(i);
    } catch (const std::exception& exception) {
      // A bug costs this message (it goes to email.dead with the reason), not its batch.
      core::LogError("rendering a message threw",
                     {{"message_id", messages[i]->message_id}, {"error", exception.what()}});
      dispositions[i] = Disposition{Action::kDeadLetter, std::string("internal error: ") + exception.what()};
    }
  }
  if (to_send.empty()) return dispositions;

  counters_.batch_messages.Observe(static_cast<double>(to_send.size()));
  const auto started = std::chrono::system_clock::now();
  const auto started_steady = std::chrono::steady_clock::now();
  std::vector<core::Result<void>> results = sender_->SendAll(to_send);
  const auto took = std::chrono::steady_clock::now() - started_steady;
  if (results.size() != to_send.size()) {  // a sender's bug: retry what it did not answer for
    results.resize(to_send.size(), tl::unexpected(core::Error{
                                       core::ErrorCode::kUnavailable, "the sender gave no result"}));
  }
  for (size_t k = 0; k < sent_from.size(); ++k) {
    const amqp::Message& message = *messages[sent_from[k]];
    const core::Result<void>& sent = results[k];
    const core::TraceScope trace(core::TraceIdOf(message.Header("traceparent")));
    // In a pipelined batch each message's span covers the whole batch.
    core::Log::Span("smtp reply", core::TraceScope::Current(), started, took,
                    {{"message_id", message.message_id},
                     {"batch", std::to_string(to_send.size())},
                     {"outcome", sent ? "accepted" : sent.error().message}});
    CountReply(sent);
    if (!sent) {
      dispositions[sent_from[k]] = DispositionFor(sent);
      continue;
    }
    counters_.sent.Increment();
    // The caller records message_id before the ack: a redelivery after that is not sent again.
    core::LogDebug("e-mail sent", {{"message_id", message.message_id}});
    dispositions[sent_from[k]] = Disposition{Action::kAck, "", message.message_id};
  }
  return dispositions;
}

}  // namespace inkwell::mailer
