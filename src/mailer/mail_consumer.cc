#include "mailer/mail_consumer.h"

#include <algorithm>
#include <ctime>

#include "core/backoff.h"
#include "core/log.h"
#include "core/traceparent.h"

namespace inkwell::mailer {
namespace {

using Clock = std::chrono::steady_clock;
// The most messages one worker takes at once to send pipelined over its SMTP connection.
constexpr size_t kMaxBatch = 16;
constexpr char kAttemptsHeader[] = "x-inkwell-attempts";
constexpr char kReasonHeader[] = "x-inkwell-reason";
constexpr char kFailedAtHeader[] = "x-inkwell-failed-at";
constexpr char kQueueHeader[] = "x-inkwell-original-queue";

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc));
}

int AttemptsSoFar(const amqp::Message& message) {
  try {
    return std::max(0, std::stoi(message.Header(kAttemptsHeader)));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

MailConsumer::MailConsumer(amqp::BrokerUrl url, ConsumerOptions options,
                           std::vector<std::unique_ptr<EmailHandler>> handlers,
                           db::DeliveryLog& delivery_log, MailerCounters& counters,
                           core::Metrics& metrics)
    : url_(std::move(url)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      counters_(counters),
      reconnects_(metrics.AddCounter("inkwell_amqp_reconnects_total",
                                     "Successful connections to the broker after the first",
                                     R"(connection="consumer")")),
      recorder_(delivery_log, [this](std::vector<PendingAck> batch, const core::Result<void>& recorded) {
        OnRecorded(std::move(batch), recorded);
      }) {}

MailConsumer::~MailConsumer() {
  {
    std::lock_guard lock(mutex_);
    is_stopping_workers_ = true;
  }
  job_ready_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  // Mails the workers sent after the connection loop ended (a drain deadline, a break during
  // shutdown) are recorded all the same, so that their redelivery is not sent again.
  std::deque<Completion> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(completions_);
  }
  for (Completion& completion : left) {
    if (completion.disposition.record_before_ack.empty()) continue;
    recorder_.Submit(PendingAck{completion.generation, completion.delivery_tag,
                                std::move(completion.disposition.record_before_ack)});
  }
}

void MailConsumer::Shutdown() {
  is_shutting_down_ = true;
  wake_.Signal();
}

void MailConsumer::Work(EmailHandler& handler) {
  for (;;) {
    // Up to kMaxBatch of what is waiting, to pipeline over this worker's SMTP connection (each
    // message in a batch of k costs (k+1)/k round trips, against two alone); the next worker
    // takes the next batch. A single waiting message goes out alone, at once. (Taking waiting ÷
    // workers each had left batches of 2.7 on average under the benchmark's load.)
    std::vector<Job> batch;
    {
      std::unique_lock lock(mutex_);
      job_ready_.wait(lock, [this] { return is_stopping_workers_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      const size_t share = std::min(jobs_.size(), kMaxBatch);
      for (size_t i = 0; i < share; ++i) {
        batch.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
    }
    std::vector<Disposition> dispositions(batch.size());
    std::vector<const amqp::Message*> to_handle;
    std::vector<size_t> handled;  // for each of to_handle: its index in batch
    for (size_t i = 0; i < batch.size(); ++i) {
      const Job& job = batch[i];
      const core::TraceScope trace(core::TraceIdOf(job.message.Header("traceparent")));
      core::Log::Span("mailer receive", core::TraceScope::Current(), job.received_at,
                      Clock::now() - job.received_steady,
                      {{"message_id", job.message.message_id},
                       {"redelivered", job.is_redelivered ? "true" : "false"}});
      const std::string& message_id = job.message.message_id;
      bool is_other_copy_unrecorded = false;
      if (!message_id.empty()) {
        std::lock_guard lock(mutex_);
        is_other_copy_unrecorded = !unrecorded_ids_.insert(message_id).second;
      }
      if (is_other_copy_unrecorded) {
        // Not acked as a duplicate: the other copy may still fail, or belong to a lost connection.
        dispositions[i] = Disposition{Action::kRetryLater, "another copy of this message is being delivered"};
        continue;
      }
      to_handle.push_back(&job.message);
      handled.push_back(i);
    }
    if (!to_handle.empty()) {
      std::vector<Disposition> outcomes;
      try {
        outcomes = handler.HandleAll(to_handle);
      } catch (const std::exception& exception) {
        // A bug costs these messages (they go to email.dead with the reason), never the process.
        core::LogError("handling messages threw", {{"error", exception.what()}});
        outcomes.assign(to_handle.size(),
                        Disposition{Action::kDeadLetter, std::string("internal error: ") + exception.what()});
      }
      std::lock_guard lock(mutex_);
      for (size_t k = 0; k < handled.size(); ++k) {
        Disposition& disposition = dispositions[handled[k]];
        disposition = std::move(outcomes[k]);
        const std::string& message_id = batch[handled[k]].message.message_id;
        if (!message_id.empty() && disposition.record_before_ack.empty()) {
          unrecorded_ids_.erase(message_id);  // not sent: nothing to record
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      for (size_t i = 0; i < batch.size(); ++i) {
        Job& job = batch[i];
        completions_.push_back(
            Completion{job.generation, job.delivery_tag, std::move(dispositions[i]), std::move(job.message)});
      }
    }
    wake_.Signal();
  }
}

core::Result<amqp::Connection> MailConsumer::Connect() {
  auto connection = amqp::Connection::Open(
      url_, amqp::ConnectionOptions{options_.heartbeat, std::chrono::seconds(5), "inkwell-mailer"});
  if (!connection) return connection;
  if (auto declared = amqp::DeclareTopology(*connection, options_.topology); !declared) {
    return tl::unexpected(declared.error());
  }
  if (auto confirms = connection->EnableConfirms(); !confirms) return tl::unexpected(confirms.error());
  if (auto prefetch = connection->SetPrefetch(options_.prefetch); !prefetch) {
    return tl::unexpected(prefetch.error());
  }
  return connection;
}

void MailConsumer::Run() {
  for (auto& handler : handlers_) {
    workers_.emplace_back([this, raw = handler.get()] { Work(*raw); });
  }
  int failures = 0;
  bool has_connected_before = false;
  std::string last_error;
  while (!is_shutting_down_) {
    auto connection = Connect();
    if (!connection) {
      if (connection.error().message != last_error) {
        core::LogWarn("mailer cannot reach the broker; retrying",
                      {{"broker", url_.Redacted()}, {"error", connection.error().message}});
        last_error = connection.error().message;
      }
      wake_.Wait(static_cast<int>(core::ReconnectDelay(failures++).count()));
      continue;
    }
    ++generation_;
    in_flight_ = 0;
    acks_.Clear();
    awaiting_confirm_.clear();
    is_connected_ = true;
    if (has_connected_before) reconnects_.Increment();
    core::LogInfo(has_connected_before ? "mailer reconnected to the broker"
                                       : "mailer connected to the broker",
                  {{"broker", url_.Redacted()}});
    has_connected_before = true;
    failures = 0;
    last_error.clear();

    auto served = Serve(*connection);
    is_connected_ = false;
    {
      // Deliveries of the lost connection will be redelivered: do not start them now.
      std::lock_guard lock(mutex_);
      std::erase_if(jobs_, [this](const Job& job) { return job.generation == generation_; });
    }
    if (!served) {
      core::LogWarn("mailer lost the broker connection; unacked messages will be redelivered",
                    {{"error", served.error().message}});
    }
  }
}

core::Result<void> MailConsumer::Serve(amqp::Connection& connection) {
  auto consumer_tag = connection.Consume(amqp::kEmailQueue);
  if (!consumer_tag) return tl::unexpected(consumer_tag.error());
  bool is_cancelled = false;
  auto drain_deadline = Clock::now();
  for (;;) {
    if (is_shutting_down_ && !is_cancelled) {
      // Stop taking new work, finish what we hold, ack it, then close.
      if (auto cancelled = connection.CancelConsumer(*consumer_tag); !cancelled) {
        return tl::unexpected(cancelled.error());
      }
      is_cancelled = true;
      drain_deadline = Clock::now() + options_.drain_timeout;
    }
    if (is_cancelled) {
      if (in_flight_ == 0 && awaiting_confirm_.empty()) return FlushAcks(connection, 0);
      if (Clock::now() > drain_deadline) {
        core::LogWarn("shutdown: in-flight messages left unacked; the broker redelivers them",
                      {{"in_flight", std::to_string(in_flight_)}});
        return FlushAcks(connection, 0);
      }
    }
    auto event = connection.NextEvent(std::chrono::milliseconds(1000), wake_.fd());
    if (!event) return tl::unexpected(event.error());
    wake_.Drain();
    // Everything the broker has already sent is taken before the workers are woken (what
    // rabbitmq-c holds in its buffer: no waiting), so that a worker finds a batch to
    // pipeline over its SMTP connection rather than one message: woken per delivery, workers
    // had taken 2.7 messages each on average under load.
    std::size_t delivered = 0;
    // Stops at the first call that completes no event: the rest of a frame still on its way
    // is waited for by poll, not by calling again.
    while (event->has_value()) {
      if (auto taken = Take(connection, std::move(**event), delivered); !taken) return taken;
      if (!connection.HasBufferedInput()) break;
      event = connection.NextEvent(std::chrono::milliseconds(0), -1);
      if (!event) return tl::unexpected(event.error());
    }
    if (delivered == 1) job_ready_.notify_one();
    if (delivered > 1) job_ready_.notify_all();
    std::deque<Completion> completions;
    {
      std::lock_guard lock(mutex_);
      completions.swap(completions_);
    }
    // Sent mails go to the recorder first, all of them, so that a settle failing below (the
    // connection broke) cannot drop one: recorded even when its connection is gone, so that its
    // redelivery is recognised and not sent again.
    std::deque<Completion> to_settle;
    for (auto& completion : completions) {
      if (!completion.disposition.record_before_ack.empty()) {
        recorder_.Submit(PendingAck{completion.generation, completion.delivery_tag,
                                    std::move(completion.disposition.record_before_ack)});
      } else if (completion.generation == generation_) {  // else its tag died with its connection
        to_settle.push_back(std::move(completion));
      }
    }
    while (!to_settle.empty()) {
      Completion completion = std::move(to_settle.front());
      to_settle.pop_front();
      --in_flight_;
      if (auto settled = Settle(connection, std::move(completion)); !settled) return settled;
    }
    if (auto acked = AckRecorded(connection); !acked) return acked;
    // Ready acks behind a gap may wait for it to close while a quarter of the prefetch window
    // or less waits; during the drain everything goes at once.
    const std::size_t max_waiting = is_cancelled ? 0 : options_.prefetch / 4;
    if (auto flushed = FlushAcks(connection, max_waiting); !flushed) return flushed;
  }
}

core::Result<void> MailConsumer::Take(amqp::Connection& connection, amqp::Event event,
                                      std::size_t& delivered) {
  if (auto* delivery = std::get_if<amqp::Delivery>(&event)) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(Job{generation_, delivery->delivery_tag, std::move(delivery->message),
                          delivery->is_redelivered, std::chrono::system_clock::now(), Clock::now()});
    }
    ++in_flight_;
    ++delivered;
    acks_.Delivered(delivery->delivery_tag);
    counters_.consumed.Increment();
  } else if (const auto* confirm = std::get_if<amqp::Confirm>(&event)) {
    core::Result<void> outcome;
    SettleForwarded(connection, *confirm, outcome);
    if (!outcome) return outcome;
  } else if (const auto* returned = std::get_if<amqp::Returned>(&event)) {
    for (auto& [sequence, copy] : awaiting_confirm_) {
      if (copy.message_id == returned->message.message_id) copy.is_returned = true;
    }
    core::LogError("a retry or dead-letter copy was unroutable; the original goes to "
                   "email.dead through the queue's dead-letter exchange",
                   {{"queue", returned->routing_key}, {"message_id", returned->message.message_id}});
  }
  return {};
}

void MailConsumer::OnRecorded(std::vector<PendingAck> batch, const core::Result<void>& recorded) {
  if (!recorded) {
    // Acked all the same: the mails were sent, and a redelivery would surely send them again.
    core::LogError("sent, but could not record the message_ids; a redelivery would send again",
                   {{"messages", std::to_string(batch.size())},
                    {"first_message_id", batch.front().message_id},
                    {"error", recorded.error().message}});
  }
  {
    std::lock_guard lock(mutex_);
    // Durable now (or given up): a later copy is checked against the log.
    for (PendingAck& pending : batch) {
      unrecorded_ids_.erase(pending.message_id);
      pending.is_durable = recorded.has_value();
    }
    if (recorded_.empty()) {
      recorded_.swap(batch);
    } else {
      recorded_.insert(recorded_.end(), std::make_move_iterator(batch.begin()),
                       std::make_move_iterator(batch.end()));
    }
  }
  wake_.Signal();
}

core::Result<void> MailConsumer::AckRecorded(amqp::Connection& connection) {
  std::vector<PendingAck> recorded;
  {
    std::lock_guard lock(mutex_);
    recorded.swap(recorded_);
  }
  for (const PendingAck& pending : recorded) {
    if (pending.generation != generation_) continue;  // its delivery tag died with its connection
    --in_flight_;
    if (pending.is_durable) {  // counted as acked when FlushAcks sends its ack
      acks_.Ready(pending.delivery_tag);
      continue;
    }
    // Not recorded: a redelivery would be sent again, so do not let this ack wait.
    acks_.Settled(pending.delivery_tag);
    if (auto acked = connection.Ack(pending.delivery_tag); !acked) return acked;
    counters_.acked.Increment();
  }
  return {};
}

core::Result<void> MailConsumer::FlushAcks(amqp::Connection& connection, std::size_t max_waiting) {
  const AckCoalescer::Plan plan = acks_.Take(max_waiting);
  // Counted as they go out, not when they are planned: acks a broken connection never sent are
  // redelivered, and counted when their redelivery is acked.
  if (plan.ack_up_to) {
    if (auto acked = connection.AckUpTo(*plan.ack_up_to); !acked) return acked;
    counters_.acked.Increment(plan.covered);
  }
  for (const std::uint64_t tag : plan.single_acks) {
    if (auto acked = connection.Ack(tag); !acked) return acked;
    counters_.acked.Increment();
  }
  return {};
}

core::Result<void> MailConsumer::Settle(amqp::Connection& connection, Completion completion) {
  const core::TraceScope trace(core::TraceIdOf(completion.message.Header("traceparent")));
  const Disposition& disposition = completion.disposition;
  const int attempts = AttemptsSoFar(completion.message) + 1;
  switch (disposition.action) {
    case Action::kAck:
      if (disposition.reason == kDuplicateReason) {  // its first copy is recorded: may wait
        acks_.Ready(completion.delivery_tag);  // counted when FlushAcks sends it
        return {};
      }
      // Sent without an id to record: a redelivery would be sent again, so ack at once.
      acks_.Settled(completion.delivery_tag);
      if (auto acked = connection.Ack(completion.delivery_tag); !acked) return acked;
      counters_.acked.Increment();
      return {};
    case Action::kRetryLater: {
      const auto& steps = amqp::EmailRetrySteps();
      if (static_cast<std::size_t>(attempts) <= steps.size()) {
        const amqp::RetryStep& step = steps[static_cast<std::size_t>(attempts) - 1];
        core::LogWarn("sending failed for now; retrying later",
                      {{"message_id", completion.message.message_id},
                       {"attempt", std::to_string(attempts)},
                       {"retry_queue", step.queue},
                       {"reason", disposition.reason}});
        counters_.retried.Increment();
        return Forward(connection, completion, step.queue, disposition.reason, attempts);
      }
      const std::string reason = "gave up after " + std::to_string(attempts) +
                                 " attempts: " + disposition.reason;
      core::LogError("message dead-lettered", {{"message_id", completion.message.message_id},
                                               {"reason", reason}});
      counters_.dead_lettered.Increment();
      return Forward(connection, completion, amqp::kEmailDeadQueue, reason, attempts);
    }
    case Action::kDeadLetter: break;
  }
  core::LogError("message dead-lettered", {{"message_id", completion.message.message_id},
                                           {"reason", disposition.reason}});
  counters_.dead_lettered.Increment();
  return Forward(connection, completion, amqp::kEmailDeadQueue, disposition.reason, attempts);
}

core::Result<void> MailConsumer::Forward(amqp::Connection& connection, const Completion& completion,
                                         const std::string& queue, const std::string& reason,
                                         int attempts) {
  amqp::Message copy = completion.message;
  // Drop the broker's dead-letter bookkeeping and our previous verdict; write the new one.
  std::erase_if(copy.headers, [](const auto& header) {
    return header.first.starts_with("x-death") || header.first.starts_with("x-first-death") ||
           header.first.starts_with("x-last-death") || header.first.starts_with("x-inkwell-");
  });
  copy.headers.emplace_back(kReasonHeader, reason.substr(0, 1000));
  copy.headers.emplace_back(kAttemptsHeader, std::to_string(attempts));
  copy.headers.emplace_back(kFailedAtHeader, UtcNow());
  copy.headers.emplace_back(kQueueHeader, amqp::kEmailQueue);
  copy.is_persistent = true;
  auto sequence = connection.Publish("", queue, copy, /*is_mandatory=*/true);
  if (!sequence) return tl::unexpected(sequence.error());
  awaiting_confirm_[*sequence] =
      ForwardedCopy{completion.delivery_tag, completion.message.message_id, false};
  return {};
}

void MailConsumer::SettleForwarded(amqp::Connection& connection, const amqp::Confirm& confirm,
                                   core::Result<void>& outcome) {
  auto begin = confirm.is_multiple ? awaiting_confirm_.begin()
                                   : awaiting_confirm_.find(confirm.delivery_tag);
  auto end = awaiting_confirm_.end();
  if (confirm.is_multiple) {
    end = awaiting_confirm_.upper_bound(confirm.delivery_tag);
  } else if (begin != end) {
    end = std::next(begin);
  }
  for (auto it = begin; it != end && outcome; ++it) {
    const ForwardedCopy& copy = it->second;
    if (copy.is_returned) {
      // The copy reached no queue: reject the original without requeue, so the `email` queue's
      // dead-letter exchange moves it to email.dead instead of losing it.
      acks_.Settled(copy.original_delivery_tag);
      outcome = connection.Reject(copy.original_delivery_tag, /*requeue=*/false);
    } else if (confirm.is_ack) {
      // The copy is safe with the broker: now the original goes, at once (were it redelivered,
      // a second copy would be made).
      acks_.Settled(copy.original_delivery_tag);
      outcome = connection.Ack(copy.original_delivery_tag);
    } else {
      // The broker refused the copy: requeue the original to be handled again.
      acks_.Settled(copy.original_delivery_tag);
      outcome = connection.Reject(copy.original_delivery_tag, /*requeue=*/true);
    }
  }
  awaiting_confirm_.erase(begin, end);
}

}  // namespace inkwell::mailer
