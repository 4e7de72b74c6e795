#include "web/web_app.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/traceparent.h"
#include "http/form.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

bool HasMediaType(const http::HttpRequest& request, std::string_view media_type) {
  std::string value = request.Header("content-type");
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value == media_type;
}

http::HttpResponse Json201(const Json& body) {
  return http::HttpResponse{201, "application/json", {}, body.dump() + "\n"};
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
    : deps_(std::move(dependencies)), register_page_(Page(200, "web/register.html", {{"title", "Register"}})) {}

void WebApp::CountRequest(const std::string& route, int status) {
  deps_.metrics
      .AddCounter("inkwell_http_requests_total", "HTTP requests answered, by route and status",
                  "route=\"" + route + "\",status=\"" + std::to_string(status) + "\"")
      .Increment();
}

void WebApp::Handle(http::HttpRequest request, http::Responder respond) {
  const std::string traceparent = core::ContinueTrace(request.Header("traceparent"));
  // Every answer carries the trace id and is counted; wrap the responder once here.
  auto shared_respond = std::make_shared<http::Responder>(std::move(respond));
  // Known routes only, so that scanners cannot grow the label set without bound.
  static const std::set<std::string> kRoutes = {"/", "/register", "/registered", "/healthz",
                                                "/readyz", "/metrics", "/api/v1/users"};
  const std::string route = kRoutes.contains(request.path) ? request.path : std::string("other");
  const std::string method = request.method;
  const auto started = std::chrono::system_clock::now();
  const auto started_steady = std::chrono::steady_clock::now();
  http::Responder answer = [this, shared_respond, traceparent, route, method, started,
                            started_steady](http::HttpResponse response) {
    core::Log::Span("http request", core::TraceIdOf(traceparent), started,
                    std::chrono::steady_clock::now() - started_steady,
                    {{"method", method}, {"route", route}, {"status", std::to_string(response.status)}});
    response.headers.emplace_back("traceparent", traceparent);
    const bool has_retry_after = std::any_of(response.headers.begin(), response.headers.end(),
                                             [](const auto& h) { return h.first == "Retry-After"; });
    if (response.status == 503 && !has_retry_after) response.headers.emplace_back("Retry-After", "5");
    CountRequest(route, response.status);
    deps_.metrics
        .AddHistogram("inkwell_http_request_duration_seconds",
                      "Time from request read to response ready, by route",
                      "route=\"" + route + "\"", core::LatencyBuckets())
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady)
                     .count());
    (*shared_respond)(std::move(response));
  };
  const core::TraceScope trace(core::TraceIdOf(traceparent));
  try {
    Route(request, traceparent, answer);
  } catch (const std::exception& exception) {
    core::LogError("request failed", {{"path", request.path}, {"error", exception.what()},
                                      {"traceparent", traceparent}});
    answer(JsonError(500, "internal", "internal error"));
  }
}

void WebApp::Route(const http::HttpRequest& request, const std::string& traceparent,
                   http::Responder& respond) {
  const std::string& path = request.path;
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  const bool is_post = request.method == "POST";
  const bool is_api = path.starts_with("/api/");
  auto not_allowed = [&](const char* allow) {
    http::HttpResponse response =
        is_api ? JsonError(405, "method_not_allowed", "use " + std::string(allow) + " on " + path)
               : Page(405, "web/error.html", {{"title", "Method not allowed"},
                                         {"message", "This address does not accept that request."}});
    response.headers.emplace_back("Allow", allow);
    respond(std::move(response));
  };

  if (path == "/healthz") {
    if (!is_get) return not_allowed("GET");
    return respond(http::HttpResponse{200, "text/plain; charset=utf-8", {}, "ok\n"});
  }
  if (path == "/readyz") {
    if (!is_get) return not_allowed("GET");
    return respond(Readiness());
  }
  if (path == "/metrics") {
    if (!is_get) return not_allowed("GET");
    return respond(http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", {},
                                      deps_.metrics.Render()});
  }
  if (path == "/" || path == "/register") {
    if (is_get) return respond(register_page_);
    if (is_post && path == "/register") return RegisterFromForm(request, traceparent, respond);
    return not_allowed(path == "/" ? "GET" : "GET, POST");
  }
  if (path == "/registered") {
    if (!is_get) return not_allowed("GET");
    auto query = http::ParseForm(request.query);
    const std::string email = query && query->contains("email") ? query->at("email") : "";
    return respond(Page(200, "web/registered.html", {{"title", "Welcome"}, {"email", email}}));
  }
  if (path == "/api/v1/users") {
    if (!is_post) return not_allowed("POST");
    return RegisterFromJson(request, traceparent, respond);
  }
  if (is_api) return respond(JsonError(404, "not_found", "no such API route: " + path));
  respond(Page(404, "web/error.html", {{"title", "Not found"},
                                  {"message", "There is no page at this address."}}));
}

http::HttpResponse WebApp::Readiness() {
  std::string problems;
  if (auto ping = deps_.store.Ping(); !ping) problems += "database: " + ping.error().message + "\n";
  if (!deps_.is_broker_connected()) problems += "broker: not connected\n";
  if (problems.empty()) return http::HttpResponse{200, "text/plain; charset=utf-8", {}, "ready\n"};
  return http::HttpResponse{503, "text/plain; charset=utf-8", {}, problems};
}

