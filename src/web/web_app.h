#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json_fwd.hpp>

#include "core/metrics.h"
#include "core/worker_pool.h"
#include "db/store.h"
#include "http/http_message.h"
#include "templating/template_set.h"
#include "web/page_cache.h"
#include "web/password_hasher.h"
#include "web/rate_limiter.h"
#include "web/registration.h"

namespace inkwell::web {

struct WebOptions {
  std::string public_url;             // links in mails; https:// makes cookies Secure
  unsigned rate_limit_per_minute = 10;  // register, login, resend, per client address; 0 = off
  std::string static_dir;             // style.css
};

// Who sent a request: the session's user, if any, and the CSRF token of the visitor's
// browser. Built on a worker thread (it reads the database).
struct Visitor {
  std::optional<db::User> user;
  std::string session_token;  // as sent (cookie or bearer), for logout
  std::string csrf_token;     // the inkwell_csrf cookie's value, or a new one
  bool is_new_csrf = false;   // the response must set the cookie
  std::string notice;         // a fixed sentence chosen by ?notice=<code>, shown once
};

// The web service's routes: the HTML site, the JSON API (/api/v1/...) and the operational
// endpoints. Handle() runs on an I/O thread and never blocks: password hashing goes to the
// hashing pool, database work to the database pool; only cache hits and static answers are
// served on the I/O thread.
class WebApp {
 public:
  struct Dependencies {
    db::Store& store;
    Registration& registration;
    const PasswordHasher& hasher;
    core::WorkerPool& blocking_pool;  // argon2id: registration and login
    core::WorkerPool& db_pool;        // everything else that reads or writes the database
    const templating::TemplateSet& templates;
    core::Metrics& metrics;
    PageCache& cache;
    std::function<bool()> is_broker_connected;
    std::function<void()> on_outbox_written;  // wakes the outbox relay
    WebOptions options;
  };
  explicit WebApp(Dependencies dependencies);

  void Handle(http::HttpRequest request, http::Responder respond);

 private:
  // The answer, or nullopt when the task handed the request on to another Offload (which
  // answers).
  using Task = std::function<std::optional<http::HttpResponse>()>;
  // Runs task on pool and answers with its result; 503 with Retry-After if the pool is full.
  void Offload(core::WorkerPool& pool, const http::HttpRequest& request, http::Responder& respond,
               Task task);

  void Route(const http::HttpRequest& request, const std::string& route,
             const std::string& traceparent, http::Responder& respond);
  void RouteApi(const http::HttpRequest& request, const std::string& traceparent,
                http::Responder& respond);
  void RouteSite(const http::HttpRequest& request, const std::string& traceparent,
                 http::Responder& respond);

  // ---- shared helpers (web_app.cc) ----
  Visitor Identify(const http::HttpRequest& request, bool is_api);
  http::HttpResponse Html(int status, const std::string& name, nlohmann::json view,
                          const Visitor& visitor);
  http::HttpResponse ErrorPage(int status, const std::string& title, const std::string& message,
                               const Visitor& visitor);
  http::HttpResponse Redirect(const std::string& location);
  // The visitor for a form POST, or the 403 page when its CSRF token is missing or wrong.
  std::optional<http::HttpResponse> CheckCsrf(const http::HttpRequest& request,
                                              const std::map<std::string, std::string>& form,
                                              const Visitor& visitor);
  // Zero when allowed; otherwise the 429 to send.
  std::optional<http::HttpResponse> Throttle(const std::string& action,
                                             const http::HttpRequest& request, bool is_api);
  http::HttpResponse Readiness();
  http::HttpResponse StaticFile(const std::string& path);
  // A route label's request counters (by status) and duration histogram, found in the
  // registry once: answering a request then takes no lock and builds no label string.
  struct RouteMetrics {
    core::Histogram* duration = nullptr;
    std::array<std::atomic<core::Counter*>, 600> by_status{};  // index: the HTTP status
  };
  RouteMetrics& MetricsFor(const std::string& route);
  void CountRequest(RouteMetrics& metrics, const std::string& route, int status);
  void Written() const;

  // ---- accounts (web_accounts.cc) ----
  void RegisterFromForm(const http::HttpRequest& request, const std::string& traceparent,
                        http::Responder& respond);
  void RegisterFromJson(const http::HttpRequest& request, const std::string& traceparent,
                        http::Responder& respond);
  // Registration in two steps: `prepared` (argon2id) has run on the hashing pool, whose
  // threads are niced; the transaction runs on the database pool, whose threads are not, so a
  // commit (and the group commit it may lead for others) never waits for a core while it holds
  // the database. `answer` makes the response from the outcome. Returns nullopt (handed on).
  using RegistrationAnswer =
      std::function<http::HttpResponse(const tl::expected<std::int64_t, RegistrationError>&)>;
  std::optional<http::HttpResponse> CommitRegistration(const http::HttpRequest& request,
                                                       http::Responder respond,
                                                       PreparedRegistration prepared,
                                                       std::string traceparent,
                                                       RegistrationAnswer answer);
  http::HttpResponse RegisterForm(int status, const RegistrationInput& input,
                                  const std::string& error, const Visitor& visitor);
  void LoginFromForm(const http::HttpRequest& request, http::Responder& respond);
  void LoginFromJson(const http::HttpRequest& request, http::Responder& respond);
  struct LoginOutcome {
    std::optional<db::User> user;  // set on success
    std::string token;
    std::int64_t expires_at_ms = 0;
    int status = 200;  // 401 wrong credentials, 403 not confirmed, 503 database
    std::string message;
  };
  LoginOutcome Login(const std::string& email, const std::string& password);
  http::HttpResponse Confirm(const http::HttpRequest& request, const std::string& traceparent);
  // Sends a new confirmation link if an unconfirmed account has this address.
  core::Result<void> ResendConfirmation(const std::string& email, const std::string& traceparent);

  // ---- content (web_content.cc) ----
  void ServeCached(const http::HttpRequest& request, const std::string& key,
                   http::Responder& respond, std::function<http::HttpResponse(const Visitor&)> render);
  http::HttpResponse HomePage(const Visitor& visitor, std::int64_t page_number);
  http::HttpResponse PagesPage(const Visitor& visitor, std::int64_t page_number);
  http::HttpResponse PageView(const Visitor& visitor, const std::string& slug);
  http::HttpResponse PostView(const Visitor& visitor, std::int64_t id,
                              const std::string& comment_error = "",
                              const std::string& comment_body = "", int status = 200);
  http::HttpResponse ApiPages(const http::HttpRequest& request, const Visitor& visitor,
                              const std::string& slug, const std::string& traceparent);
  http::HttpResponse ApiPosts(const http::HttpRequest& request, const Visitor& visitor,
                              std::int64_t id, bool is_comments, const std::string& traceparent);

  Dependencies deps_;
  RateLimiter rate_limiter_;
  bool is_secure_cookies_;
  std::string style_css_;
  const std::string& DummyPasswordHash();
  std::once_flag dummy_once_;
  std::string dummy_password_hash_;  // verified for unknown users, so both take as long
  // Never reused within a process: a thread's cache of RouteMetrics pointers (MetricsFor) knows
  // by it whether the pointers are this instance's.
  const std::uint64_t instance_id_;
  std::mutex route_metrics_mutex_;
  std::unordered_map<std::string, std::unique_ptr<RouteMetrics>> route_metrics_;
};

// {"error": {"code": ..., "message": ...}} with the given status.
http::HttpResponse JsonError(int status, std::string_view code, const std::string& message);
// The HTTP status for an error code, mapped once here.
int StatusFor(core::ErrorCode code);

}  // namespace inkwell::web
