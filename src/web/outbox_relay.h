#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
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
  // Rows claimed and published per round. Each round ends by waiting for its last confirms
  // (one broker round trip with nothing in flight) and costs two commits (claim, mark sent), so
  // a round must be several windows long: at 500 rows the relay ran at 0.7x a plain publisher.
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

// Publishes the outbox to RabbitMQ. Its own thread owns its own AMQP connection: it wakes when
// Notify() says a transaction wrote outbox rows, or every poll_interval; claims batches of
// pending rows and publishes them with streamed confirms, claiming the next batch while the
// last one's confirms are still outstanding (the window never drains between batches); and
// marks sent only the rows the broker acked, one transaction for all acked since the last.
// Reconnects with capped exponential backoff and jitter.
// Thread-safe: Notify and is_connected from any thread.
class OutboxRelay {
 public:
  OutboxRelay(db::Store& store, amqp::BrokerUrl url, RelayOptions options, core::Metrics& metrics);
  ~OutboxRelay();  // Stop()

  void Start();
  // Finishes the batch in flight (bounded by confirm_timeout), closes the connection, joins.
  void Stop();
  void Notify() { wake_.Signal(); }
  bool is_connected() const { return is_connected_.load(); }

 private:
  void Run();
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
  // Relays until the outbox is empty and every confirm is in, or the connection breaks (then
  // resets it). Waits for a commit or the poll interval when there is nothing to publish.
  void RelayPending(std::optional<amqp::Connection>& connection);
  // Marks `sent` sent and `refused` failed (one transaction each), then clears both.
  void SettleRows(std::vector<std::int64_t>& sent, std::vector<std::int64_t>& refused);

  db::Store& store_;
  amqp::BrokerUrl url_;
  RelayOptions options_;
  core::WakeEvent wake_;
  std::atomic<bool> is_stopping_{false};
  std::atomic<bool> is_connected_{false};
  std::thread thread_;
  core::Counter& published_;
  core::Counter& confirmed_;
  core::Counter& nacked_;
  core::Counter& returned_;
  core::Counter& unsettled_;
  core::Counter& reconnects_;
};

}  // namespace inkwell::web
