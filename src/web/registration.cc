#include "web/registration.h"

#include <chrono>
#include <ctime>

#include "amqp/topology.h"
#include "contracts/email_address.h"
#include "contracts/email_request.h"
#include "contracts/user_registered.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/traceparent.h"
#include "core/utf8.h"
#include "web/auth.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;

constexpr size_t kMaxNameCharacters = 100;
constexpr size_t kMinPasswordCharacters = 8;
constexpr size_t kMaxPasswordBytes = 1024;

tl::unexpected<RegistrationError> Invalid(std::string field, std::string message) {
  return tl::unexpected(
      RegistrationError{core::Error{ErrorCode::kInvalidArgument, std::move(message)}, std::move(field)});
}

bool HasControlCharacter(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

tl::expected<void, RegistrationError> ValidateRegistration(const RegistrationInput& input) {
  if (input.name.find_first_not_of(" \t") == std::string::npos) {
    return Invalid("name", "name is required");
  }
  if (!core::IsValidUtf8(input.name)) return Invalid("name", "name is not valid UTF-8");
  if (core::Utf8Length(input.name) > kMaxNameCharacters) {
    return Invalid("name", "name is too long (at most 100 characters)");
  }
  if (HasControlCharacter(input.name)) {
    return Invalid("name", "name must not contain control characters (such as line breaks)");
  }
  if (auto address = contracts::EmailAddress::Parse(input.email); !address) {
    return Invalid("email", address.error().message);
  }
  if (input.password.empty()) return Invalid("password", "password is required");
  if (!core::IsValidUtf8(input.password)) return Invalid("password", "password is not valid UTF-8");
  if (core::Utf8Length(input.password) < kMinPasswordCharacters) {
    return Invalid("password", "password is too short (at least 8 characters)");
  }
  if (input.password.size() > kMaxPasswordBytes) {
    return Invalid("password", "password is too long (at most 1024 bytes)");
  }
  return {};
}

std::string ConfirmUrl(const std::string& public_url, const std::string& token) {
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/confirm?token=" + token;
}

db::OutboxMessage WelcomeEmailCommand(const RegistrationInput& input, const std::string& traceparent,
                                      const std::string& confirm_url) {
  contracts::EmailRequest request;
  request.to = input.email;
  request.template_name = "welcome";
  request.data = {{"email", input.email}, {"name", input.name}};
  if (!confirm_url.empty()) request.data["confirm_url"] = confirm_url;
  return db::OutboxMessage{core::NewUuid(),
                           amqp::kEmailExchange,
                           amqp::kEmailSendKey,
                           std::string(contracts::kEmailRequestType),
                           contracts::EncodeEmailRequest(request),
                           traceparent};
}

db::OutboxMessage ConfirmEmailCommand(const db::User& user, const std::string& traceparent,
                                      const std::string& confirm_url) {
  contracts::EmailRequest request;
  request.to = user.email;
  request.template_name = "confirm";
  request.data = {{"email", user.email}, {"name", user.name}, {"confirm_url", confirm_url}};
  return db::OutboxMessage{core::NewUuid(),
                           amqp::kEmailExchange,
                           amqp::kEmailSendKey,
                           std::string(contracts::kEmailRequestType),
                           contracts::EncodeEmailRequest(request),
                           traceparent};
}

db::OutboxMessage UserRegisteredEvent(std::int64_t user_id, const RegistrationInput& input,
                                      const std::string& traceparent) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char registered_at[32];
  const size_t length = std::strftime(registered_at, sizeof registered_at, "%Y-%m-%dT%H:%M:%SZ", &utc);
  const contracts::UserRegistered event{user_id, input.name, input.email,
                                        std::string(registered_at, length)};
  return db::OutboxMessage{core::NewUuid(),
                           amqp::kEventsExchange,
                           std::string(contracts::kUserRegisteredType),
                           std::string(contracts::kUserRegisteredType),
                           contracts::EncodeUserRegistered(event),
                           traceparent};
}

tl::expected<std::int64_t, RegistrationError> Registration::Register(
    const RegistrationInput& input, const std::string& traceparent) {
  auto prepared = Prepare(input);
  if (!prepared) return tl::unexpected(prepared.error());
  return Commit(*prepared, traceparent);
}

tl::expected<PreparedRegistration, RegistrationError> Registration::Prepare(
    const RegistrationInput& input) const {
  if (auto valid = ValidateRegistration(input); !valid) return tl::unexpected(valid.error());
  auto hash = hasher_.Hash(input.password);
  if (!hash) return tl::unexpected(RegistrationError{hash.error(), ""});
  // The link in the welcome mail confirms the address; only its hash is stored.
  const std::string token = NewSecretToken();
  const auto expires = std::chrono::system_clock::now() + kConfirmationLifetime;
  PreparedRegistration prepared{RegistrationInput{input.name, input.email, ""},
                                db::NewUser{input.name, input.email, std::move(*hash), HashToken(token),
                                            std::chrono::duration_cast<std::chrono::milliseconds>(
                                                expires.time_since_epoch()).count()},
                                ConfirmUrl(public_url_, token)};
  return prepared;
}

tl::expected<std::int64_t, RegistrationError> Registration::Commit(
    const PreparedRegistration& prepared, const std::string& traceparent) {
  const RegistrationInput& input = prepared.input;
  const std::string& confirm_url = prepared.confirm_url;
  const db::NewUser& user = prepared.user;
  const auto started = std::chrono::system_clock::now();
  const auto started_steady = std::chrono::steady_clock::now();
  auto id = store_.CreateUser(user, [&](std::int64_t user_id) {
    return std::vector<db::OutboxMessage>{WelcomeEmailCommand(input, traceparent, confirm_url),
                                          UserRegisteredEvent(user_id, input, traceparent)};
  });
  core::Log::Span("outbox insert", core::TraceIdOf(traceparent), started,
                  std::chrono::steady_clock::now() - started_steady,
                  {{"outcome", id ? "committed" : std::string(core::NameOf(id.error().code))}});
  if (!id) {
    std::string field = id.error().code == ErrorCode::kConflict ? "email" : "";
    return tl::unexpected(RegistrationError{id.error(), std::move(field)});
  }
  if (on_committed_) on_committed_();
  return *id;
}

}  // namespace inkwell::web
