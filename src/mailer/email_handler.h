#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "amqp/message.h"
#include "core/metrics.h"
#include "db/delivery_log.h"
#include "mail/mail_sender.h"
#include "mailer/disposition.h"
#include "templating/template_set.h"

namespace inkwell::mailer {

struct MailerCounters {
  explicit MailerCounters(core::Metrics& metrics);
  core::Counter& consumed;
  core::Counter& acked;
  core::Counter& sent;
  core::Counter& duplicates;
  core::Counter& retried;
  core::Counter& dead_lettered;
  // SMTP replies by class: "2xx", "4xx", "5xx", and "none" (no reply: connection failed).
  core::Counter& replies_2xx;
  core::Counter& replies_4xx;
  core::Counter& replies_5xx;
  core::Counter& replies_none;
  // Messages per send: a worker's batch, pipelined over its SMTP connection.
  core::Histogram& batch_messages;
};

// Handles one message from the `email` queue: checks it, skips it if its message_id was
// already delivered, renders and sends it. It does not record the message_id itself: a sent
// message's disposition names it in record_before_ack, and the caller records it (in batches,
// see DeliveryRecorder) before it acks.
// One handler per worker thread (it owns its sender's SMTP connection); the delivery log,
// templates and counters are shared.
class EmailHandler {
 public:
  EmailHandler(std::unique_ptr<mail::MailSender> sender, const templating::TemplateSet& templates,
               db::DeliveryLog& delivery_log, std::string from, MailerCounters& counters)
      : sender_(std::move(sender)),
        templates_(templates),
        delivery_log_(delivery_log),
        from_(std::move(from)),
        counters_(counters) {}

  Disposition Handle(const amqp::Message& message);
  // Handles several messages at once, one disposition per message in order: each is checked and
  // rendered as Handle does, then the ones to send go out together through the sender's SendAll
  // (pipelined over one SMTP connection). A message that throws while being rendered is
  // dead-lettered alone.
  std::vector<Disposition> HandleAll(std::span<const amqp::Message* const> messages);

 private:
  // The rendered e-mail, or the disposition that ends the message without sending.
  tl::expected<mail::MimeMessage, Disposition> Prepare(const amqp::Message& message);
  void CountReply(const core::Result<void>& sent);

  std::unique_ptr<mail::MailSender> sender_;
  const templating::TemplateSet& templates_;
  db::DeliveryLog& delivery_log_;
  std::string from_;
  MailerCounters& counters_;
};

}  // namespace inkwell::mailer
