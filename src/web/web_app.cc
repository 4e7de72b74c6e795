#include "web/web_app.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/log.h"
#include "core/traceparent.h"
#include "http/form.h"
#include "web/auth.h"
#include "web/request_util.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

std::uint64_t NextInstanceId() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Route labels for metrics: patterns, never raw paths, so scanners cannot grow the label set.
std::string RouteLabel(const std::string& path) {
  static const char* const kExact[] = {
      "/", "/register", "/registered", "/login", "/logout", "/confirm", "/confirm/resend",
      "/pages", "/pages/new", "/posts", "/posts/new", "/healthz", "/readyz", "/metrics",
      "/static/style.css", "/api/v1/users", "/api/v1/sessions", "/api/v1/sessions/current",
      "/api/v1/confirmations", "/api/v1/pages", "/api/v1/posts"};
  for (const char* exact : kExact) {
    if (path == exact) return path;
  }
  const auto with = [&](std::string_view prefix, std::string_view pattern) -> std::string {
    if (!path.starts_with(prefix) || path.size() == prefix.size()) return {};
    std::string_view rest = std::string_view(path).substr(prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::string(pattern);
    const std::string_view tail = rest.substr(slash);
    for (std::string_view known : {"/edit", "/delete", "/comments"}) {
      if (tail == known) return std::string(pattern) + std::string(known);
    }
    return {};
  };
  for (const auto& [prefix, pattern] :
       {std::pair{"/api/v1/pages/", "/api/v1/pages/{slug}"}, std::pair{"/api/v1/posts/", "/api/v1/posts/{id}"},
        std::pair{"/page/", "/page/{slug}"}, std::pair{"/posts/", "/posts/{id}"}}) {
    if (std::string label = with(prefix, pattern); !label.empty()) return label;
  }
  return "other";
}

// ?notice=<code> after a redirect: only our own sentences, never text from the address.
std::string NoticeText(const std::string& query) {
  auto fields = http::ParseForm(query);
  if (!fields) return {};
  const auto found = fields->find("notice");
  if (found == fields->end()) return {};
  const std::string& code = found->second;
  if (code == "logged_out") return "You are logged out. See you soon!";
  if (code == "deleted") return "Deleted.";
  if (code == "resent") {
    return "If an account with that address is waiting for confirmation, we sent it a new link.";
  }
  return {};
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return file ? text.str() : std::string();
}

}  // namespace

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: break;
  }
  return 500;
}

