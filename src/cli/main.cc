// inkwell: the operator's tool. `inkwell --help` lists the commands.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "amqp/broker_url.h"
#include "amqp/connection.h"
#include "amqp/topology.h"
#include "cli/dead_letters.h"
#include "cli/log_commands.h"
#include "core/config.h"
#include "db/db_url.h"
#include "db/store.h"

namespace {

using namespace inkwell;  // NOLINT(google-build-using-namespace): a command-line front end

// Exit codes: 0 fine, 1 something is wrong (unreachable, not found), 2 bad usage.
constexpr int kOk = 0;
constexpr int kFailed = 1;

core::Result<amqp::Connection> Connect(const std::string& url_text) {
  auto url = amqp::BrokerUrl::Parse(url_text);
  if (!url) return tl::unexpected(url.error());
  return amqp::Connection::Open(*url, amqp::ConnectionOptions{std::chrono::seconds(10),
                                                              std::chrono::seconds(5), "inkwell-cli"});
}

int Status(const std::string& amqp_url, const std::string& db_url) {
  int result = kOk;
  std::vector<std::string> queues = {amqp::kEmailQueue, amqp::kEmailDeadQueue};
  for (const auto& step : amqp::EmailRetrySteps()) queues.push_back(step.queue);
  auto connection = Connect(amqp_url);
  if (!connection) {
    std::cout << "broker    UNREACHABLE  " << connection.error().message << "\n";
    result = kFailed;
  } else {
    std::cout << "broker    ok           " << amqp::BrokerUrl::Parse(amqp_url)->Redacted() << "\n";
    std::printf("%-18s %10s %10s\n", "queue", "messages", "consumers");
    for (const auto& queue : queues) {
      // A failed passive declare closes the channel: one connection per queue keeps it simple.
      auto probe = Connect(amqp_url);
      auto stats = probe ? probe->InspectQueue(queue) : tl::unexpected(probe.error());
      if (stats) {
        std::printf("%-18s %10u %10u\n", queue.c_str(), stats->message_count, stats->consumer_count);
      } else {
        std::printf("%-18s %10s %10s  (%s)\n", queue.c_str(), "-", "-",
                    stats.error().code == core::ErrorCode::kNotFound ? "not declared yet"
                                                                     : stats.error().message.c_str());
      }
    }
  }
  // Read-only: a database whose schema is behind is reported, not migrated (that is
  // `inkwell db migrate`'s job, or inkwell-web's at start).
  auto schema = db::ReadSchemaStatus(db_url);
  if (schema && schema->current < schema->latest) {
    std::cout << "outbox    UNAVAILABLE  the " << schema->engine << " schema is at version "
              << schema->current << " of " << schema->latest
              << "; run `inkwell db migrate` or start inkwell-web\n";
    return kFailed;
  }
  auto store = schema ? db::OpenStore(db_url, 1) : tl::unexpected(schema.error());
  auto backlog = store ? (*store)->Backlog() : tl::unexpected(store.error());
  if (!backlog) {
    std::cout << "outbox    UNAVAILABLE  " << backlog.error().message << "\n";
    return kFailed;
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::cout << "outbox    " << backlog->pending << " pending";
  if (backlog->pending > 0) {
    std::cout << ", oldest " << (now_ms - backlog->oldest_created_at_ms) / 1000 << " s old";
  }
  std::cout << ", " << backlog->failing << " failing\n";
  if (backlog->failing > 0) {
    auto failing = (*store)->FailingOutbox(20);
    if (failing) {
      for (const auto& row : *failing) {
        std::cout << "  outbox row " << row.id << " (" << row.message.message_id << ") "
                  << row.attempts << " attempts: " << row.last_error << "\n";
      }
    }
  }
  return result;
}

int ListDeadLetters(const std::string& amqp_url, std::size_t limit) {
  auto connection = Connect(amqp_url);
  if (!connection) return std::cerr << "inkwell: " << connection.error().message << "\n", kFailed;
  auto letters = cli::BrowseDeadLetters(*connection, limit);
  if (!letters) return std::cerr << "inkwell: " << letters.error().message << "\n", kFailed;
  if (letters->empty()) {
    std::cout << "email.dead is empty\n";
    return kOk;
  }
  std::printf("%-38s %-21s %-8s %s\n", "message_id", "failed at", "attempts", "reason");
  for (const auto& letter : *letters) {
    std::printf("%-38s %-21s %-8s %s\n", letter.message_id.empty() ? "(none)" : letter.message_id.c_str(),
                letter.failed_at.c_str(), letter.attempts.c_str(), letter.reason.c_str());
  }
  return kOk;
}

int ShowDeadLetter(const std::string& amqp_url, const std::string& message_id) {
  auto connection = Connect(amqp_url);
  if (!connection) return std::cerr << "inkwell: " << connection.error().message << "\n", kFailed;
  auto letters = cli::BrowseDeadLetters(*connection, 100000);
  if (!letters) return std::cerr << "inkwell: " << letters.error().message << "\n", kFailed;
  for (const auto& letter : *letters) {
    if (letter.message_id != message_id) continue;
    const amqp::Message& message = letter.message;
    std::cout << "message_id:   " << message.message_id << "\n"
              << "type:         " << message.type << "\n"
              << "app_id:       " << message.app_id << "\n"
              << "content_type: " << message.content_type << "\n"
              << "timestamp:    " << message.timestamp << "\n";
    for (const auto& [key, value] : message.headers) std::cout << "header " << key << ": " << value << "\n";
    std::cout << "body (" << message.body.size() << " bytes):\n" << message.body << "\n";
    return kOk;
  }
  std::cerr << "inkwell: no dead letter with message_id " << message_id << "\n";
  return kFailed;
}

int Replay(const std::string& amqp_url, const std::string& message_id) {
  auto connection = Connect(amqp_url);
  if (!connection) return std::cerr << "inkwell: " << connection.error().message << "\n", kFailed;
  auto replayed = cli::ReplayDeadLetters(*connection, message_id);
  if (!replayed) return std::cerr << "inkwell: " << replayed.error().message << "\n", kFailed;
  std::cout << "replayed " << *replayed << " message(s) to exchange email\n";
  return kOk;
}

int Purge(const std::string& amqp_url) {
  auto connection = Connect(amqp_url);
  if (!connection) return std::cerr << "inkwell: " << connection.error().message << "\n", kFailed;
  auto purged = connection->PurgeQueue(amqp::kEmailDeadQueue);
  if (!purged) return std::cerr << "inkwell: " << purged.error().message << "\n", kFailed;
  std::cout << "purged " << *purged << " message(s) from email.dead\n";
  return kOk;
}

int DbStatus(const std::string& db_url) {
  auto status = db::ReadSchemaStatus(db_url);
  if (!status) return std::cerr << "inkwell: " << status.error().message << "\n", kFailed;
  std::cout << "engine    " << status->engine << "\n"
            << "database  " << db::ParseDbUrl(db_url)->Redacted() << "\n"
            << "schema    version " << status->current << " of " << status->latest;
  if (status->current < status->latest) {
    std::cout << " (" << status->latest - status->current
              << " pending: run `inkwell db migrate`, or start inkwell-web, which migrates)";
  } else if (status->current > status->latest) {
    std::cout << " (newer than this build: upgrade inkwell before starting it on this database)";
  } else {
    std::cout << " (up to date)";
  }
  std::cout << "\n";
  return status->current == status->latest ? kOk : kFailed;
}

int DbMigrate(const std::string& db_url) {
  auto before = db::ReadSchemaStatus(db_url);
  if (!before) return std::cerr << "inkwell: " << before.error().message << "\n", kFailed;
  auto after = db::MigrateSchema(db_url);
  if (!after) return std::cerr << "inkwell: " << after.error().message << "\n", kFailed;
  if (after->current == before->current) {
    std::cout << "schema already at version " << after->current << "; nothing to do\n";
  } else {
    std::cout << "migrated " << after->engine << " schema from version " << before->current
              << " to " << after->current << "\n";
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::string amqp_url = core::EnvOr("INKWELL_AMQP_URL", "amqp://guest:guest@127.0.0.1:5682/");
  std::string db_url = core::EnvOr("INKWELL_DB_URL", "sqlite:var/inkwell.db");
  CLI::App app("inkwell: operate an inkwell installation");
  app.require_subcommand(1);
  app.add_option("--amqp-url", amqp_url, "RabbitMQ URL [INKWELL_AMQP_URL]")->capture_default_str();
  app.add_option("--db-url", db_url, "web database [INKWELL_DB_URL]")->capture_default_str();

  auto* status = app.add_subcommand("status", "broker reachable, queue depths and consumers, outbox backlog");
  auto* dlq = app.add_subcommand("dlq", "dead letters in email.dead");
  dlq->require_subcommand(1);
  std::size_t limit = 50;
  auto* list = dlq->add_subcommand("list", "list dead letters with their reasons");
  list->add_option("--limit", limit, "at most this many")->capture_default_str();
  std::string message_id;
  auto* show = dlq->add_subcommand("show", "one dead letter, headers and body");
  show->add_option("message_id", message_id)->required();
  bool is_all = false;
  auto* replay = dlq->add_subcommand("replay", "publish dead letters back to the email queue");
  replay->add_option("message_id", message_id, "the one to replay");
  replay->add_flag("--all", is_all, "replay every dead letter");
  bool is_confirmed = false;
  auto* purge = dlq->add_subcommand("purge", "delete every dead letter");
  purge->add_flag("--yes", is_confirmed, "really delete them");

  auto* db_command = app.add_subcommand("db", "the web database's schema [INKWELL_DB_URL]");
  db_command->require_subcommand(1);
  auto* db_status = db_command->add_subcommand(
      "status", "engine and schema version; exit 1 if migrations are pending");
  auto* db_migrate = db_command->add_subcommand("migrate", "apply pending migrations (under a lock)");

  cli::LogsOptions logs_options;
  logs_options.log_dir = core::EnvOr("INKWELL_LOG_DIR", logs_options.log_dir);
  auto* logs = app.add_subcommand("logs", "read the log records inkwell-logd collected");
  logs->add_option("--log-dir", logs_options.log_dir, "inkwell-logd's directory [INKWELL_LOG_DIR]")
      ->capture_default_str();
  logs->add_option("--service", logs_options.services, "only this service (repeatable)");
  logs->add_option("--level", logs_options.min_level, "at least this level: debug, info, warn, error");
  logs->add_option("--since", logs_options.since, "RFC 3339 time, or a duration ago: 90s, 10m, 2h, 7d");
  logs->add_option("--until", logs_options.until, "RFC 3339 time, or a duration ago");
  logs->add_option("--trace", logs_options.trace, "only records of this trace id (or traceparent)");
  logs->add_flag("-f,--follow", logs_options.is_following, "keep printing new records until Ctrl-C");
  logs->add_flag("--json", logs_options.is_json, "print the records as stored (JSON lines)");
  std::string trace_text;
  auto* trace = app.add_subcommand("trace", "the steps of one traced request, in time order");
  trace->add_option("--log-dir", logs_options.log_dir, "inkwell-logd's directory [INKWELL_LOG_DIR]")
      ->capture_default_str();
  trace->add_option("trace_id", trace_text, "a trace id (32 hex digits) or a whole traceparent")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help is a success; every other parse error is bad usage.
    return app.exit(error) == 0 ? kOk : 2;
  }
  if (status->parsed()) return Status(amqp_url, db_url);
  if (db_status->parsed()) return DbStatus(db_url);
  if (db_migrate->parsed()) return DbMigrate(db_url);
  if (logs->parsed()) return cli::RunLogs(logs_options);
  if (trace->parsed()) return cli::RunTrace(logs_options.log_dir, trace_text);
  if (list->parsed()) return ListDeadLetters(amqp_url, limit);
  if (show->parsed()) return ShowDeadLetter(amqp_url, message_id);
  if (replay->parsed()) {
    if (message_id.empty() == !is_all) {
      std::cerr << "inkwell: give a message_id or --all (not both)\n";
      return 2;
    }
    return Replay(amqp_url, is_all ? std::string() : message_id);
  }
  if (purge->parsed()) {
    if (!is_confirmed) {
      std::cerr << "inkwell: purge deletes every dead letter for good; add --yes to do it\n";
      return 2;
    }
    return Purge(amqp_url);
  }
  return 2;
}
