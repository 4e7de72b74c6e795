#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "db/delivery_log.h"

namespace inkwell::mailer {

// A sent message whose ack waits until its message_id is durable in the delivery log.
struct PendingAck {
  std::uint64_t generation;  // the connection its delivery tag belongs to
  std::uint64_t delivery_tag;
  std::string message_id;
  bool is_durable = false;  // set once the record committed; false if it failed
};

// Records delivered message_ids off the worker threads, in batches: one thread takes everything
// submitted since its last commit and records it in one transaction (one fsync), so batches grow
// with the load instead of being capped at one message per worker. `on_recorded` is called on
// that thread with each batch only AFTER the commit returned, with its outcome: the caller acks
// then, never before. Thread-safe; the destructor records what is still queued, then joins.
class DeliveryRecorder {
 public:
  using OnRecorded = std::function<void(std::vector<PendingAck> batch, const core::Result<void>&)>;

  DeliveryRecorder(db::DeliveryLog& delivery_log, OnRecorded on_recorded);
  ~DeliveryRecorder();
  DeliveryRecorder(const DeliveryRecorder&) = delete;
  DeliveryRecorder& operator=(const DeliveryRecorder&) = delete;

  void Submit(PendingAck pending);

 private:
  void Run();

  db::DeliveryLog& delivery_log_;
  OnRecorded on_recorded_;
  std::mutex mutex_;
  std::condition_variable submitted_;
  std::vector<PendingAck> queue_;
  bool is_stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace inkwell::mailer
