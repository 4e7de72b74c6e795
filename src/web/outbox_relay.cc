#include "web/outbox_relay.h"

#include <algorithm>
#include <optional>

#include "amqp/confirmed_publisher.h"
#include "amqp/connection.h"
#include "core/backoff.h"
#include "core/log.h"
#include "core/traceparent.h"

namespace inkwell::web {

namespace {

amqp::OutgoingMessage ToOutgoing(const db::OutboxRow& row, const std::string& app_id) {
  amqp::OutgoingMessage outgoing;
  outgoing.exchange = row.message.exchange;
  outgoing.routing_key = row.message.routing_key;
  amqp::Message& message = outgoing.message;
  message.message_id = row.message.message_id;
  message.type = row.message.type;
  message.app_id = app_id;
  message.timestamp = row.created_at_ms / 1000;
  message.body = row.message.body;
  if (!row.message.traceparent.empty()) message.headers.emplace_back("traceparent", row.message.traceparent);
  return outgoing;
}

}  // namespace

OutboxRelay::OutboxRelay(db::Store& store, amqp::BrokerUrl url, RelayOptions options,
                         core::Metrics& metrics)
    : store_(store),
      url_(std::move(url)),
      options_(std::move(options)),
      published_(metrics.AddCounter("inkwell_outbox_published_total",
                                    "Outbox messages published to the broker")),
      confirmed_(metrics.AddCounter("inkwell_outbox_confirmed_total",
                                    "Outbox messages the broker confirmed (then marked sent)")),
      nacked_(metrics.AddCounter("inkwell_outbox_nacked_total",
                                 "Outbox messages the broker refused (kept, retried later)")),
      returned_(metrics.AddCounter("inkwell_outbox_returned_total",
                                   "Outbox messages no queue was bound for (kept, retried later)")),
      unsettled_(metrics.AddCounter("inkwell_outbox_unsettled_total",
                                    "Outbox messages without a confirm when the connection broke")),
      reconnects_(metrics.AddCounter("inkwell_amqp_reconnects_total",
                                     "Successful connections to the broker after the first",
                                     R"(connection="outbox")")) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  is_stopping_ = true;
  wake_.Signal();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Run() {
  std::optional<amqp::Connection> connection;  // none while the broker is away
  int failures = 0;
  bool has_connected_before = false;
  std::string last_error;
  while (!is_stopping_) {
    if (!connection) {
      amqp::ConnectionOptions connection_options{options_.heartbeat, std::chrono::seconds(5),
                                                 "inkwell-web outbox relay"};
      auto opened = amqp::Connection::Open(url_, connection_options);
      core::Result<void> ready = opened ? amqp::DeclareTopology(*opened, options_.topology)
                                        : tl::unexpected(opened.error());
      if (ready) ready = opened->EnableConfirms();
      if (!ready) {
        if (ready.error().message != last_error) {
          core::LogWarn("outbox relay cannot reach the broker; registrations are kept in the "
                        "outbox until it is back",
                        {{"broker", url_.Redacted()}, {"error", ready.error().message}});
          last_error = ready.error().message;
        }
        wake_.Wait(static_cast<int>(core::ReconnectDelay(failures++).count()));
        continue;
      }
      connection.emplace(std::move(*opened));
      is_connected_ = true;
      if (has_connected_before) reconnects_.Increment();
      core::LogInfo(has_connected_before ? "outbox relay reconnected to the broker"
                                         : "outbox relay connected to the broker",
                    {{"broker", url_.Redacted()}});
      has_connected_before = true;
      failures = 0;
      last_error.clear();
    }
    RelayBatch(connection);
  }
  connection.reset();
  is_connected_ = false;
}

void OutboxRelay::RelayBatch(std::optional<amqp::Connection>& holder) {
  amqp::Connection& connection = *holder;
  auto rows = store_.PendingOutbox(options_.batch_size);
  if (!rows) {
    core::LogError("outbox relay cannot read the outbox", {{"error", rows.error().message}});
    wake_.Wait(static_cast<int>(options_.poll_interval.count()));
    return;
  }
  if (rows->empty()) {
    // Idle: wait for a commit or the poll interval while keeping the connection's heartbeats.
    auto event = connection.NextEvent(options_.poll_interval, wake_.fd());
    wake_.Drain();
    if (!event) {
      core::LogWarn("outbox relay lost the broker connection", {{"error", event.error().message}});
      holder.reset();
      is_connected_ = false;
    }
    return;
  }
  std::vector<amqp::OutgoingMessage> batch;
  batch.reserve(rows->size());
  for (const auto& row : *rows) batch.push_back(ToOutgoing(row, options_.app_id));
  const auto started = std::chrono::system_clock::now();
  const auto started_steady = std::chrono::steady_clock::now();
  const amqp::PublishReport report = amqp::PublishConfirmed(
      connection, batch, options_.confirm_window, options_.confirm_timeout);

  std::vector<std::int64_t> sent;
  std::vector<std::int64_t> refused;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    switch (report.outcomes[i]) {
      case amqp::PublishOutcome::kConfirmed: {
        const db::OutboxRow& row = (*rows)[i];
        sent.push_back(row.id);
        // One span per traced message; it goes to the log stream, not to stderr.
        core::Log::Span("publish + confirm", core::TraceIdOf(row.message.traceparent), started,
                        std::chrono::steady_clock::now() - started_steady,
                        {{"message_id", row.message.message_id},
                         {"exchange", row.message.exchange},
                         {"routing_key", row.message.routing_key},
                         {"batch", std::to_string(rows->size())}});
        break;
      }
      case amqp::PublishOutcome::kNacked:
        nacked_.Increment();
        refused.push_back((*rows)[i].id);
        break;
      case amqp::PublishOutcome::kReturned:
        if (amqp::IsBroadcastExchange((*rows)[i].message.exchange)) {
          // An event nobody subscribes to yet: published as far as it can be.
          sent.push_back((*rows)[i].id);
          break;
        }
        returned_.Increment();
        refused.push_back((*rows)[i].id);
        break;
      case amqp::PublishOutcome::kUnsettled: unsettled_.Increment(); break;
    }
  }
  published_.Increment(rows->size());
  confirmed_.Increment(sent.size());
  if (auto marked = store_.MarkOutboxSent(sent); !marked) {
    // The broker has them; they will be published again and de-duplicated by the mailer.
    core::LogError("outbox relay could not mark confirmed rows sent",
                   {{"rows", std::to_string(sent.size())}, {"error", marked.error().message}});
  }
  if (!refused.empty()) {
    core::LogWarn("broker refused outbox messages; they stay in the outbox and are retried",
                  {{"rows", std::to_string(refused.size())}});
    (void)store_.RecordOutboxFailure(refused, "refused by the broker (nack or unroutable)");
  }
  if (report.error) {
    core::LogWarn("outbox relay lost the broker connection mid-batch; unconfirmed rows will be "
                  "published again",
                  {{"error", report.error->message}});
    holder.reset();
    is_connected_ = false;
  }
}

}  // namespace inkwell::web
