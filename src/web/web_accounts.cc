// Accounts: registration, e-mail confirmation, login and logout (HTML forms and JSON API).
#include <chrono>
#include <nlohmann/json.hpp>

#include "contracts/email_address.h"
#include "core/log.h"
#include "core/traceparent.h"
#include "http/form.h"
#include "web/auth.h"
#include "web/content.h"
#include "web/request_util.h"
#include "web/web_app.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------- registration

http::HttpResponse WebApp::RegisterForm(int status, const RegistrationInput& input,
                                        const std::string& error, const Visitor& visitor) {
  // The typed values come back into the form (escaped by the template), never the password.
  return Html(status, "web/register.html",
              {{"title", "Register"}, {"error", error}, {"name", input.name}, {"email", input.email}},
              visitor);
}

namespace {

// A registration step whose exception (a bug, out of memory) becomes kInternal, which the
// caller shows like any other failure.
template <typename Step>
auto OrInternalError(const Step& step) -> decltype(step()) {
  try {
    return step();
  } catch (const std::exception& exception) {
    core::LogError("registration failed", {{"error", exception.what()}});
    return tl::unexpected(RegistrationError{core::Error{ErrorCode::kInternal, "internal error"}, ""});
  }
}

}  // namespace

std::optional<http::HttpResponse> WebApp::CommitRegistration(const http::HttpRequest& request,
                                                             http::Responder respond,
                                                             PreparedRegistration prepared,
                                                             std::string traceparent,
                                                             RegistrationAnswer answer) {
  Offload(deps_.db_pool, request, respond,
          [this, prepared = std::move(prepared), traceparent = std::move(traceparent),
           answer = std::move(answer)]() -> std::optional<http::HttpResponse> {
            const core::TraceScope trace(core::TraceIdOf(traceparent));
            return answer(
                OrInternalError([&] { return deps_.registration.Commit(prepared, traceparent); }));
          });
  return std::nullopt;
}

void WebApp::RegisterFromForm(const http::HttpRequest& request, const std::string& traceparent,
                              http::Responder& respond) {
  Offload(deps_.blocking_pool, request, respond,
          [this, request, respond, traceparent]() -> std::optional<http::HttpResponse> {
    const core::TraceScope trace(core::TraceIdOf(traceparent));
    const Visitor visitor = Identify(request, false);
    RegistrationInput input;
    if (request.is_body_too_large) {
      return RegisterForm(413, input, "The form was too large (at most 64 KiB).", visitor);
    }
    if (!HasMediaType(request, "application/x-www-form-urlencoded")) {
      return RegisterForm(415, input, "The form must be sent as application/x-www-form-urlencoded.",
                          visitor);
    }
    auto fields = http::ParseForm(request.body);
    if (!fields) return RegisterForm(400, input, "The form data is malformed.", visitor);
    input = {FormField(*fields, "user_name"), FormField(*fields, "user_email"), FormField(*fields, "user_password")};
    if (auto forged = CheckCsrf(request, *fields, visitor)) return *forged;
    if (auto limited = Throttle("register", request, false)) return *limited;
    if (auto valid = ValidateRegistration(input); !valid) {
      return RegisterForm(400, input, valid.error().error.message, visitor);
    }
    auto prepared = OrInternalError([&] { return deps_.registration.Prepare(input); });
    // Travels to the database pool: the typed name and address, never the password.
    const auto answer = [this, input = RegistrationInput{input.name, input.email, ""},
                         visitor](const tl::expected<std::int64_t, RegistrationError>& id) {
      if (!id) return RegisterForm(StatusFor(id.error().error.code), input, id.error().error.message, visitor);
      return Redirect("/registered?email=" + http::UrlEncode(input.email));
    };
    if (!prepared) return answer(tl::unexpected(prepared.error()));
    return CommitRegistration(request, respond, std::move(*prepared), traceparent, answer);
  });
}

