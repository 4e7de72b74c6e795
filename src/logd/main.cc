// inkwell-logd: wires the configuration, the log directory, the consumer and the health server.
// Its own records go to stderr only: a LogPublisher here would feed logd its own output.
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "amqp/broker_url.h"
#include "core/config.h"
#include "core/log.h"
#include "core/service_main.h"
#include "core/metrics.h"
#include "http/http_server.h"
#include "logd/log_consumer.h"
#include "logd/log_directory.h"

namespace {

inkwell::logd::LogConsumer* g_consumer = nullptr;

void OnSignal(int) {
  if (g_consumer != nullptr) g_consumer->Shutdown();
}

int Run(int argc, char** argv) {
  using namespace inkwell;  // NOLINT(google-build-using-namespace): main only wires
  using core::OrExit;
  const core::Config config = core::LoadConfig(core::Service::kLogd, argc, argv);
  core::Log::Init("inkwell-logd", config.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  const auto broker = OrExit(amqp::BrokerUrl::Parse(config.amqp_url), "INKWELL_AMQP_URL");
  core::Metrics metrics;
  core::Counter& rotations =
      metrics.AddCounter("inkwell_logd_rotations_total", "Log files rotated (by size or age)");
  const logd::RotationPolicy policy{config.log_max_bytes, config.log_max_age, config.log_keep};
  auto directory = OrExit(logd::LogDirectory::Open(config.log_dir, policy, rotations),
                          "opening INKWELL_LOG_DIR");
  logd::LogConsumerOptions options;
  options.heartbeat = config.amqp_heartbeat;
  options.prefetch = config.prefetch;
  options.topology = amqp::TopologyOptions{config.is_quorum};
  logd::LogConsumer consumer(broker, options, *directory, metrics);
  g_consumer = &consumer;
  core::OnTerminationSignal(OnSignal);

  auto server = OrExit(
      http::HttpServer::Start(
          config.http_addr, 1,
          [&](http::HttpRequest request, http::Responder respond) {
            if (request.path == "/healthz") {
              return respond(http::HttpResponse{200, "text/plain; charset=utf-8", {}, "ok\n"});
            }
            if (request.path == "/readyz") {
              const bool is_ready = consumer.is_connected();
              return respond(http::HttpResponse{is_ready ? 200 : 503,
                                                "text/plain; charset=utf-8",
                                                {},
                                                is_ready ? "ready\n" : "broker: not connected\n"});
            }
            if (request.path == "/metrics") {
              return respond(http::HttpResponse{
                  200, "text/plain; version=0.0.4; charset=utf-8", {}, metrics.Render()});
            }
            respond(http::HttpResponse{404, "text/plain; charset=utf-8", {}, "not found\n"});
          }),
      "starting the HTTP server");
  core::LogInfo("inkwell-logd started", {{"broker", broker.Redacted()},
                                         {"log_dir", config.log_dir},
                                         {"http", "http://" + config.http_addr + "/metrics"}});
  consumer.Run();
  server->Stop();
  core::LogInfo("inkwell-logd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return inkwell::core::ServiceMain("inkwell-logd", argc, argv, Run);
}
