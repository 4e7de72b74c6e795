#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/log.h"

namespace inkwell::core {

enum class Service { kWeb, kMailer, kLogd };

// Settings of one service, from INKWELL_* environment variables, overridden by command-line
// flags (--help lists those the service reads). See README.md for each one's meaning.
struct Config {
  // INKWELL_HTTP_ADDR (web) / INKWELL_MAILER_HTTP_ADDR (mailer) / INKWELL_LOGD_HTTP_ADDR (logd)
  std::string http_addr;
  std::string amqp_url = "amqp://guest:guest@127.0.0.1:5682/";  // INKWELL_AMQP_URL
  std::string db_url = "sqlite:var/inkwell.db";                  // INKWELL_DB_URL
  std::string mailer_db_url = "sqlite:var/mailer.db";            // INKWELL_MAILER_DB_URL
  std::string mail_url = "maildir:var/mail";                     // INKWELL_MAIL_URL
  std::string mail_from = "inkwell <no-reply@inkwell.localhost>";  // INKWELL_MAIL_FROM
  std::string public_url;                                        // INKWELL_PUBLIC_URL
  std::string template_dir;                                      // INKWELL_TEMPLATE_DIR
  std::string static_dir;                                        // INKWELL_STATIC_DIR (web)
  // INKWELL_RATE_LIMIT_PER_MINUTE (web): register, login and resend-link requests per client
  // address and minute, each; 0 turns limiting off (load tests).
  unsigned rate_limit_per_minute = 10;
  std::size_t page_cache_bytes = 32 * 1024 * 1024;  // INKWELL_PAGE_CACHE_MB (web; 0 = no cache)
  unsigned db_threads = 4;  // INKWELL_DB_THREADS (web: threads for database work)
  LogLevel log_level = LogLevel::kInfo;                          // INKWELL_LOG_LEVEL
  std::chrono::seconds amqp_heartbeat{10};                       // INKWELL_AMQP_HEARTBEAT
  bool is_quorum = false;                                        // INKWELL_QUORUM=1
  unsigned io_threads = 1;       // INKWELL_IO_THREADS (web)
  unsigned hash_threads = 0;     // INKWELL_HASH_THREADS (web; 0 = one per core)
  // INKWELL_PASSWORD_HASH=min: libsodium's MIN argon2id limits, for load tests only. Refused
  // unless INKWELL_BENCHMARK=1 says this is a benchmark or a test.
  bool is_weak_password_hash = false;
  std::uint16_t prefetch = 128;  // INKWELL_PREFETCH (mailer; logd defaults to 500)
  unsigned mail_workers = 4;     // INKWELL_MAIL_WORKERS (mailer: parallel SMTP connections)
  std::chrono::seconds smtp_timeout{30};  // INKWELL_SMTP_TIMEOUT (mailer)
  std::string log_dir = "var/log";                     // INKWELL_LOG_DIR (logd)
  std::uint64_t log_max_bytes = 10 * 1024 * 1024;      // INKWELL_LOG_MAX_BYTES (logd)
  std::chrono::seconds log_max_age{24 * 60 * 60};      // INKWELL_LOG_MAX_AGE (logd)
  unsigned log_keep = 10;  // INKWELL_LOG_KEEP (logd: rotated files kept per service)
};

// The environment variable's value, or fallback when it is unset or empty.
std::string EnvOr(const char* name, const std::string& fallback);

// Reads the environment and argv. Prints help and exits 0 on --help; throws
// std::invalid_argument with a message naming the setting on a bad value.
Config LoadConfig(Service service, int argc, char** argv);

}  // namespace inkwell::core
