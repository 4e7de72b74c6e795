#include "logd/log_consumer.h"

#include <algorithm>
#include <random>
#include <variant>

#include "core/log.h"
#include "logd/routed_record.h"

namespace inkwell::logd {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kIdleWait = std::chrono::milliseconds(1000);
// How long a batch stays open for more records before it is written, synced and acked. The
// records are safe in the broker until acked, so this costs nothing but visibility; it turns
// one fdatasync per record or two (records trickle in one by one: ~5 per registration) into
// one per window, so that logd's syncs do not queue on the disk beside the services' commits.
constexpr auto kBatchWindow = std::chrono::milliseconds(100);

// 100 ms doubling to 5 s, jittered to 50-100 % so that many instances do not retry in step.
std::chrono::milliseconds Backoff(int failures) {
  const auto cap = std::chrono::milliseconds(std::min(5000, 100 << std::min(failures, 6)));
  static thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<long> jitter(cap.count() / 2, cap.count());
  return std::chrono::milliseconds(jitter(random));
}

}  // namespace

LogConsumer::LogConsumer(amqp::BrokerUrl url, LogConsumerOptions options, LogDirectory& directory,
                         core::Metrics& metrics)
    : url_(std::move(url)),
      options_(options),
      directory_(directory),
      written_(metrics.AddCounter("inkwell_logd_records_written_total",
                                  "Log records written to files and synced")),
      invalid_(metrics.AddCounter("inkwell_logd_invalid_records_total",
                                  "Messages that were not JSON objects, written to invalid.jsonl")),
      write_errors_(metrics.AddCounter("inkwell_logd_write_errors_total",
                                       "Failed writes or syncs (the batch is redelivered)")),
      reconnects_(metrics.AddCounter("inkwell_amqp_reconnects_total",
                                     "Successful connections to the broker after the first",
                                     R"(connection="consumer")")) {}

void LogConsumer::Shutdown() {
  is_shutting_down_ = true;
  wake_.Signal();
}

core::Result<amqp::Connection> LogConsumer::Connect() {
  auto connection = amqp::Connection::Open(
      url_, amqp::ConnectionOptions{options_.heartbeat, std::chrono::seconds(5), "inkwell-logd"});
  if (!connection) return connection;
  if (auto declared = amqp::DeclareTopology(*connection, options_.topology); !declared) {
    return tl::unexpected(declared.error());
  }
  if (auto prefetch = connection->SetPrefetch(options_.prefetch); !prefetch) {
    return tl::unexpected(prefetch.error());
  }
  return connection;
}

void LogConsumer::Run() {
  int failures = 0;
  bool has_connected_before = false;
  std::string last_error;
  while (!is_shutting_down_) {
    auto connection = Connect();
    if (!connection) {
      if (connection.error().message != last_error) {
        core::LogWarn("logd cannot reach the broker; retrying",
                      {{"broker", url_.Redacted()}, {"error", connection.error().message}});
        last_error = connection.error().message;
      }
      wake_.Wait(static_cast<int>(Backoff(failures++).count()));
      continue;
    }
    is_connected_ = true;
    if (has_connected_before) reconnects_.Increment();
    core::LogInfo(
        has_connected_before ? "logd reconnected to the broker" : "logd connected to the broker",
        {{"broker", url_.Redacted()}});
    has_connected_before = true;
    last_error.clear();
    has_disk_failed_ = false;
    auto served = Serve(*connection);
    is_connected_ = false;
    if (served) {
      failures = 0;
      continue;
    }
    core::LogWarn("logd stopped consuming; unacked records will be redelivered",
                  {{"error", served.error().message}});
    // A full or broken disk would fail again at once: back off as for an unreachable broker.
    if (has_disk_failed_) {
      wake_.Wait(static_cast<int>(Backoff(failures++).count()));
    } else {
      failures = 0;
    }
  }
}

core::Result<void> LogConsumer::Serve(amqp::Connection& connection) {
  auto consumer_tag = connection.Consume(amqp::kLogdQueue);
  if (!consumer_tag) return tl::unexpected(consumer_tag.error());
  std::vector<amqp::Delivery> batch;
  batch.reserve(options_.prefetch);
  auto next_age_check = Clock::now();
  auto flush_at = Clock::now();  // when the open batch is written
  for (;;) {
    if (is_shutting_down_) return Flush(connection, batch);
    // A batch stays open for kBatchWindow or until a prefetch's worth has arrived.
    const auto wait =
        batch.empty() ? kIdleWait
                      : std::max(std::chrono::milliseconds(0),
                                 std::chrono::ceil<std::chrono::milliseconds>(flush_at - Clock::now()));
    auto event = connection.NextEvent(wait, wake_.fd());
    if (!event) return tl::unexpected(event.error());
    wake_.Drain();
    if (event->has_value()) {
      if (auto* delivery = std::get_if<amqp::Delivery>(&**event)) {
        if (batch.empty()) flush_at = Clock::now() + kBatchWindow;
        batch.push_back(std::move(*delivery));
        if (batch.size() < options_.prefetch && Clock::now() < flush_at) continue;
      } else {
        continue;  // no confirms or returns on a channel that does not publish
      }
    } else if (!batch.empty() && Clock::now() < flush_at && !is_shutting_down_) {
      continue;  // woken before the window closed
    }
    if (auto flushed = Flush(connection, batch); !flushed) return flushed;
    if (Clock::now() >= next_age_check) {
      next_age_check = Clock::now() + std::chrono::seconds(1);
      if (auto rotated = directory_.RotateAged(std::chrono::system_clock::now()); !rotated) {
        has_disk_failed_ = true;
        write_errors_.Increment();
        return rotated;
      }
    }
  }
}

core::Result<void> LogConsumer::Flush(amqp::Connection& connection,
                                      std::vector<amqp::Delivery>& batch) {
  if (batch.empty()) return {};
  const auto now = std::chrono::system_clock::now();
  std::uint64_t invalid = 0;
  for (const auto& delivery : batch) {
    const RoutedRecord routed = RouteRecord(delivery.message.body, delivery.routing_key, now);
    if (!routed.is_valid) ++invalid;
    auto appended = directory_.Append(routed.service, routed.line, now);
    if (!appended) {
      has_disk_failed_ = true;
      write_errors_.Increment();
      core::LogError("logd cannot write a record", {{"error", appended.error().message}});
      return appended;
    }
  }
  // Ack only after the sync: a crash before it must redeliver, not lose, the records.
  if (auto synced = directory_.Sync(); !synced) {
    has_disk_failed_ = true;
    write_errors_.Increment();
    core::LogError("logd cannot sync its files", {{"error", synced.error().message}});
    return synced;
  }
  // One ack for the batch: every earlier delivery on this channel was acked by an earlier flush.
  if (auto acked = connection.AckUpTo(batch.back().delivery_tag); !acked) return acked;
  written_.Increment(batch.size() - invalid);
  invalid_.Increment(invalid);
  batch.clear();
  return {};
}

}  // namespace inkwell::logd