http::HttpResponse WebApp::Page(int status, const std::string& name,
                                const templating::TemplateValues& values) {
  auto html = deps_.templates.Render(name, values);
  if (!html) {
    core::LogError("page template failed", {{"template", name}, {"error", html.error().message}});
    return http::HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
  }
  return http::HttpResponse{status, "text/html; charset=utf-8", {}, std::move(*html)};
}

http::HttpResponse WebApp::FormError(int status, const RegistrationInput& input,
                                     const std::string& message) {
  // The typed values come back into the form (escaped by the template), never the password.
  return Page(status, "web/register.html",
              {{"title", "Register"}, {"error", message}, {"name", input.name}, {"email", input.email}});
}

tl::expected<std::int64_t, RegistrationError> WebApp::RegisterOrInternalError(
    const RegistrationInput& input, const std::string& traceparent) {
  // The last catch for a registration: a bug costs this request (500), and it still gets an
  // answer, never a hung connection.
  try {
    return deps_.registration.Register(input, traceparent);
  } catch (const std::exception& exception) {
    core::LogError("registration failed", {{"error", exception.what()}});
    return tl::unexpected(
        RegistrationError{core::Error{ErrorCode::kInternal, "internal error"}, ""});
  }
}

void WebApp::RegisterFromForm(const http::HttpRequest& request, const std::string& traceparent,
                              http::Responder& respond) {
  RegistrationInput input;
  if (request.is_body_too_large) {
    return respond(FormError(413, input, "The form was too large (at most 64 KiB)."));
  }
  if (!HasMediaType(request, "application/x-www-form-urlencoded")) {
    return respond(FormError(415, input,
                             "The form must be sent as application/x-www-form-urlencoded."));
  }
  auto fields = http::ParseForm(request.body);
  if (!fields) return respond(FormError(400, input, "The form data is malformed."));
  for (const auto& [name, target] : {std::pair{"user_name", &input.name},
                                     std::pair{"user_email", &input.email},
                                     std::pair{"user_password", &input.password}}) {
    if (auto found = fields->find(name); found != fields->end()) *target = found->second;
  }
  if (auto valid = ValidateRegistration(input); !valid) {
    return respond(FormError(400, input, valid.error().error.message));
  }
  auto task = [this, input, traceparent, respond]() mutable {
    const core::TraceScope trace(core::TraceIdOf(traceparent));
    auto id = RegisterOrInternalError(input, traceparent);
    if (!id) return respond(FormError(StatusFor(id.error().error.code), input, id.error().error.message));
    http::HttpResponse redirect{303, "text/plain; charset=utf-8", {}, "registered\n"};
    redirect.headers.emplace_back("Location", "/registered?email=" + http::UrlEncode(input.email));
    respond(std::move(redirect));
  };
  if (!deps_.blocking_pool.Submit(std::move(task))) {
    http::HttpResponse busy = FormError(503, input, "We are very busy; please try again in a moment.");
    busy.headers.emplace_back("Retry-After", "1");
    respond(std::move(busy));
  }
}

void WebApp::RegisterFromJson(const http::HttpRequest& request, const std::string& traceparent,
                              http::Responder& respond) {
  if (request.is_body_too_large) {
    return respond(JsonError(413, "payload_too_large", "request body is over 64 KiB"));
  }
  if (!HasMediaType(request, "application/json")) {
    return respond(JsonError(415, "unsupported_media_type",
                             "send the body as application/json"));
  }
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return respond(JsonError(400, "invalid_argument",
                             "body must be a JSON object in UTF-8: {\"name\", \"email\", \"password\"}"));
  }
  RegistrationInput input;
  for (const auto& [name, target] : {std::pair{"name", &input.name}, std::pair{"email", &input.email},
                                     std::pair{"password", &input.password}}) {
    const auto found = body.find(name);
    if (found == body.end() || found->is_null()) continue;  // reported as missing below
    if (!found->is_string()) {
      return respond(JsonError(400, "invalid_argument",
                               std::string("field \"") + name + "\" must be a string"));
    }
    *target = found->get<std::string>();
  }
  if (auto valid = ValidateRegistration(input); !valid) {
    return respond(JsonError(400, "invalid_argument", valid.error().error.message));
  }
  auto task = [this, input, traceparent, respond]() mutable {
    const core::TraceScope trace(core::TraceIdOf(traceparent));
    auto id = RegisterOrInternalError(input, traceparent);
    if (!id) {
      const core::Error& error = id.error().error;
      return respond(JsonError(StatusFor(error.code), core::NameOf(error.code), error.message));
    }
    http::HttpResponse created = Json201({{"id", *id}, {"name", input.name}, {"email", input.email}});
    respond(std::move(created));
  };
  if (!deps_.blocking_pool.Submit(std::move(task))) {
    http::HttpResponse busy = JsonError(503, "unavailable", "too many registrations at once; retry");
    busy.headers.emplace_back("Retry-After", "1");
    respond(std::move(busy));
  }
}

}  // namespace inkwell::web
