#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "amqp/broker_url.h"
#include "amqp/connection.h"
#include "amqp/topology.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "logd/log_directory.h"

namespace inkwell::logd {

struct LogConsumerOptions {
  std::chrono::seconds heartbeat{10};
  std::uint16_t prefetch = 500;  // also the largest batch written between two syncs
  amqp::TopologyOptions topology;
};

// Consumes the `logd` queue into a LogDirectory. Deliveries are handled in batches: every
// record of a batch is appended in arrival order, the directory is synced, and only then are
// the deliveries acked, so a crash or a lost connection before the ack means redelivery (a
// record may then appear twice), never loss. The thread calling Run owns the connection and
// the directory; reconnects with a capped, jittered backoff.
class LogConsumer {
 public:
  LogConsumer(amqp::BrokerUrl url, LogConsumerOptions options, LogDirectory& directory,
              core::Metrics& metrics);

  // Runs until Shutdown(): connects, consumes, writes, acks. On shutdown the batch in hand is
  // written, synced and acked before Run returns; unread deliveries go back to the queue.
  void Run();
  // Thread-safe and async-signal-safe.
  void Shutdown();
  bool is_connected() const { return is_connected_.load(); }

 private:
  core::Result<amqp::Connection> Connect();
  // Consumes on one connection until it breaks (error) or shutdown (success).
  core::Result<void> Serve(amqp::Connection& connection);
  // Writes the batch, syncs, acks it, clears it. An error leaves the batch unacked.
  core::Result<void> Flush(amqp::Connection& connection, std::vector<amqp::Delivery>& batch);

  amqp::BrokerUrl url_;
  LogConsumerOptions options_;
  LogDirectory& directory_;
  core::WakeEvent wake_;
  std::atomic<bool> is_shutting_down_{false};
  std::atomic<bool> is_connected_{false};
  bool has_disk_failed_ = false;
  core::Counter& written_;
  core::Counter& invalid_;
  core::Counter& write_errors_;
  core::Counter& reconnects_;
};

}  // namespace inkwell::logd
