#include "web/cache_listener.h"

#include <optional>
#include <variant>

#include <nlohmann/json.hpp>

#include "amqp/connection.h"
#include "core/backoff.h"
#include "core/log.h"

namespace inkwell::web {
namespace {

constexpr std::size_t kMaxKeys = 1000;
constexpr std::size_t kMaxKeyBytes = 512;
// How long one NextEvent waits while idle; well under heartbeat/2 for any sane
// heartbeat.
constexpr auto kIdleWait = std::chrono::milliseconds(1000);

// The keys of one invalidation body, or why the body is not one.
core::Result<std::vector<std::string>> ParseInvalidation(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return core::Fail(core::ErrorCode::kInvalidArgument, "not JSON");
  if (!json.is_object()) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "not a JSON object");
  }
  const auto found = json.find("keys");
  if (found == json.end()) return core::Fail(core::ErrorCode::kInvalidArgument, "no \"keys\"");
  if (!found->is_array()) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "\"keys\" is not an array");
  }
  if (found->size() > kMaxKeys) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "more than " + std::to_string(kMaxKeys) + " keys");
  }
  std::vector<std::string> keys;
  keys.reserve(found->size());
  for (const auto& key : *found) {
    if (!key.is_string()) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "a key is not a string");
    }
    const auto& text = key.get_ref<const std::string&>();
    if (text.empty() || text.size() > kMaxKeyBytes) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "a key is empty or longer than " + std::to_string(kMaxKeyBytes) + " bytes");
    }
    keys.push_back(text);
  }
  return keys;
}

}  // namespace

core::Result<void> ApplyInvalidation(const std::string& body, PageCache& cache) {
  // Validate the whole body before touching the cache: a rejected message
  // changes nothing here.
  auto keys = ParseInvalidation(body);
  if (!keys) return tl::unexpected(keys.error());
  for (const auto& key : *keys) cache.Invalidate(key);
  return {};
}

namespace {

// Applies one delivery. A message we cannot apply may have named pages that are
// now stale, and we cannot tell which: drop them all.
void ApplyOrClear(const amqp::Message& message, PageCache& cache, core::Counter& rejected) {
  std::string error;
  try {
    if (auto applied = ApplyInvalidation(message.body, cache); !applied) {
      error = applied.error().message;
    }
  } catch (const std::exception& exception) {
    error = std::string("internal error: ") + exception.what();
  }
  if (error.empty()) return;
  core::LogWarn(
      "cache listener rejected an invalidation; the whole page cache "
      "is cleared",
      {{"message_id", message.message_id}, {"error", error}});
  rejected.Increment();
  cache.Clear();
}

}  // namespace

CacheListener::CacheListener(amqp::BrokerUrl broker, CacheListenerOptions options, PageCache& cache,
                             core::Metrics& metrics)
    : broker_(std::move(broker)),
      options_(std::move(options)),
      cache_(cache),
      rejected_(metrics.AddCounter("inkwell_cache_invalidations_rejected_total",
                                   "Cache invalidation messages that were "
                                   "malformed (the whole cache was cleared)")),
      reconnects_(metrics.AddCounter("inkwell_amqp_reconnects_total",
                                     "Successful connections to the broker after the first",
                                     R"(connection="cache")")) {
  // Until the first connection, invalidations would be missed: serve from the database.
  cache_.SetEnabled(false);
}

CacheListener::~CacheListener() { Stop(); }

void CacheListener::Start() {
  if (thread_.joinable()) return;
  is_stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void CacheListener::Stop() {
  is_stopping_ = true;
  stop_.Signal();
  if (thread_.joinable()) thread_.join();
}

void CacheListener::Run() {
  const std::string queue = "cache." + options_.instance;
  int failures = 0;
  bool has_connected_before = false;
  std::string last_error;

  // Opens the connection and starts consuming the instance's own queue.
  const auto connect = [&]() -> core::Result<amqp::Connection> {
    auto connection = amqp::Connection::Open(
        broker_, amqp::ConnectionOptions{options_.heartbeat, std::chrono::seconds(5),
                                         "inkwell-web cache listener " + options_.instance});
    if (!connection) return connection;
    core::Result<void> ready = amqp::DeclareTopology(*connection, options_.topology);
    // Exclusive (and so auto-deleted): invalidations queued while this instance
    // is gone would be useless, since it starts over with an empty cache.
    if (ready) ready = connection->DeclareQueue(queue, {}, /*is_exclusive=*/true);
    if (ready) ready = connection->BindQueue(queue, amqp::kCacheExchange, "");
    if (ready) {
      if (auto consumer_tag = connection->Consume(queue); !consumer_tag) {
        ready = tl::unexpected(consumer_tag.error());
      }
    }
    if (!ready) return tl::unexpected(ready.error());
    return connection;
  };

  while (!is_stopping_) {
    auto connection = connect();
    if (!connection) {
      if (connection.error().message != last_error) {
        core::LogWarn(
            "cache listener cannot reach the broker; pages are not "
            "cached until it is "
            "back",
            {{"broker", broker_.Redacted()}, {"error", connection.error().message}});
        last_error = connection.error().message;
      }
      stop_.Wait(static_cast<int>(core::ReconnectDelay(failures++).count()));
      continue;
    }
    // Consuming now: anything changed while we were away is forgotten by
    // starting empty.
    cache_.Clear();
    cache_.SetEnabled(true);
    is_connected_ = true;
    if (has_connected_before) reconnects_.Increment();
    core::LogInfo(has_connected_before ? "cache listener reconnected to the broker"
                                       : "cache listener connected to the broker",
                  {{"broker", broker_.Redacted()}, {"queue", queue}});
    has_connected_before = true;
    failures = 0;
    last_error.clear();

    core::Result<void> served = {};
    while (!is_stopping_ && served) {
      auto event = connection->NextEvent(kIdleWait, stop_.fd());
      stop_.Drain();
      if (!event) {
        served = tl::unexpected(event.error());
        break;
      }
      if (!event->has_value()) continue;
      auto* delivery = std::get_if<amqp::Delivery>(&**event);
      if (delivery == nullptr)
        continue;  // no confirms or returns on a channel that does not publish
      ApplyOrClear(delivery->message, cache_, rejected_);
      // Acked either way: the queue is this instance's own and has nowhere to
      // dead-letter.
      served = connection->Ack(delivery->delivery_tag);
    }
    // Stopping or lost: from here on invalidations may be missed, so serve from
    // the database.
    cache_.SetEnabled(false);
    is_connected_ = false;
    if (!served) {
      core::LogWarn(
          "cache listener lost the broker connection; the page cache is "
          "disabled",
          {{"broker", broker_.Redacted()}, {"error", served.error().message}});
      stop_.Wait(static_cast<int>(core::ReconnectDelay(failures++).count()));
    }
  }
}

}  // namespace inkwell::web
