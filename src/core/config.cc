#include "core/config.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>

namespace inkwell::core {
std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

namespace {

unsigned long ParseNumber(const char* name, const std::string& text, unsigned long low,
                          unsigned long high) {
  size_t used = 0;
  unsigned long value = 0;
  try {
    // Digits only: stoul would also take " 5" and "+5".
    if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])) == 0) throw std::invalid_argument(text);
    value = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < low || value > high) {
    throw std::invalid_argument(std::string(name) + "=" + text + ": expected a whole number from " +
                                std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

}  // namespace

Config LoadConfig(Service service, int argc, char** argv) {
  Config config;
  const bool is_web = service == Service::kWeb;
  const bool is_logd = service == Service::kLogd;
  const char* http_env = is_web    ? "INKWELL_HTTP_ADDR"
                         : is_logd ? "INKWELL_LOGD_HTTP_ADDR"
                                   : "INKWELL_MAILER_HTTP_ADDR";
  std::string http_addr =
      EnvOr(http_env, is_web ? "127.0.0.1:8080" : is_logd ? "127.0.0.1:8082" : "127.0.0.1:8081");
  std::string amqp_url = EnvOr("INKWELL_AMQP_URL", config.amqp_url);
  std::string db_url = EnvOr("INKWELL_DB_URL", config.db_url);
  std::string mailer_db_url = EnvOr("INKWELL_MAILER_DB_URL", config.mailer_db_url);
  std::string mail_url = EnvOr("INKWELL_MAIL_URL", config.mail_url);
  std::string mail_from = EnvOr("INKWELL_MAIL_FROM", config.mail_from);
  std::string log_level = EnvOr("INKWELL_LOG_LEVEL", "info");
  std::string template_dir = EnvOr("INKWELL_TEMPLATE_DIR", INKWELL_DEFAULT_TEMPLATE_DIR);
  std::string static_dir = EnvOr("INKWELL_STATIC_DIR", INKWELL_DEFAULT_STATIC_DIR);
  std::string rate_limit = EnvOr("INKWELL_RATE_LIMIT_PER_MINUTE", std::to_string(config.rate_limit_per_minute));
  std::string page_cache_mb = EnvOr("INKWELL_PAGE_CACHE_MB", "32");
  std::string db_threads = EnvOr("INKWELL_DB_THREADS", std::to_string(config.db_threads));
  std::string heartbeat = EnvOr("INKWELL_AMQP_HEARTBEAT", "10");
  std::string quorum = EnvOr("INKWELL_QUORUM", "0");
  std::string io_threads = EnvOr("INKWELL_IO_THREADS", "1");
  std::string hash_threads = EnvOr("INKWELL_HASH_THREADS", "0");
  std::string prefetch = EnvOr("INKWELL_PREFETCH", is_logd ? "500" : "128");
  std::string workers = EnvOr("INKWELL_MAIL_WORKERS", "4");
  std::string smtp_timeout = EnvOr("INKWELL_SMTP_TIMEOUT", "30");
  std::string log_dir = EnvOr("INKWELL_LOG_DIR", config.log_dir);
  std::string log_max_bytes = EnvOr("INKWELL_LOG_MAX_BYTES", std::to_string(config.log_max_bytes));
  std::string log_max_age = EnvOr("INKWELL_LOG_MAX_AGE", std::to_string(config.log_max_age.count()));
  std::string log_keep = EnvOr("INKWELL_LOG_KEEP", std::to_string(config.log_keep));

  CLI::App app(is_web    ? "inkwell-web: the inkwell CMS web service"
               : is_logd ? "inkwell-logd: writes every service's log records to rotating files"
                         : "inkwell-mailer: sends the e-mails queued on RabbitMQ");
  app.add_option("--http-addr", http_addr, std::string("host:port for HTTP [") + http_env + "]")
      ->capture_default_str();
  app.add_option("--amqp-url", amqp_url, "RabbitMQ URL [INKWELL_AMQP_URL]")->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn, error [INKWELL_LOG_LEVEL]")
      ->capture_default_str();
  app.add_option("--amqp-heartbeat", heartbeat, "seconds, 5-60 [INKWELL_AMQP_HEARTBEAT]")
      ->capture_default_str();
  app.add_option("--quorum", quorum, "1: declare work queues as quorum queues [INKWELL_QUORUM]")
      ->capture_default_str();
  app.add_option("--template-dir", template_dir, "mustache templates [INKWELL_TEMPLATE_DIR]")
      ->capture_default_str();
  if (is_web) {
    app.add_option("--db-url", db_url, "database, sqlite:PATH [INKWELL_DB_URL]")
        ->capture_default_str();
    app.add_option("--public-url", config.public_url, "base URL for links in e-mails [INKWELL_PUBLIC_URL]");
    app.add_option("--io-threads", io_threads, "HTTP I/O threads [INKWELL_IO_THREADS]")
        ->capture_default_str();
    app.add_option("--hash-threads", hash_threads,
                   "password-hashing threads, 0 = one per core [INKWELL_HASH_THREADS]")
        ->capture_default_str();
    app.add_option("--db-threads", db_threads, "threads for database work [INKWELL_DB_THREADS]")
        ->capture_default_str();
    app.add_option("--static-dir", static_dir, "style sheet and other static files [INKWELL_STATIC_DIR]")
        ->capture_default_str();
    app.add_option("--rate-limit-per-minute", rate_limit,
                   "register/login/resend requests per client address and minute, 0 = off "
                   "[INKWELL_RATE_LIMIT_PER_MINUTE]")
        ->capture_default_str();
    app.add_option("--page-cache-mb", page_cache_mb, "rendered-page cache size, 0 = off [INKWELL_PAGE_CACHE_MB]")
        ->capture_default_str();
  } else if (is_logd) {
    app.add_option("--log-dir", log_dir, "where the JSON-lines files go [INKWELL_LOG_DIR]")
        ->capture_default_str();
    app.add_option("--log-max-bytes", log_max_bytes,
                   "rotate a file above this size [INKWELL_LOG_MAX_BYTES]")
        ->capture_default_str();
    app.add_option("--log-max-age", log_max_age,
                   "rotate a file older than this, seconds [INKWELL_LOG_MAX_AGE]")
        ->capture_default_str();
    app.add_option("--log-keep", log_keep, "rotated files kept per service [INKWELL_LOG_KEEP]")
        ->capture_default_str();
    app.add_option("--prefetch", prefetch, "unacked deliveries in flight [INKWELL_PREFETCH]")
        ->capture_default_str();
  } else {
    app.add_option("--mailer-db-url", mailer_db_url,
                   "de-duplication store, sqlite:PATH [INKWELL_MAILER_DB_URL]")
        ->capture_default_str();
    app.add_option("--mail-url", mail_url,
                   "maildir:PATH, smtp://[user:pass@]host:port, smtps://... [INKWELL_MAIL_URL]")
        ->capture_default_str();
    app.add_option("--mail-from", mail_from, "From: of every e-mail [INKWELL_MAIL_FROM]")
        ->capture_default_str();
    app.add_option("--prefetch", prefetch, "unacked deliveries in flight [INKWELL_PREFETCH]")
        ->capture_default_str();
    app.add_option("--mail-workers", workers, "parallel SMTP connections [INKWELL_MAIL_WORKERS]")
        ->capture_default_str();
    app.add_option("--smtp-timeout", smtp_timeout, "seconds [INKWELL_SMTP_TIMEOUT]")
        ->capture_default_str();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error));
  }

  if (config.public_url.empty()) {
    config.public_url = EnvOr("INKWELL_PUBLIC_URL", "http://" + http_addr);
  }
  config.http_addr = http_addr;
  config.amqp_url = amqp_url;
  config.db_url = db_url;
  config.mailer_db_url = mailer_db_url;
  config.mail_url = mail_url;
  config.mail_from = mail_from;
  config.template_dir = template_dir;
  config.static_dir = static_dir;
  if (is_web) {
    config.rate_limit_per_minute =
        static_cast<unsigned>(ParseNumber("INKWELL_RATE_LIMIT_PER_MINUTE", rate_limit, 0, 100000));
    config.page_cache_bytes =
        static_cast<std::size_t>(ParseNumber("INKWELL_PAGE_CACHE_MB", page_cache_mb, 0, 65536)) * 1024 * 1024;
    config.db_threads = static_cast<unsigned>(ParseNumber("INKWELL_DB_THREADS", db_threads, 1, 64));
  }
  if (!ParseLogLevel(log_level, config.log_level)) {
    throw std::invalid_argument("INKWELL_LOG_LEVEL=" + log_level +
                                ": expected debug, info, warn or error");
  }
  config.amqp_heartbeat = std::chrono::seconds(ParseNumber("INKWELL_AMQP_HEARTBEAT", heartbeat, 5, 60));
  config.is_quorum = ParseNumber("INKWELL_QUORUM", quorum, 0, 1) == 1;
  config.io_threads = static_cast<unsigned>(ParseNumber("INKWELL_IO_THREADS", io_threads, 1, 64));
  config.hash_threads = static_cast<unsigned>(ParseNumber("INKWELL_HASH_THREADS", hash_threads, 0, 64));
  if (config.hash_threads == 0) config.hash_threads = std::max(1U, std::thread::hardware_concurrency());
  const std::string password_hash = EnvOr("INKWELL_PASSWORD_HASH", "interactive");
  if (password_hash != "interactive" && password_hash != "min") {
    throw std::invalid_argument("INKWELL_PASSWORD_HASH=" + password_hash +
                                ": expected interactive (the default) or min");
  }
  config.is_weak_password_hash = password_hash == "min";
  if (config.is_weak_password_hash && EnvOr("INKWELL_BENCHMARK", "0") != "1") {
    throw std::invalid_argument(
        "INKWELL_PASSWORD_HASH=min makes passwords easy to crack and is for benchmarks only; "
        "it needs INKWELL_BENCHMARK=1 as well");
  }
  config.prefetch = static_cast<std::uint16_t>(ParseNumber("INKWELL_PREFETCH", prefetch, 1, 10000));
  config.mail_workers = static_cast<unsigned>(ParseNumber("INKWELL_MAIL_WORKERS", workers, 1, 64));
  config.smtp_timeout = std::chrono::seconds(ParseNumber("INKWELL_SMTP_TIMEOUT", smtp_timeout, 1, 600));
  if (is_logd) {  // the other services do not read these, so a bad value cannot stop them
    if (log_dir.empty()) throw std::invalid_argument("INKWELL_LOG_DIR: must not be empty");
    config.log_dir = log_dir;
    config.log_max_bytes = ParseNumber("INKWELL_LOG_MAX_BYTES", log_max_bytes, 1024, 1UL << 40);
    config.log_max_age =
        std::chrono::seconds(ParseNumber("INKWELL_LOG_MAX_AGE", log_max_age, 1, 365UL * 24 * 3600));
    config.log_keep = static_cast<unsigned>(ParseNumber("INKWELL_LOG_KEEP", log_keep, 0, 10000));
  }
  return config;
}

}  // namespace inkwell::core
