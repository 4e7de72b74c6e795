// inkwell-mailer: wires the configuration, templates, senders and the queue consumer together.
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <thread>

#include "amqp/broker_url.h"
#include "amqp/log_publisher.h"
#include "core/config.h"
#include "core/log.h"
#include "core/service_main.h"
#include "core/metrics.h"
#include "db/delivery_log.h"
#include "http/http_server.h"
#include "mail/mail_sender.h"
#include "mail/mail_url.h"
#include "mailer/email_handler.h"
#include "mailer/mail_consumer.h"
#include "templating/template_set.h"

namespace {

inkwell::mailer::MailConsumer* g_consumer = nullptr;

void OnSignal(int) {
  if (g_consumer != nullptr) g_consumer->Shutdown();
}

int Run(int argc, char** argv) {
  using namespace inkwell;  // NOLINT(google-build-using-namespace): main only wires
  using core::OrExit;
  const core::Config config = core::LoadConfig(core::Service::kMailer, argc, argv);
  core::Log::Init("inkwell-mailer", config.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  const auto broker = OrExit(amqp::BrokerUrl::Parse(config.amqp_url), "INKWELL_AMQP_URL");
  const auto mail_url = OrExit(mail::ParseMailUrl(config.mail_url), "INKWELL_MAIL_URL");
  // The e-mail templates alone: the mailer renders nothing else.
  const auto templates = OrExit(
      templating::TemplateSet::Load(std::filesystem::path(config.template_dir) / "email"),
      "loading templates");
  auto delivery_log = OrExit(db::OpenDeliveryLog(config.mailer_db_url), "opening the mailer store");

  core::Metrics metrics;
  const amqp::TopologyOptions topology{config.is_quorum};
  // Log records also go to the `logs` exchange, through a buffer that never blocks a send.
  amqp::LogPublisher log_publisher(broker, config.amqp_heartbeat, topology, metrics);
  core::Log::SetSink(&log_publisher);
  log_publisher.Start();
  mailer::MailerCounters counters(metrics);
  std::vector<std::unique_ptr<mailer::EmailHandler>> handlers;
  for (unsigned i = 0; i < config.mail_workers; ++i) {
    auto sender = OrExit(mail::MakeMailSender(mail_url, config.smtp_timeout), "creating the mail sender");
    handlers.push_back(std::make_unique<mailer::EmailHandler>(std::move(sender), templates,
                                                              *delivery_log, config.mail_from, counters));
  }
  mailer::ConsumerOptions options;
  options.heartbeat = config.amqp_heartbeat;
  options.prefetch = config.prefetch;
  options.topology = topology;
  mailer::MailConsumer consumer(broker, options, std::move(handlers), *delivery_log, counters,
                               metrics);
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
              return respond(http::HttpResponse{is_ready ? 200 : 503, "text/plain; charset=utf-8",
                                                {}, is_ready ? "ready\n" : "broker: not connected\n"});
            }
            if (request.path == "/metrics") {
              return respond(http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", {},
                                                metrics.Render()});
            }
            respond(http::HttpResponse{404, "text/plain; charset=utf-8", {}, "not found\n"});
          }),
      "starting the HTTP server");
  core::LogInfo("inkwell-mailer started", {{"broker", broker.Redacted()},
                                           {"mail", config.mail_url},
                                           {"http", "http://" + config.http_addr + "/metrics"}});
  consumer.Run();
  server->Stop();
  core::LogInfo("inkwell-mailer stopped");
  core::Log::SetSink(nullptr);
  log_publisher.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return inkwell::core::ServiceMain("inkwell-mailer", argc, argv, Run);
}
