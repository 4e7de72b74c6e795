#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "amqp/broker_url.h"
#include "amqp/topology.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "web/page_cache.h"

namespace inkwell::web {

struct CacheListenerOptions {
  std::chrono::seconds heartbeat{10};
  amqp::TopologyOptions topology;
  std::string instance;  // unique per process; the queue is "cache.<instance>"
};

// Keeps one web instance's PageCache coherent: consumes invalidations from the `cache` fanout
// exchange through the instance's own exclusive queue `cache.<instance>` and evicts the keys
// they name. The cache is enabled only while this listener is connected and consuming: on a
// (re)connect it is cleared first (invalidations may have been missed while away), on a lost
// connection it is disabled, so pages are served from the database meanwhile. Reconnects with
// capped, jittered backoff. Runs on its own thread (Start/Stop).
//
// Message contract (docs/asyncapi.yaml, cache.invalidate): JSON {"keys": ["page:about", ...]}.
// A malformed message is logged with the reason, counted
// (inkwell_cache_invalidations_rejected_total) and, since the cache may now be stale, the whole
// cache is cleared; it is acked, as the queue is the instance's own and has nowhere to dead-letter.
class CacheListener {
 public:
  CacheListener(amqp::BrokerUrl broker, CacheListenerOptions options, PageCache& cache,
                core::Metrics& metrics);
  ~CacheListener();  // Stops.
  CacheListener(const CacheListener&) = delete;
  CacheListener& operator=(const CacheListener&) = delete;

  void Start();
  void Stop();
  bool is_connected() const { return is_connected_.load(); }

 private:
  void Run();

  amqp::BrokerUrl broker_;
  CacheListenerOptions options_;
  PageCache& cache_;
  core::Counter& rejected_;    // inkwell_cache_invalidations_rejected_total
  core::Counter& reconnects_;  // inkwell_amqp_reconnects_total{connection="cache"}
  core::WakeEvent stop_;
  std::atomic<bool> is_connected_{false};
  std::atomic<bool> is_stopping_{false};
  std::thread thread_;
};

// Applies one invalidation message body to the cache. kInvalidArgument (cache untouched) if the
// body is not {"keys": [strings]}.
core::Result<void> ApplyInvalidation(const std::string& body, PageCache& cache);

}  // namespace inkwell::web
