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
  // Before the threads: a row handed before the first connection is dropped by Hand and
  // brought back by the claim every connection starts with.
  is_handed_rows_ =
      store_.SetOutboxListener([this](std::vector<db::OutboxRow> rows) { Hand(std::move(rows)); });
  store_thread_ = std::thread([this] { RunStore(); });
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  if (!thread_.joinable() && !store_thread_.joinable()) return;  // never started, or stopped
  // From here on, commits write unclaimed rows (another instance may publish them) and never
  // call into this relay again.
  store_.SetOutboxListener(nullptr);
  is_stopping_ = true;
  wake_.Signal();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(chores_mutex_);
    chores_.is_stopping = true;
  }
  chores_ready_.notify_one();
  if (store_thread_.joinable()) store_thread_.join();
}

void OutboxRelay::Notify() {
  // The store hands every committed row over: a claim per commit would only return rows
  // already queued, and take the database from the next commit meanwhile.
  if (is_handed_rows_) return;
  is_claim_requested_ = true;
  wake_.Signal();
}

void OutboxRelay::Hand(std::vector<db::OutboxRow> rows) {
  // Away from the broker, or so far behind that the relay thread has not taken what was handed
  // last: leave the rows to a claim (they are this instance's in the database).
  if (!is_connected_) return;
  // The lease began when the row was written (created_at_ms), not now: count from there.
  const auto steady_now = Clock::now();
  const auto system_now = std::chrono::system_clock::now();
  {
    std::lock_guard lock(inbox_mutex_);
    if (inbox_.rows.size() >= options_.batch_size) {
      is_claim_requested_ = true;
    } else {
      for (db::OutboxRow& row : rows) {
        const auto age = std::max(std::chrono::system_clock::duration::zero(),
                                  system_now - std::chrono::system_clock::time_point(
                                                   std::chrono::milliseconds(row.created_at_ms)));
        inbox_.rows.push_back(Arrival{std::move(row),
                                      steady_now - std::chrono::duration_cast<Clock::duration>(age), 0});
      }
    }
  }
  wake_.Signal();
}

void OutboxRelay::AskStore(std::vector<std::int64_t>& sent, std::vector<std::int64_t>& refused,
                           std::uint64_t claim_session, std::int64_t claim_after_id) {
  if (sent.empty() && refused.empty() && claim_session == 0) return;
  {
    std::lock_guard lock(chores_mutex_);
    chores_.sent.insert(chores_.sent.end(), sent.begin(), sent.end());
    chores_.refused.insert(chores_.refused.end(), refused.begin(), refused.end());
    if (claim_session != 0) {
      chores_.claim_session = claim_session;
      chores_.claim_after_id = claim_after_id;
    }
  }
  chores_ready_.notify_one();
  sent.clear();
  refused.clear();
}

void OutboxRelay::RunStore() {
  for (;;) {
    Chores chores;
    {
      std::unique_lock lock(chores_mutex_);
      chores_ready_.wait(lock, [this] {
        return chores_.is_stopping || chores_.claim_session != 0 || !chores_.sent.empty() ||
               !chores_.refused.empty();
      });
      std::swap(chores, chores_);
      chores_.is_stopping = chores.is_stopping;  // stays set for the next round
    }
    // Settle before claiming: a claim must not return a row the broker already confirmed.
    if (!chores.sent.empty()) {
      if (auto marked = store_.MarkOutboxSent(chores.sent); !marked) {
        // The broker has them; they will be published again and de-duplicated by the mailer.
        core::LogError("outbox relay could not mark confirmed rows sent",
                       {{"rows", std::to_string(chores.sent.size())},
                        {"error", marked.error().message}});
      }
    }
    if (!chores.refused.empty()) {
      core::LogWarn("broker refused outbox messages; they stay in the outbox and are retried",
                    {{"rows", std::to_string(chores.refused.size())}});
      (void)store_.RecordOutboxFailure(chores.refused, "refused by the broker (nack or unroutable)");
    }
    if (chores.is_stopping) {
      // Nothing more will be published by this instance: give its claims back at once, so
      // another instance need not wait out the lease.
      (void)store_.ReleaseOutboxClaims();
      return;
    }
    std::vector<Arrival> claimed;
    bool was_claim_full = false;
    if (chores.claim_session != 0) {
      auto rows = store_.PendingOutboxAfter(options_.batch_size, chores.claim_after_id);
      if (!rows) {
        core::LogError("outbox relay cannot read the outbox", {{"error", rows.error().message}});
      } else {
        was_claim_full = rows->size() >= options_.batch_size;
        const auto now = Clock::now();
        claimed.reserve(rows->size());
        for (db::OutboxRow& row : *rows) {
          claimed.push_back(Arrival{std::move(row), now, chores.claim_session});
        }
      }
    }
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_.settled.insert(inbox_.settled.end(), chores.sent.begin(), chores.sent.end());
      inbox_.settled.insert(inbox_.settled.end(), chores.refused.begin(), chores.refused.end());
      if (chores.claim_session != 0) {
        for (Arrival& arrival : claimed) inbox_.rows.push_back(std::move(arrival));
        inbox_.claim_result_session = chores.claim_session;
        inbox_.was_claim_full = was_claim_full;
      }
    }
    wake_.Signal();
  }
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
    RelaySession(connection);
  }
  connection.reset();
  is_connected_ = false;
}