void WebApp::RegisterFromJson(const http::HttpRequest& request, const std::string& traceparent,
                              http::Responder& respond) {
  if (request.is_body_too_large) {
    return respond(JsonError(413, "payload_too_large", "request body is over 64 KiB"));
  }
  if (!HasMediaType(request, "application/json")) {
    return respond(JsonError(415, "unsupported_media_type", "send the body as application/json"));
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
  if (auto limited = Throttle("register", request, true)) return respond(std::move(*limited));
  if (auto valid = ValidateRegistration(input); !valid) {
    return respond(JsonError(400, "invalid_argument", valid.error().error.message));
  }
  Offload(deps_.blocking_pool, request, respond,
          [this, request, respond, input, traceparent]() -> std::optional<http::HttpResponse> {
    const core::TraceScope trace(core::TraceIdOf(traceparent));
    // Travels to the database pool: the name and address, never the password.
    const auto answer = [name = input.name, email = input.email](
                            const tl::expected<std::int64_t, RegistrationError>& id) {
      if (!id) {
        const core::Error& error = id.error().error;
        return JsonError(StatusFor(error.code), core::NameOf(error.code), error.message);
      }
      const Json created = {{"id", *id}, {"name", name}, {"email", email}};
      http::HttpResponse response{201, "application/json", {}, created.dump() + "\n"};
      response.headers.emplace_back("Cache-Control", "no-store");
      return response;
    };
    auto prepared = OrInternalError([&] { return deps_.registration.Prepare(input); });
    if (!prepared) return answer(tl::unexpected(prepared.error()));
    return CommitRegistration(request, respond, std::move(*prepared), traceparent, answer);
  });
}

// ---------------------------------------------------------------- confirmation

http::HttpResponse WebApp::Confirm(const http::HttpRequest& request, const std::string& traceparent) {
  const Visitor visitor = Identify(request, false);
  auto query = http::ParseForm(request.query);
  const std::string token = query ? FormField(*query, "token") : std::string();
  const auto page = [&](int status, bool ok, const std::string& message) {
    return Html(status, "web/confirm.html",
                {{"title", ok ? "Address confirmed" : "Link not valid"}, {"ok", ok}, {"message", message}},
                visitor);
  };
  if (!LooksLikeToken(token)) {
    return page(400, false, "This confirmation link is not valid. Copy the whole link from the "
                            "mail, or ask for a new one.");
  }
  auto user = deps_.store.ConfirmUser(HashToken(token), NowMs(), [&](const db::User& confirmed) {
    return std::vector<db::OutboxMessage>{UserConfirmedEvent(confirmed, traceparent)};
  });
  if (!user) {
    switch (user.error().code) {
      case ErrorCode::kNotFound:
        return page(400, false, "This confirmation link is not valid. Copy the whole link from "
                                "the mail, or ask for a new one.");
      case ErrorCode::kInvalidArgument:
        return page(400, false, "Sorry: " + user.error().message + ". Ask for a new one below.");
      case ErrorCode::kConflict:
      case ErrorCode::kUnavailable:
      case ErrorCode::kInternal:
        break;
    }
    return ErrorPage(StatusFor(user.error().code), "Please try again",
                     "We could not confirm your address just now. Please open the link again in "
                     "a minute.",
                     visitor);
  }
  Written();
  core::LogInfo("account confirmed", {{"user_id", std::to_string(user->id)}});
  return page(200, true, "Thank you, " + user->name + ": your address " + user->email +
                             " is confirmed. You can log in now.");
}

core::Result<void> WebApp::ResendConfirmation(const std::string& email, const std::string& traceparent) {
  auto user = deps_.store.FindUserByEmail(email);
  if (!user) return tl::unexpected(user.error());
  if (!*user || (*user)->is_confirmed) return {};  // the same answer either way: no enumeration
  const std::string token = NewSecretToken();
  const auto expires = std::chrono::system_clock::now() + kConfirmationLifetime;
  auto replaced = deps_.store.ReplaceConfirmationToken(
      (*user)->id, HashToken(token),
      std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count(),
      {ConfirmEmailCommand(**user, traceparent, ConfirmUrl(deps_.options.public_url, token))});
  if (!replaced) return replaced;
  Written();
  return {};
}

// ---------------------------------------------------------------- login

WebApp::LoginOutcome WebApp::Login(const std::string& email, const std::string& password) {
  LoginOutcome outcome;
  outcome.status = 401;
  outcome.message = "wrong e-mail address or password";
  auto user = deps_.store.FindUserByEmail(email);
  if (!user) {
    outcome.status = 503;
    outcome.message = "the database is unavailable; try again in a moment";
    return outcome;
  }
  // Verify even when the address is unknown, against a dummy hash: the same work, the same
  // answer, so neither timing nor wording tells whether an account exists.
  const std::string& hash = *user ? (*user)->password_hash : DummyPasswordHash();
  const bool is_match = deps_.hasher.Verify(password, hash) && user->has_value();
  if (!is_match) return outcome;
  if (!(*user)->is_confirmed) {
    outcome.status = 403;
    outcome.message = "this account's e-mail address is not confirmed yet: open the link we "
                      "mailed you, or ask for a new one";
    return outcome;
  }
  const std::string token = NewSecretToken();
  const auto expires = std::chrono::system_clock::now() + kSessionLifetime;
  outcome.expires_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count();
  if (auto created = deps_.store.CreateSession(HashToken(token), (*user)->id, outcome.expires_at_ms);
      !created) {
    outcome.status = 503;
    outcome.message = "the database is unavailable; try again in a moment";
    return outcome;
  }
  outcome.status = 201;
  outcome.token = token;
  outcome.user = std::move(**user);
  return outcome;
}

void WebApp::LoginFromForm(const http::HttpRequest& request, http::Responder& respond) {
  Offload(deps_.blocking_pool, request, respond, [this, request]() {
    const Visitor visitor = Identify(request, false);
    const auto form_page = [&](int status, const std::string& email, const std::string& error,
                               bool show_resend) {
      return Html(status, "web/login.html",
                  {{"title", "Log in"}, {"form", {{"email", email}}}, {"error", error},
                   {"show_resend", show_resend}},
                  visitor);
    };
    if (request.is_body_too_large) return form_page(413, "", "The form was too large.", false);
    if (!HasMediaType(request, "application/x-www-form-urlencoded")) {
      return form_page(415, "", "The form must be sent as application/x-www-form-urlencoded.", false);
    }
    auto fields = http::ParseForm(request.body);
    if (!fields) return form_page(400, "", "The form data is malformed.", false);
    if (auto forged = CheckCsrf(request, *fields, visitor)) return *forged;
    if (auto limited = Throttle("login", request, false)) return *limited;
    const std::string email = FormField(*fields, "email");
    const LoginOutcome outcome = Login(email, FormField(*fields, "password"));
    if (outcome.status == 401) return form_page(401, email, "Wrong e-mail address or password.", false);
    if (outcome.status == 403) {
      return form_page(403, email,
                       "Please confirm your e-mail address first: open the link we sent you. "
                       "No mail? We can send a new link.",
                       true);
    }
    if (outcome.status != 201) return form_page(outcome.status, email, "Please try again in a moment.", false);
    http::HttpResponse redirect = Redirect("/");
    redirect.headers.emplace_back(
        "Set-Cookie", CookieHeader(kSessionCookie, outcome.token, kSessionLifetime, is_secure_cookies_));
    core::LogInfo("logged in", {{"user_id", std::to_string(outcome.user->id)}});
    return redirect;
  });
}

void WebApp::LoginFromJson(const http::HttpRequest& request, http::Responder& respond) {
  if (request.is_body_too_large) {
    return respond(JsonError(413, "payload_too_large", "request body is over 64 KiB"));
  }
  if (!HasMediaType(request, "application/json")) {
    return respond(JsonError(415, "unsupported_media_type", "send the body as application/json"));
  }
  const Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("email") ||
      !body["email"].is_string() || !body.contains("password") || !body["password"].is_string()) {
    return respond(JsonError(400, "invalid_argument",
                             "body must be a JSON object {\"email\": string, \"password\": string}"));
  }
  if (auto limited = Throttle("login", request, true)) return respond(std::move(*limited));
  Offload(deps_.blocking_pool, request, respond,
          [this, email = body["email"].get<std::string>(), password = body["password"].get<std::string>()]() {
            const LoginOutcome outcome = Login(email, password);
            if (outcome.status == 401) return JsonError(401, "unauthorized", outcome.message);
            if (outcome.status == 403) return JsonError(403, "not_confirmed", outcome.message);
            if (outcome.status != 201) return JsonError(outcome.status, "unavailable", outcome.message);
            const Json created = {
                {"token", outcome.token},
                {"expires_at", Rfc3339(outcome.expires_at_ms)},
                {"user", {{"id", outcome.user->id}, {"name", outcome.user->name}, {"email", outcome.user->email}}}};
            http::HttpResponse response{201, "application/json", {}, created.dump() + "\n"};
            response.headers.emplace_back("Cache-Control", "no-store");
            return response;
          });
}

}  // namespace inkwell::web
