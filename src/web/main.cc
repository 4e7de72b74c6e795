// inkwell-web: wires the configuration, database, outbox relay and HTTP server together.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "amqp/broker_url.h"
#include "amqp/log_publisher.h"
#include "core/config.h"
#include "core/log.h"
#include "core/service_main.h"
#include "core/metrics.h"
#include "core/wake_event.h"
#include "core/worker_pool.h"
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
  auto store = OrExit(db::OpenStore(config.db_url, config.db_threads + 2), "opening the database");
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
  // Outbox health, read from the database at scrape time (-1 when it cannot be read).
  const auto backlog_gauge = [&store](auto field) {
    return [&store, field] {
      auto backlog = store->Backlog();
      return backlog ? field(*backlog) : -1.0;
    };
  };
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
                                          {"database", config.db_url}});

  while (!shutdown.Wait(1000)) {
  }
  core::LogInfo("inkwell-web shutting down");
  // Stop taking requests, let accepted registrations commit, then let the relay publish them.
  server->Stop();
  blocking_pool.Stop();
  db_pool.Stop();
  cache_listener.Stop();
  relay.Notify();
  relay.Stop();
  (void)store->ReleaseOutboxClaims();  // another instance may publish what is left at once
  core::LogInfo("inkwell-web stopped");
  core::Log::SetSink(nullptr);
  log_publisher.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return inkwell::core::ServiceMain("inkwell-web", argc, argv, Run);
}
