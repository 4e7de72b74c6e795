#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <thread>

#include "amqp/broker_url.h"
#include "amqp/connection.h"
#include "amqp/topology.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "db/store.h"

namespace inkwell::web {

struct RelayOptions {
  std::chrono::seconds heartbeat{10};
  amqp::TopologyOptions topology;
  // Rows per claim; also how many handed rows may wait before the relay leaves new ones to a
  // claim. A claim is asked for while fewer than a window wait, so the store thread claims the
  // next batch while the last one is being published.
  std::size_t batch_size = 2000;
  std::size_t confirm_window = 512;  // unconfirmed publishes in flight
  // A claimed row still unpublished after this is given up and claimed again: the store's lease
  // is 30 s, so a row is never published after another instance may have claimed it.
  std::chrono::milliseconds publish_within{20000};
  // Not below the heartbeat timeout: a slow confirm must not look like a lost one sooner than
  // a dead connection would be noticed.
  std::chrono::milliseconds confirm_timeout{30000};
  // How often to look for rows without a wake-up (left by another instance or a crash).
  std::chrono::milliseconds poll_interval{1000};
  std::string app_id = "inkwell-web";
};

// Publishes the outbox to RabbitMQ with two threads, so that a publish never waits for the
// database (whose one SQLite connection may be in the middle of a registration's fsync):
// - the relay thread owns the AMQP connection: it publishes rows with streamed confirms (up to
//   confirm_window unconfirmed) and reads the confirms. It never touches the store.
// - the store thread does the relay's database work, in the order asked: marks confirmed rows
//   sent and refused ones failed (all that accumulated, one transaction each), and claims
//   pending rows (PendingOutbox) when the relay thread asks for them.
// Rows reach the relay thread two ways. A store that hands rows over (Store::SetOutboxListener)
// gives it each transaction's rows from memory right after the commit, born claimed by this
// instance: the usual path, with no read of the outbox between a registration and its publish.
// A claim brings the rest: at every (re)connect, every poll_interval, after Notify(), and back to
// back while claims come back full (a backlog). A row stays "held" from the moment it is queued
// until the store thread reports it settled, so a claim that returns it meanwhile (it is still
// pending in the database) does not publish it twice.
// Reconnects with capped exponential backoff and jitter.
// Thread-safe: Notify and is_connected from any thread.
class OutboxRelay {
 public:
  OutboxRelay(db::Store& store, amqp::BrokerUrl url, RelayOptions options, core::Metrics& metrics);
  ~OutboxRelay();  // Stop()

  // Starts both threads and registers for the store's committed rows.
  void Start();
  // Unregisters from the store, finishes the publishes in flight (bounded by confirm_timeout),
  // closes the connection, lets the store thread settle what was confirmed, joins both.
  void Stop();
  // Outbox rows were written: claim soon, unless the store hands every committed row over.
  void Notify();
  bool is_connected() const { return is_connected_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  // A row to publish, and when it was claimed (handed rows: their commit). Published only
  // within publish_within of that, while the claim surely still holds.
  struct Arrival {
    db::OutboxRow row;
    Clock::time_point claimed_at;
    std::uint64_t claim_session = 0;  // the connection session that asked for the claim; 0: handed
  };
  // From the store (and its listener) to the relay thread. Guarded by inbox_mutex_.
  struct Inbox {
    std::vector<Arrival> rows;
    std::vector<std::int64_t> settled;  // marked sent or failed: no longer held
    std::uint64_t claim_result_session = 0;  // a claim's result is in (for this session)
    bool was_claim_full = false;              // a backlog: claim again at once
  };
  // From the relay thread to the store thread. Guarded by chores_mutex_.
  struct Chores {
    std::vector<std::int64_t> sent;
    std::vector<std::int64_t> refused;
    std::uint64_t claim_session = 0;  // a claim is wanted, for this session
    std::int64_t claim_after_id = 0;  // only rows above this id (0: every pending row)
    bool is_stopping = false;
  };
  // A row published and not yet confirmed.
  struct InFlight {
    std::int64_t id;
    std::string message_id;
    std::string exchange;
    std::string routing_key;
    std::string traceparent;
    std::chrono::system_clock::time_point published_at;
    std::chrono::steady_clock::time_point published_steady;
    bool is_returned = false;  // unroutable: the ack that follows does not mean it is stored
  };

  void Run();       // the relay thread: connects and reconnects
  void RunStore();  // the store thread
  // Rows a commit wrote (the store's listener). Dropped while the broker is away or the relay is
  // behind: they are claimed by this instance in the database, so a claim brings them back.
  void Hand(std::vector<db::OutboxRow> rows);
  // Relays until the connection breaks (then resets it) or Stop() is called.
  void RelaySession(std::optional<amqp::Connection>& connection);
  // Passes confirmed and refused rows (then clears both) and, unless claim_session is 0, a
  // claim of the rows above claim_after_id to the store thread.
  void AskStore(std::vector<std::int64_t>& sent, std::vector<std::int64_t>& refused,
                std::uint64_t claim_session, std::int64_t claim_after_id = 0);

  db::Store& store_;
  amqp::BrokerUrl url_;
  RelayOptions options_;
  core::WakeEvent wake_;  // the relay thread's: the inbox or a Notify
  std::atomic<bool> is_stopping_{false};
  std::atomic<bool> is_connected_{false};
  std::atomic<bool> is_claim_requested_{false};
  std::atomic<bool> is_handed_rows_{false};  // the store hands committed rows over
  std::uint64_t session_ = 0;  // counts connections; the relay thread's
  std::mutex inbox_mutex_;
  Inbox inbox_;
  std::mutex chores_mutex_;
  std::condition_variable chores_ready_;
  Chores chores_;
  std::thread thread_;
  std::thread store_thread_;
  core::Counter& published_;
  core::Counter& confirmed_;
  core::Counter& nacked_;
  core::Counter& returned_;
  core::Counter& unsettled_;
  core::Counter& reconnects_;
};

}  // namespace inkwell::web