http::HttpResponse JsonError(int status, std::string_view code, const std::string& message) {
  const Json body = {{"error", {{"code", code}, {"message", message}}}};
  return http::HttpResponse{status, "application/json", {},
                            body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"};
}

WebApp::WebApp(Dependencies dependencies)
    : deps_(std::move(dependencies)),
      rate_limiter_(deps_.options.rate_limit_per_minute),
      is_secure_cookies_(deps_.options.public_url.starts_with("https://")),
      style_css_(ReadFile(deps_.options.static_dir + "/style.css")),
      instance_id_(NextInstanceId()) {
  if (style_css_.empty()) {
    core::LogWarn("no style sheet: pages will be unstyled (set INKWELL_STATIC_DIR)",
                  {{"path", deps_.options.static_dir + "/style.css"}});
  }
}

const std::string& WebApp::DummyPasswordHash() {
  // A hash to verify when the e-mail address is unknown, so that an unknown address and a
  // wrong password take the same time and get the same answer. Made at the first login (on
  // the hashing pool), so that starting the service does not cost argon2id's 64 MiB.
  std::call_once(dummy_once_, [this] {
    if (auto dummy = deps_.hasher.Hash(NewSecretToken())) dummy_password_hash_ = std::move(*dummy);
  });
  return dummy_password_hash_;
}

WebApp::RouteMetrics& WebApp::MetricsFor(const std::string& route) {
  // Each thread keeps the routes it has seen, so that the common case takes no lock; a thread
  // that served another WebApp before (tests run several) starts its cache over.
  thread_local std::uint64_t cached_for = 0;
  thread_local std::unordered_map<std::string, RouteMetrics*> cached;
  if (cached_for != instance_id_) {
    cached.clear();
    cached_for = instance_id_;
  }
  if (const auto found = cached.find(route); found != cached.end()) return *found->second;
  std::lock_guard lock(route_metrics_mutex_);
  std::unique_ptr<RouteMetrics>& metrics = route_metrics_[route];
  if (!metrics) {
    metrics = std::make_unique<RouteMetrics>();
    metrics->duration = &deps_.metrics.AddHistogram("inkwell_http_request_duration_seconds",
                                                    "Time from request read to response ready, by route",
                                                    "route=\"" + route + "\"", core::LatencyBuckets());
  }
  cached.emplace(route, metrics.get());
  return *metrics;
}

void WebApp::CountRequest(RouteMetrics& metrics, const std::string& route, int status) {
  const auto find = [&] {
    return &deps_.metrics.AddCounter("inkwell_http_requests_total",
                                     "HTTP requests answered, by route and status",
                                     "route=\"" + route + "\",status=\"" + std::to_string(status) + "\"");
  };
  if (status < 0 || static_cast<std::size_t>(status) >= metrics.by_status.size()) {
    return find()->Increment();  // not an HTTP status we send; counted all the same
  }
  std::atomic<core::Counter*>& slot = metrics.by_status[static_cast<std::size_t>(status)];
  core::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = find();  // two threads may both look: the registry gives both the same counter
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
}

void WebApp::Written() const {
  if (deps_.on_outbox_written) deps_.on_outbox_written();
}

void WebApp::Handle(http::HttpRequest request, http::Responder respond) {
  // What the answer needs of its request, in one allocation that the responder's copies share
  // (an offloaded request's responder is copied into its job).
  struct Exchange {
    http::Responder respond;
    std::string traceparent;
    std::string route;
    std::string method;
    RouteMetrics* metrics = nullptr;
    std::chrono::system_clock::time_point started;
    std::chrono::steady_clock::time_point started_steady;
    bool is_recorded = false;
  };
  const auto exchange = std::make_shared<Exchange>();
  exchange->respond = std::move(respond);
  const auto incoming = request.headers.find("traceparent");
  exchange->traceparent =
      core::ContinueTrace(incoming == request.headers.end() ? std::string_view() : incoming->second);
  exchange->route = RouteLabel(request.path);
  exchange->metrics = &MetricsFor(exchange->route);
  exchange->method = request.method;
  exchange->started = std::chrono::system_clock::now();
  exchange->started_steady = std::chrono::steady_clock::now();
  // Every answer carries the trace id and is counted and timed: wrap the responder once here.
  // A span (one log record on the broker) for every request that changes something or that the
  // client asked to trace; plain reads are not recorded, or every page view would cost a
  // message and reading pages could not run near the machine's speed.
  exchange->is_recorded = (request.method != "GET" && request.method != "HEAD") || incoming != request.headers.end();
  http::Responder answer = [this, exchange](http::HttpResponse response) {
    const Exchange& asked = *exchange;
    if (asked.is_recorded) {
      core::Log::Span("http request", core::TraceIdOf(asked.traceparent), asked.started,
                      std::chrono::steady_clock::now() - asked.started_steady,
                      {{"method", asked.method}, {"route", asked.route}, {"status", std::to_string(response.status)}});
    }
    response.headers.emplace_back("traceparent", asked.traceparent);
    const bool has_retry_after = std::any_of(response.headers.begin(), response.headers.end(),
                                             [](const auto& h) { return h.first == "Retry-After"; });
    if (response.status == 503 && !has_retry_after) response.headers.emplace_back("Retry-After", "5");
    CountRequest(*asked.metrics, asked.route, response.status);
    asked.metrics->duration->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - asked.started_steady).count());
    asked.respond(std::move(response));
  };
  const std::string& traceparent = exchange->traceparent;
  const std::string& route = exchange->route;
  const core::TraceScope trace(core::TraceIdOf(traceparent));
  try {
    Route(request, route, traceparent, answer);
  } catch (const std::exception& exception) {
    core::LogError("request failed", {{"path", request.path}, {"error", exception.what()},
                                      {"traceparent", traceparent}});
    answer(JsonError(500, "internal", "internal error"));
  }
}

