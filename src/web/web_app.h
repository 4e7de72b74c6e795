#pragma once

#include <functional>
#include <string>

#include "core/metrics.h"
#include "core/worker_pool.h"
#include "db/store.h"
#include "http/http_message.h"
#include "templating/template_set.h"
#include "web/registration.h"

namespace inkwell::web {

// The web service's routes: HTML pages, the JSON API and the operational endpoints. Handle()
// runs on an I/O thread and never blocks: registration goes to the hashing pool.
class WebApp {
 public:
  struct Dependencies {
    db::Store& store;
    Registration& registration;
    core::WorkerPool& blocking_pool;
    const templating::TemplateSet& templates;
    core::Metrics& metrics;
    std::function<bool()> is_broker_connected;
  };
  explicit WebApp(Dependencies dependencies);

  void Handle(http::HttpRequest request, http::Responder respond);

 private:
  void Route(const http::HttpRequest& request, const std::string& traceparent,
             http::Responder& respond);
  void RegisterFromForm(const http::HttpRequest& request, const std::string& traceparent,
                        http::Responder& respond);
  void RegisterFromJson(const http::HttpRequest& request, const std::string& traceparent,
                        http::Responder& respond);
  tl::expected<std::int64_t, RegistrationError> RegisterOrInternalError(
      const RegistrationInput& input, const std::string& traceparent);
  http::HttpResponse Readiness();
  http::HttpResponse Page(int status, const std::string& name, const templating::TemplateValues& values);
  http::HttpResponse FormError(int status, const RegistrationInput& input, const std::string& message);
  void CountRequest(const std::string& route, int status);

  Dependencies deps_;
  // The empty registration form never changes: rendered once, served from memory.
  http::HttpResponse register_page_;
};

// {"error": {"code": ..., "message": ...}} with the given status.
http::HttpResponse JsonError(int status, std::string_view code, const std::string& message);
// The HTTP status for an error code, mapped once here.
int StatusFor(core::ErrorCode code);

}  // namespace inkwell::web
