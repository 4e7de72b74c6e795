#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "amqp/broker_url.h"
#include "amqp/topology.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/wake_event.h"

namespace inkwell::amqp {

// Ships log records to the `logs` topic exchange (routing key "<service>.<level>") without ever
// blocking the thread that logs: Offer() puts the record into a bounded in-memory buffer; a
// background thread with its own connection publishes batches with confirms. When the buffer
// is full (broker away for long), records are dropped and counted, and the count is reported
// in a record of its own once the connection is back. Thread-safe.
class LogPublisher final : public core::LogSink {
 public:
  LogPublisher(BrokerUrl url, std::chrono::seconds heartbeat, TopologyOptions topology,
               core::Metrics& metrics, std::size_t capacity = 20000);
  ~LogPublisher() override;

  void Start();
  // Publishes what is buffered (for at most `flush_timeout`), then closes. Idempotent.
  void Stop(std::chrono::milliseconds flush_timeout = std::chrono::milliseconds(2000));

  void Offer(std::string routing_key, std::string record) noexcept override;

 private:
  void Run();

  BrokerUrl url_;
  std::chrono::seconds heartbeat_;
  TopologyOptions topology_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::deque<std::pair<std::string, std::string>> buffer_;
  std::size_t dropped_since_report_ = 0;
  core::WakeEvent wake_;
  std::atomic<bool> is_stopping_{false};
  std::chrono::steady_clock::time_point stop_deadline_;
  std::thread thread_;
  core::Counter& published_;
  core::Counter& dropped_;
};

}  // namespace inkwell::amqp
