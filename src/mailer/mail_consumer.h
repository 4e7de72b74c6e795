#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "amqp/broker_url.h"
#include "amqp/connection.h"
#include "amqp/topology.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "db/delivery_log.h"
#include "mailer/ack_coalescer.h"
#include "mailer/delivery_recorder.h"
#include "mailer/email_handler.h"

namespace inkwell::mailer {

struct ConsumerOptions {
  std::chrono::seconds heartbeat{10};
  std::uint16_t prefetch = 128;
  amqp::TopologyOptions topology;
  // How long shutdown waits for in-flight sends before closing (they are then redelivered).
  std::chrono::seconds drain_timeout{20};
};

// Consumes the `email` queue. The calling thread owns the AMQP connection (an actor: it alone
// touches rabbitmq-c) and feeds deliveries to one worker thread per handler; workers hand back
// dispositions through a queue and wake the connection thread with an eventfd. A sent message's
// message_id goes to a DeliveryRecorder, which commits everything that has accumulated in one
// transaction; the acks of a batch go out only after its commit, coalesced by an AckCoalescer
// (one multiple-ack for the ready run at the front). Retries and dead letters are published (with confirms) to
// email.retry.<delay> / email.dead, and the original is acked only once the broker confirmed
// the copy, so nothing is lost between the two.
class MailConsumer {
 public:
  MailConsumer(amqp::BrokerUrl url, ConsumerOptions options,
               std::vector<std::unique_ptr<EmailHandler>> handlers, db::DeliveryLog& delivery_log,
               MailerCounters& counters, core::Metrics& metrics);
  ~MailConsumer();

  // Runs until Shutdown(): connects (and reconnects with backoff), consumes, settles.
  void Run();
  // Thread-safe and async-signal-safe.
  void Shutdown();
  bool is_connected() const { return is_connected_.load(); }

 private:
  struct Job {
    std::uint64_t generation;
    std::uint64_t delivery_tag;
    amqp::Message message;
    bool is_redelivered;
    std::chrono::system_clock::time_point received_at;
    std::chrono::steady_clock::time_point received_steady;
  };
  struct Completion {
    std::uint64_t generation;
    std::uint64_t delivery_tag;
    Disposition disposition;
    amqp::Message message;
  };

  void Work(EmailHandler& handler);
  core::Result<amqp::Connection> Connect();
  // Consumes on one connection until it breaks or shutdown has drained; error on a break.
  core::Result<void> Serve(amqp::Connection& connection);
  // One event from the broker: a delivery becomes a job (counted in delivered; the caller wakes
  // the workers), a confirm or return settles a forwarded copy.
  core::Result<void> Take(amqp::Connection& connection, amqp::Event event, std::size_t& delivered);
  core::Result<void> Settle(amqp::Connection& connection, Completion completion);
  // Called on the recorder's thread once a batch's commit returned: queues its acks.
  void OnRecorded(std::vector<PendingAck> batch, const core::Result<void>& recorded);
  // Marks what the recorder has made durable as ready to ack; acks at once what it failed to
  // record. Error if the connection broke.
  core::Result<void> AckRecorded(amqp::Connection& connection);
  // Sends the acks that acks_ plans; max_waiting 0 sends every ready one. Error if the
  // connection broke.
  core::Result<void> FlushAcks(amqp::Connection& connection, std::size_t max_waiting);
  core::Result<void> Forward(amqp::Connection& connection, const Completion& completion,
                             const std::string& queue, const std::string& reason, int attempts);

  amqp::BrokerUrl url_;
  ConsumerOptions options_;
  std::vector<std::unique_ptr<EmailHandler>> handlers_;
  MailerCounters& counters_;
  core::WakeEvent wake_;
  std::atomic<bool> is_shutting_down_{false};
  std::atomic<bool> is_connected_{false};
  std::uint64_t generation_ = 0;

  std::mutex mutex_;
  std::condition_variable job_ready_;
  std::deque<Job> jobs_;
  std::deque<Completion> completions_;
  std::vector<PendingAck> recorded_;  // durable in the delivery log, to be acked
  // message_ids being handled or sent and not yet durable in the delivery log: a second copy
  // (an outbox row published twice) arriving meanwhile would pass the log's check and be sent
  // again, so it waits in a retry queue instead and is then recognised as a duplicate.
  std::unordered_set<std::string> unrecorded_ids_;
  bool is_stopping_workers_ = false;
  std::vector<std::thread> workers_;

  // A retry or dead-letter copy awaiting the broker's confirm.
  struct ForwardedCopy {
    std::uint64_t original_delivery_tag;
    std::string message_id;
    bool is_returned;  // unroutable: the confirm that follows does not mean it is stored
  };
  void SettleForwarded(amqp::Connection& connection, const amqp::Confirm& confirm,
                       core::Result<void>& outcome);

  // Per connection: in-flight deliveries, and forwarded copies by publish sequence number.
  std::size_t in_flight_ = 0;
  AckCoalescer acks_;
  std::map<std::uint64_t, ForwardedCopy> awaiting_confirm_;
  core::Counter& reconnects_;
  // Last: destroyed (its queue recorded, its thread joined) before the members its callback uses.
  DeliveryRecorder recorder_;
};

}  // namespace inkwell::mailer
