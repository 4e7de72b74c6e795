// inkwell-web: wires the configuration, database, outbox relay and HTTP server together.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "amqp/broker_url.h"
#include "amqp/log_publisher.h"
#include "core/config.h"
#include "core/log.h"
#include "core/service_main.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "core/worker_pool.h"
#include "db/db_url.h"
#include "db/store.h"
#include "http/http_server.h"
#include "templating/template_set.h"
#include "core/ids.h"
#include "web/cache_listener.h"
#include "web/outbox_relay.h"
#include "web/page_cache.h"
#include "web/password_hasher.h"
#include "web/registration.h"
#include "web/web_app.h"

namespace {

inkwell::core::WakeEvent* g_shutdown = nullptr;

void OnSignal(int) {
  if (g_shutdown != nullptr) g_shutdown->Signal();
}

int Run(int argc, char** argv) {
  using namespace inkwell;  // NOLINT(google-build-using-namespace): main only wires
  using core::OrExit;
  const core::Config config = core::LoadConfig(core::Service::kWeb, argc, argv);
  core::Log::Init("inkwell-web", config.log_level);

  core::WakeEvent shutdown;
  g_shutdown = &shutdown;
  core::OnTerminationSignal(OnSignal);

  const auto broker = OrExit(amqp::BrokerUrl::Parse(config.amqp_url), "INKWELL_AMQP_URL");
  auto templates = OrExit(templating::TemplateSet::Load(config.template_dir), "loading templates");
  const auto db_url = OrExit(db::ParseDbUrl(config.db_url), "INKWELL_DB_URL");
  // Connections for the database pool's threads, the hashing pool's (registration commits
  // there), the relay and the backlog sampler.
  const unsigned hash_threads = config.hash_threads != 0
                                    ? config.hash_threads
                                    : std::max(1u, std::thread::hardware_concurrency());
  auto store = OrExit(db::OpenStore(config.db_url, config.db_threads + hash_threads + 2),
                      "opening the database");
  core::Metrics metrics;
  amqp::TopologyOptions topology{config.is_quorum};
  // Log records also go to the `logs` exchange, through a buffer that never blocks a request.
  amqp::LogPublisher log_publisher(broker, config.amqp_heartbeat, topology, metrics);
  core::Log::SetSink(&log_publisher);
  log_publisher.Start();

  web::RelayOptions relay_options;
  relay_options.heartbeat = config.amqp_heartbeat;
  relay_options.topology = topology;
  web::OutboxRelay relay(*store, broker, relay_options, metrics);
  // Outbox health for /metrics, sampled once a second on a thread of its own: a scrape is
  // answered on an I/O thread, and on a server engine Backlog() is a network round trip that
  // may wait out a timeout while the database is down. -1 when the last sample failed.
  struct BacklogSample {
    std::mutex mutex;
    std::optional<db::OutboxBacklog> value;
  } backlog_sample;
  const auto backlog_gauge = [&backlog_sample](auto field) {
    return [&backlog_sample, field] {
      std::lock_guard lock(backlog_sample.mutex);
      return backlog_sample.value ? field(*backlog_sample.value) : -1.0;
    };
  };
  std::jthread backlog_sampler([&store, &backlog_sample](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any tick;
    while (!stop.stop_requested()) {
      auto backlog = store->Backlog();
      {
        std::lock_guard lock(backlog_sample.mutex);
        backlog_sample.value = backlog ? std::optional<db::OutboxBacklog>(*backlog) : std::nullopt;
      }
      std::unique_lock lock(mutex);
      tick.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    }
  });
  metrics.AddGauge("inkwell_outbox_pending", "Outbox rows not yet confirmed by the broker",
                   backlog_gauge([](const db::OutboxBacklog& b) { return static_cast<double>(b.pending); }));
  metrics.AddGauge("inkwell_outbox_failing",
                   "Pending outbox rows whose last publish failed (nacked or unroutable)",
                   backlog_gauge([](const db::OutboxBacklog& b) { return static_cast<double>(b.failing); }));
  metrics.AddGauge("inkwell_outbox_oldest_age_seconds", "Age of the oldest pending outbox row",
                   backlog_gauge([](const db::OutboxBacklog& b) {
                     if (b.pending == 0) return 0.0;
                     const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch());
                     return static_cast<double>(now.count() - b.oldest_created_at_ms) / 1000.0;
                   }));

  if (config.is_weak_password_hash) {
    core::LogWarn("INKWELL_PASSWORD_HASH=min: argon2id at minimum limits, for benchmarks only");
  }
  const web::PasswordHasher hasher(config.is_weak_password_hash
                                       ? web::PasswordHasher::Strength::kMinimum
                                       : web::PasswordHasher::Strength::kInteractive);
  web::Registration registration(*store, hasher, [&relay] { relay.Notify(); }, config.public_url);
  // argon2id uses 64 MiB per hash: one thread per core, and a short queue so that overload is
  // answered with 503 at once instead of waiting.
  // Niced (+10) and SCHED_BATCH, so the I/O thread always gets a core to answer on at once while
  // every core hashes.
  core::WorkerPool blocking_pool(config.hash_threads, 256, /*nice_increment=*/10);
  // Database work for pages, posts, sessions: short, so a few threads and a deeper queue.
  core::WorkerPool db_pool(config.db_threads, 1024);

  // Rendered pages, kept coherent with the other instances over the `cache` exchange.
  web::PageCache page_cache(config.page_cache_bytes, metrics);
  web::CacheListenerOptions cache_options;
  cache_options.heartbeat = config.amqp_heartbeat;
  cache_options.topology = topology;
  cache_options.instance = core::NewUuid();
  web::CacheListener cache_listener(broker, cache_options, page_cache, metrics);

  web::WebOptions web_options;
  web_options.public_url = config.public_url;
  web_options.rate_limit_per_minute = config.rate_limit_per_minute;
  web_options.static_dir = config.static_dir;
  web::WebApp app({*store, registration, hasher, blocking_pool, db_pool, templates, metrics,
                   page_cache, [&relay] { return relay.is_connected(); },
                   [&relay] { relay.Notify(); }, web_options});

  relay.Start();
  if (config.page_cache_bytes > 0) cache_listener.Start();
  auto server = OrExit(http::HttpServer::Start(
                           config.http_addr, config.io_threads,
                           [&app](http::HttpRequest request, http::Responder respond) {
                             app.Handle(std::move(request), std::move(respond));
                           }),
                       "starting the HTTP server");
  core::LogInfo("inkwell-web listening", {{"url", "http://" + config.http_addr + "/"},
                                          {"broker", broker.Redacted()},
                                          {"database", db_url.Redacted()}});

  while (!shutdown.Wait(1000)) {
  }
  core::LogInfo("inkwell-web shutting down");
  // Stop taking requests and let accepted registrations commit; the relay then finishes the
  // publishes in flight and gives this instance's claims back (another instance, or the next
  // start, publishes the rest at once).
  server->Stop();
  blocking_pool.Stop();
  db_pool.Stop();
  cache_listener.Stop();
  relay.Stop();
  core::LogInfo("inkwell-web stopped");
  core::Log::SetSink(nullptr);
  log_publisher.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return inkwell::core::ServiceMain("inkwell-web", argc, argv, Run);
}