void WebApp::Offload(core::WorkerPool& pool, const http::HttpRequest& request,
                     http::Responder& respond, Task task) {
  const bool is_api = request.path.starts_with("/api/");
  const std::string path = request.path;
  auto job = [this, respond, task = std::move(task), is_api, path]() mutable {
    http::HttpResponse response;
    try {
      std::optional<http::HttpResponse> answer = task();
      if (!answer) return;  // handed on: another job answers
      response = std::move(*answer);
    } catch (const StoreUnavailable& unavailable) {
      core::LogWarn("database unavailable", {{"path", path}, {"error", unavailable.what()}});
      response = is_api ? JsonError(503, "unavailable", "the database is unavailable; retry in a moment")
                        : ErrorPage(503, "Please try again",
                                    "We cannot reach our database just now. Please try again in a moment.",
                                    Visitor{});
    } catch (const std::exception& exception) {
      // The last catch for a request: a bug costs this request (500), never the service,
      // and the client still gets an answer.
      core::LogError("request failed", {{"path", path}, {"error", exception.what()}});
      response = is_api ? JsonError(500, "internal", "internal error")
                        : ErrorPage(500, "Something went wrong",
                                    "We could not answer this request. Please try again.", Visitor{});
    }
    respond(std::move(response));
  };
  if (!pool.Submit(std::move(job))) {
    http::HttpResponse busy =
        is_api ? JsonError(503, "unavailable", "the service is busy; retry in a moment")
               : ErrorPage(503, "Very busy", "We are very busy; please try again in a moment.",
                           Visitor{});
    busy.headers.emplace_back("Retry-After", "1");
    respond(std::move(busy));
  }
}

void WebApp::Route(const http::HttpRequest& request, const std::string& route,
                   const std::string& traceparent, http::Responder& respond) {
  const std::string& path = request.path;
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  auto not_allowed = [&](const char* allow) {
    http::HttpResponse response = JsonError(405, "method_not_allowed",
                                            "use " + std::string(allow) + " on " + path);
    response.headers.emplace_back("Allow", allow);
    respond(std::move(response));
  };
  if (route == "/healthz") {
    if (!is_get) return not_allowed("GET");
    return respond(http::HttpResponse{200, "text/plain; charset=utf-8", {}, "ok\n"});
  }
  if (route == "/readyz") {
    if (!is_get) return not_allowed("GET");
    return Offload(deps_.db_pool, request, respond, [this] { return Readiness(); });
  }
  if (route == "/metrics") {
    if (!is_get) return not_allowed("GET");
    return respond(http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", {},
                                      deps_.metrics.Render()});
  }
  if (route == "/static/style.css") {
    if (!is_get) return not_allowed("GET");
    http::HttpResponse css{200, "text/css; charset=utf-8", {}, style_css_};
    css.headers.emplace_back("Cache-Control", "public, max-age=300");
    return respond(std::move(css));
  }
  if (path.starts_with("/api/")) return RouteApi(request, traceparent, respond);
  RouteSite(request, traceparent, respond);
}

Visitor WebApp::Identify(const http::HttpRequest& request, bool is_api) {
  Visitor visitor;
  std::string token;
  if (is_api) {
    token = BearerToken(request);  // the API never reads cookies, so it needs no CSRF token
  } else {
    const auto cookies = ParseCookies(request.Header("cookie"));
    if (auto found = cookies.find(std::string(kSessionCookie)); found != cookies.end()) token = found->second;
    if (auto found = cookies.find(std::string(kCsrfCookie)); found != cookies.end() &&
                                                              LooksLikeToken(found->second)) {
      visitor.csrf_token = found->second;
    }
    if (visitor.csrf_token.empty()) {
      visitor.csrf_token = NewSecretToken();
      visitor.is_new_csrf = true;
    }
    visitor.notice = NoticeText(request.query);
  }
  if (LooksLikeToken(token)) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto user = deps_.store.FindSession(HashToken(token), now);
    if (!user) ThrowStoreError(user.error(), "session lookup");
    if (*user) {
      visitor.user = std::move(**user);
      visitor.session_token = token;
    }
  }
  return visitor;
}