void OutboxRelay::RelaySession(std::optional<amqp::Connection>& holder) {
  amqp::Connection& connection = *holder;
  const std::uint64_t session = ++session_;
  std::deque<Arrival> queued;                   // to publish
  std::map<std::uint64_t, InFlight> in_flight;  // by publish sequence number
  // Queued, in flight, or confirmed and not yet settled by the store thread: a claim that
  // returns one of these (it is still pending in the database) must not queue it again.
  std::unordered_set<std::int64_t> held;
  std::vector<std::int64_t> sent;  // acked, for the store thread to mark sent
  std::vector<std::int64_t> refused;
  // Every connection starts with a claim: rows left by a crash, another instance, the last
  // connection, or handed while the broker was away.
  bool wants_claim = true;
  bool is_claim_pending = false;
  auto last_claim = Clock::now();
  // Through a backlog, the claim that follows a full one asks for the rows after the highest
  // this session was given: from the start it would read (and claim again) the rows still being
  // published, about half of every claim. Every other claim starts from the start: the one every
  // poll_interval, the one after a row is given up (both for rows below that mark that became
  // pending again: retries, lapsed leases), and one asked for by Notify or a full inbox (a row
  // committed after a higher id was claimed, on a server engine, lies below the mark).
  std::int64_t claimed_up_to = 0;
  bool wants_full_claim = true;
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

  auto take_inbox = [&] {
    // While a batch's worth is queued, take nothing (Hand stops adding rows meanwhile): rows
    // and settlements go together, or a claim's row could come after its own settlement.
    if (queued.size() >= options_.batch_size) return;
    std::vector<Arrival> rows;
    std::vector<std::int64_t> settled;
    bool was_claim_full = false;
    {
      std::lock_guard lock(inbox_mutex_);
      rows.swap(inbox_.rows);
      settled.swap(inbox_.settled);
      if (inbox_.claim_result_session == session) {
        is_claim_pending = false;
        was_claim_full = inbox_.was_claim_full;
      }
      if (inbox_.claim_result_session != 0) inbox_.claim_result_session = 0;
    }
    // Rows before settlements: a claim taken before a row was settled may still return it.
    // A claim asked for by an earlier connection is dropped: this connection's held rows do
    // not know what that one had confirmed since (its own first claim brings the rest).
    bool has_new_claimed = false;
    for (Arrival& arrival : rows) {
      if (arrival.claim_session != 0 && arrival.claim_session != session) continue;
      if (arrival.claim_session == session) claimed_up_to = std::max(claimed_up_to, arrival.row.id);
      if (!held.insert(arrival.row.id).second) continue;
      has_new_claimed = has_new_claimed || arrival.claim_session != 0;
      queued.push_back(std::move(arrival));
    }
    for (const std::int64_t id : settled) held.erase(id);
    // A full claim means a backlog, unless it was all rows already held.
    if (was_claim_full && has_new_claimed) wants_claim = true;
  };

  while (!broken) {
    const bool is_stopping = is_stopping_;
    take_inbox();
    if (is_claim_requested_.exchange(false)) {
      wants_claim = true;
      wants_full_claim = true;
    }
    const auto now = Clock::now();
    const bool wants_claim_now =
        !is_stopping && !is_claim_pending && queued.size() < options_.confirm_window &&
        (wants_claim || now - last_claim >= options_.poll_interval);
    // Settle in bulk while rows stream (one transaction per claim or per batch_size, not per
    // confirm), at once when idle. Nothing waits for it: a registration's mail is on its way.
    const bool is_idle = in_flight.empty() && queued.empty();
    const bool is_full_claim = wants_full_claim || now - last_claim >= options_.poll_interval;
    if (wants_claim_now || is_idle || !refused.empty() || sent.size() >= options_.batch_size) {
      AskStore(sent, refused, wants_claim_now ? session : 0, is_full_claim ? 0 : claimed_up_to);
    }
    if (wants_claim_now) {
      is_claim_pending = true;
      wants_claim = false;
      if (is_full_claim) {
        wants_full_claim = false;
        last_claim = now;
      }
    }
    while (!is_stopping && !queued.empty() && in_flight.size() < options_.confirm_window) {
      // A row claimed longer ago than publish_within may have passed its lease to another
      // instance by now: give it up instead of publishing it too; a later claim (ours or
      // theirs) brings it back.
      if (Clock::now() - queued.front().claimed_at > options_.publish_within) {
        held.erase(queued.front().row.id);
        queued.pop_front();
        wants_claim = true;
        wants_full_claim = true;  // it is below claimed_up_to
        continue;
      }
      const db::OutboxRow& row = queued.front().row;
      amqp::OutgoingMessage outgoing = ToOutgoing(row, options_.app_id);
      outgoing.message.is_persistent = true;
      auto sequence = connection.Publish(outgoing.exchange, outgoing.routing_key,
                                         outgoing.message, /*is_mandatory=*/true);
      if (!sequence) {
        broken = sequence.error();
        break;
      }
      if (in_flight.empty()) last_confirm = Clock::now();
      in_flight.emplace(*sequence, InFlight{row.id, row.message.message_id, row.message.exchange,
                                            row.message.routing_key, row.message.traceparent,
                                            std::chrono::system_clock::now(), Clock::now()});
      published_.Increment();
      queued.pop_front();
    }
    if (broken) break;
    if (is_stopping && in_flight.empty()) {
      // Rows still queued were never published: the store thread releases their claims.
      AskStore(sent, refused, 0);
      return;
    }
    if (!in_flight.empty() && Clock::now() - last_confirm > options_.confirm_timeout) {
      broken = core::Error{core::ErrorCode::kUnavailable,
                           "publisher confirms timed out after " +
                               std::to_string(options_.confirm_timeout.count()) + " ms"};
      break;
    }
    // Wait for a confirm, a handed row, a claim's result or the next poll; not at all while
    // there is something to publish. Heartbeats keep flowing meanwhile.
    std::chrono::milliseconds timeout{0};
    const bool can_publish =
        !is_stopping && !queued.empty() && in_flight.size() < options_.confirm_window;
    const bool can_claim = !is_stopping && !is_claim_pending && queued.size() < options_.confirm_window;
    if (!can_publish && !(can_claim && wants_claim)) {
      if (!in_flight.empty()) {
        timeout = std::chrono::milliseconds(100);  // to notice a confirm timeout
      } else if (can_claim) {
        timeout = std::max(std::chrono::milliseconds(1),
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               options_.poll_interval - (Clock::now() - last_claim)));
      } else {
        timeout = options_.poll_interval;  // the claim's result wakes us
      }
    }
    auto event = connection.NextEvent(timeout, wake_.fd());
    wake_.Drain();
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
  // The connection broke: unconfirmed rows stay claimed by this relay and are published again
  // (the next connection starts with a claim).
  unsettled_.Increment(in_flight.size());
  AskStore(sent, refused, 0);
  core::LogWarn("outbox relay lost the broker connection; unconfirmed rows will be published again",
                {{"error", broken->message}, {"unconfirmed", std::to_string(in_flight.size())}});
  holder.reset();
  is_connected_ = false;
}

}  // namespace inkwell::web
