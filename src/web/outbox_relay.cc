#include "web/outbox_relay.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <unordered_set>

#include "amqp/confirmed_publisher.h"  // OutgoingMessage
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
    RelayPending(connection);
  }
  connection.reset();
  is_connected_ = false;
}

void OutboxRelay::SettleRows(std::vector<std::int64_t>& sent, std::vector<std::int64_t>& refused) {
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
  sent.clear();
  refused.clear();
}

void OutboxRelay::RelayPending(std::optional<amqp::Connection>& holder) {
  using Clock = std::chrono::steady_clock;
  amqp::Connection& connection = *holder;
  std::deque<db::OutboxRow> queued;                // claimed, not yet published
  std::deque<Clock::time_point> queued_at;         // when each queued row was claimed
  std::map<std::uint64_t, InFlight> in_flight;     // by publish sequence number
  std::unordered_set<std::int64_t> held;           // ids queued or in flight: a claim returns them again
  std::vector<std::int64_t> sent;                  // acked, to be marked sent
  std::vector<std::int64_t> refused;
  bool is_outbox_empty = false;  // the last claim brought no new row
  auto last_confirm = Clock::now();
  std::optional<core::Error> broken;

  auto settle_confirm = [&](const amqp::Confirm& confirm) {
    auto end = confirm.is_multiple ? in_flight.upper_bound(confirm.delivery_tag)
                                   : in_flight.find(confirm.delivery_tag);
    auto begin = confirm.is_multiple ? in_flight.begin() : end;
    if (!confirm.is_multiple) {
      if (end == in_flight.end()) return;
      ++end;
    }
    for (auto it = begin; it != end; ++it) {
      const InFlight& row = it->second;
      held.erase(row.id);
      if (row.is_returned) {
        if (amqp::IsBroadcastExchange(row.exchange)) {
          sent.push_back(row.id);  // an event nobody subscribes to yet: published as far as it can be
          continue;
        }
        returned_.Increment();
        refused.push_back(row.id);
      } else if (confirm.is_ack) {
        sent.push_back(row.id);
        confirmed_.Increment();
        // One span per traced message; it goes to the log stream, not to stderr.
        core::Log::Span("publish + confirm", core::TraceIdOf(row.traceparent), row.published_at,
                        Clock::now() - row.published_steady,
                        {{"message_id", row.message_id},
                         {"exchange", row.exchange},
                         {"routing_key", row.routing_key}});
      } else {
        nacked_.Increment();
        refused.push_back(row.id);
      }
    }
    in_flight.erase(begin, end);
    last_confirm = Clock::now();
  };

  while (!broken) {
    const bool is_stopping = is_stopping_;
    // Claim more while fewer than a window's worth wait to be published; the rows in flight
    // keep the broker busy meanwhile. Acked rows are marked first, so the claim skips them.
    if (!is_stopping && !is_outbox_empty && queued.size() < options_.confirm_window) {
      SettleRows(sent, refused);
      auto rows = store_.PendingOutbox(options_.batch_size);
      if (!rows) {
        core::LogError("outbox relay cannot read the outbox", {{"error", rows.error().message}});
        if (in_flight.empty() && queued.empty()) {
          wake_.Wait(static_cast<int>(options_.poll_interval.count()));
          return;
        }
        is_outbox_empty = true;  // finish what is in flight; the next round claims again
      } else {
        std::size_t added = 0;
        for (auto& row : *rows) {
          if (!held.insert(row.id).second) continue;
          queued.push_back(std::move(row));
          queued_at.push_back(Clock::now());
          ++added;
        }
        is_outbox_empty = added == 0;
      }
    }
    while (!is_stopping && !queued.empty() && in_flight.size() < options_.confirm_window) {
      // A row whose claim is older than publish_within may have passed its lease to another
      // instance by now: give it up instead of publishing it too; a later claim (ours or
      // theirs) brings it back.
      if (Clock::now() - queued_at.front() > options_.publish_within) {
        held.erase(queued.front().id);
        queued.pop_front();
        queued_at.pop_front();
        is_outbox_empty = false;
        continue;
      }
      amqp::OutgoingMessage outgoing = ToOutgoing(queued.front(), options_.app_id);
      outgoing.message.is_persistent = true;
      auto sequence = connection.Publish(outgoing.exchange, outgoing.routing_key,
                                         outgoing.message, /*is_mandatory=*/true);
      if (!sequence) {
        broken = sequence.error();
        break;
      }
      if (in_flight.empty()) last_confirm = Clock::now();
      const db::OutboxRow& row = queued.front();
      in_flight.emplace(*sequence, InFlight{row.id, row.message.message_id, row.message.exchange,
                                            row.message.routing_key, row.message.traceparent,
                                            std::chrono::system_clock::now(), Clock::now()});
      published_.Increment();
      queued.pop_front();
      queued_at.pop_front();
    }
    if (broken) break;
    if (in_flight.empty() && (queued.empty() || is_stopping)) {
      SettleRows(sent, refused);
      // Stopping with claimed rows never published: nothing of ours is in flight, so give the
      // claims back at once instead of making another instance wait out the lease.
      if (is_stopping && !queued.empty()) (void)store_.ReleaseOutboxClaims();
      if (is_stopping || !is_outbox_empty) return;
      // Idle: wait for a commit or the poll interval while keeping the connection's heartbeats.
      auto event = connection.NextEvent(options_.poll_interval, wake_.fd());
      wake_.Drain();
      if (!event) broken = event.error();
      if (!broken) return;
      break;
    }
    if (!in_flight.empty() && Clock::now() - last_confirm > options_.confirm_timeout) {
      broken = core::Error{core::ErrorCode::kUnavailable,
                           "publisher confirms timed out after " +
                               std::to_string(options_.confirm_timeout.count()) + " ms"};
      break;
    }
    // Block for a confirm only when there is nothing to publish or claim meanwhile.
    const bool has_work = !is_stopping && ((!queued.empty() && in_flight.size() < options_.confirm_window) ||
                                           (!is_outbox_empty && queued.size() < options_.confirm_window));
    auto event = connection.NextEvent(std::chrono::milliseconds(has_work ? 0 : 100));
    if (!event) {
      broken = event.error();
      break;
    }
    if (!event->has_value()) continue;
    if (const auto* confirm = std::get_if<amqp::Confirm>(&**event)) {
      settle_confirm(*confirm);
    } else if (const auto* returned = std::get_if<amqp::Returned>(&**event)) {
      for (auto& [sequence, row] : in_flight) {
        if (row.message_id == returned->message.message_id) row.is_returned = true;
      }
    }
  }
  // The connection broke: unconfirmed rows stay claimed by this relay and are published again.
  unsettled_.Increment(in_flight.size());
  SettleRows(sent, refused);
  core::LogWarn("outbox relay lost the broker connection; unconfirmed rows will be published again",
                {{"error", broken->message}, {"unconfirmed", std::to_string(in_flight.size())}});
  holder.reset();
  is_connected_ = false;
}

}  // namespace inkwell::web
