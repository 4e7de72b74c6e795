#include "amqp/log_publisher.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <vector>

#include "amqp/confirmed_publisher.h"
#include "amqp/connection.h"
#include "core/backoff.h"
#include "core/ids.h"

namespace inkwell::amqp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kBatch = 500;

}  // namespace

LogPublisher::LogPublisher(BrokerUrl url, std::chrono::seconds heartbeat, TopologyOptions topology,
                           core::Metrics& metrics, std::size_t capacity)
    : url_(std::move(url)),
      heartbeat_(heartbeat),
      topology_(topology),
      capacity_(capacity),
      published_(metrics.AddCounter("inkwell_log_records_published_total",
                                    "Log records the broker confirmed on the logs exchange")),
      dropped_(metrics.AddCounter("inkwell_log_records_dropped_total",
                                  "Log records dropped because the buffer was full")) {}

LogPublisher::~LogPublisher() { Stop(std::chrono::milliseconds(0)); }

void LogPublisher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LogPublisher::Stop(std::chrono::milliseconds flush_timeout) {
  if (!thread_.joinable()) return;
  stop_deadline_ = Clock::now() + flush_timeout;
  is_stopping_ = true;
  wake_.Signal();
  thread_.join();
}

void LogPublisher::Offer(std::string routing_key, std::string record) noexcept {
  try {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      if (buffer_.size() >= capacity_) {
        ++dropped_since_report_;
        dropped_.Increment();
        return;
      }
      was_empty = buffer_.empty();
      buffer_.emplace_back(std::move(routing_key), std::move(record));
    }
    if (was_empty) wake_.Signal();
  } catch (...) {
    dropped_.Increment();  // out of memory: a log record is not worth crashing for
  }
}

void LogPublisher::Run() {
  std::optional<Connection> connection;
  int failures = 0;
  while (true) {
    const bool is_flush_over = is_stopping_ && Clock::now() >= stop_deadline_;
    if (is_flush_over) break;
    if (!connection) {
      auto opened = Connection::Open(url_, ConnectionOptions{heartbeat_, std::chrono::seconds(5),
                                                             core::Log::service() + " logs"});
      core::Result<void> ready = opened ? DeclareTopology(*opened, topology_)
                                        : tl::unexpected(opened.error());
      if (ready) ready = opened->EnableConfirms();
      if (!ready) {
        if (is_stopping_) break;
        wake_.Wait(static_cast<int>(core::ReconnectDelay(failures++).count()));
        continue;
      }
      connection.emplace(std::move(*opened));
      failures = 0;
      std::size_t dropped = 0;
      {
        std::lock_guard lock(mutex_);
        dropped = std::exchange(dropped_since_report_, 0);
      }
      if (dropped > 0) {
        core::LogWarn("log records were dropped while the broker was unreachable",
                      {{"dropped", std::to_string(dropped)}});
      }
    }
    std::vector<std::pair<std::string, std::string>> taken;
    {
      std::lock_guard lock(mutex_);
      const std::size_t count = std::min(kBatch, buffer_.size());
      std::move(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count),
                std::back_inserter(taken));
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count));
    }
    if (taken.empty()) {
      if (is_stopping_) break;
      auto event = connection->NextEvent(std::chrono::milliseconds(1000), wake_.fd());
      wake_.Drain();
      if (!event) connection.reset();
      continue;
    }
    std::vector<OutgoingMessage> batch;
    batch.reserve(taken.size());
    for (auto& [routing_key, record] : taken) {
      OutgoingMessage outgoing;
      outgoing.exchange = kLogsExchange;
      outgoing.routing_key = routing_key;
      outgoing.message.message_id = core::NewUuid();
      outgoing.message.type = "log.record";
      outgoing.message.app_id = core::Log::service();
      outgoing.message.timestamp = std::time(nullptr);
      outgoing.message.body = record;
      batch.push_back(std::move(outgoing));
    }
    const PublishReport report =
        PublishConfirmed(*connection, batch, 1000, std::chrono::seconds(20));
    std::vector<std::pair<std::string, std::string>> unsent;
    for (std::size_t i = 0; i < taken.size(); ++i) {
      if (report.outcomes[i] == PublishOutcome::kConfirmed ||
          report.outcomes[i] == PublishOutcome::kReturned) {  // returned: no logd queue bound
        published_.Increment();
      } else {
        unsent.push_back(std::move(taken[i]));
      }
    }
    if (!unsent.empty()) {
      // Put them back in front, in order, as far as the buffer has room.
      std::lock_guard lock(mutex_);
      for (auto it = unsent.rbegin(); it != unsent.rend(); ++it) {
        if (buffer_.size() >= capacity_) {
          ++dropped_since_report_;
          dropped_.Increment();
          continue;
        }
        buffer_.push_front(std::move(*it));
      }
    }
    if (report.error) connection.reset();
  }
}

}  // namespace inkwell::amqp