http::HttpResponse WebApp::Html(int status, const std::string& name, Json view,
                                const Visitor& visitor) {
  if (visitor.user) view["user"] = {{"id", visitor.user->id}, {"name", visitor.user->name}};
  view["csrf_token"] = visitor.csrf_token;
  if (!visitor.notice.empty()) view["notice"] = visitor.notice;
  auto html = deps_.templates.RenderView(name, view);
  if (!html) {
    core::LogError("page template failed", {{"template", name}, {"error", html.error().message}});
    return http::HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
  }
  http::HttpResponse response{status, "text/html; charset=utf-8", {}, std::move(*html)};
  if (visitor.is_new_csrf) {
    response.headers.emplace_back(
        "Set-Cookie", CookieHeader(kCsrfCookie, visitor.csrf_token, kSessionLifetime, is_secure_cookies_));
  }
  // A page with the visitor's name or CSRF token is theirs alone: no shared cache may keep it.
  if (visitor.user || !visitor.csrf_token.empty()) {
    response.headers.emplace_back("Cache-Control", "private, no-store");
  }
  return response;
}

http::HttpResponse WebApp::ErrorPage(int status, const std::string& title,
                                     const std::string& message, const Visitor& visitor) {
  return Html(status, "web/error.html", {{"title", title}, {"message", message}}, visitor);
}

http::HttpResponse WebApp::Redirect(const std::string& location) {
  http::HttpResponse redirect{303, "text/plain; charset=utf-8", {}, "see " + location + "\n"};
  redirect.headers.emplace_back("Location", location);
  return redirect;
}

std::optional<http::HttpResponse> WebApp::CheckCsrf(const http::HttpRequest& request,
                                                    const std::map<std::string, std::string>& form,
                                                    const Visitor& visitor) {
  (void)request;
  const auto sent = form.find(std::string(kCsrfField));
  // Double submit: the form's hidden field must equal the visitor's own HttpOnly, SameSite
  // cookie, which another site can neither read nor set.
  if (!visitor.is_new_csrf && sent != form.end() && SecretEquals(sent->second, visitor.csrf_token)) {
    return std::nullopt;
  }
  return ErrorPage(403, "Form expired",
                   "This form was not sent from this site's own page, or it expired. Go back, "
                   "reload the page and send it again.",
                   visitor);
}

std::optional<http::HttpResponse> WebApp::Throttle(const std::string& action,
                                                   const http::HttpRequest& request, bool is_api) {
  const auto wait = rate_limiter_.Acquire(action + " " + request.client_address);
  if (wait.count() == 0) return std::nullopt;
  deps_.metrics
      .AddCounter("inkwell_http_rate_limited_total", "Requests refused by the rate limit, by action",
                  "action=\"" + action + "\"")
      .Increment();
  const std::string message = "too many " + action + " attempts from your address; try again in " +
                              std::to_string(wait.count()) + " s";
  http::HttpResponse response =
      is_api ? JsonError(429, "rate_limited", message)
             : ErrorPage(429, "Slow down", "Too many attempts from your address. Please try again in " +
                                               std::to_string(wait.count()) + " seconds.",
                         Visitor{});
  response.headers.emplace_back("Retry-After", std::to_string(wait.count()));
  return response;
}

http::HttpResponse WebApp::Readiness() {
  std::string problems;
  if (auto ping = deps_.store.Ping(); !ping) problems += "database: " + ping.error().message + "\n";
  if (!deps_.is_broker_connected()) problems += "broker: not connected\n";
  if (problems.empty()) return http::HttpResponse{200, "text/plain; charset=utf-8", {}, "ready\n"};
  return http::HttpResponse{503, "text/plain; charset=utf-8", {}, problems};
}

}  // namespace inkwell::web
