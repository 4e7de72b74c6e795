#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "db/store.h"
#include "web/password_hasher.h"

namespace inkwell::web {

// What a person typed into the registration form (or sent as JSON).
struct RegistrationInput {
  std::string name;
  std::string email;
  std::string password;
};

struct RegistrationError {
  core::Error error;
  std::string field;  // "name", "email", "password" or empty
};

// Checks a registration without touching anything: every field present, valid UTF-8, within
// its length, no control characters, a well-formed e-mail address, a password of 8-1024 bytes.
// The message is fit to show the user.
tl::expected<void, RegistrationError> ValidateRegistration(const RegistrationInput& input);

// The outbox message that asks the mailer for the welcome e-mail, which carries the link that
// confirms the address (confirm_url; empty: no link).
db::OutboxMessage WelcomeEmailCommand(const RegistrationInput& input, const std::string& traceparent,
                                      const std::string& confirm_url = "");
// The mail with a new confirmation link (template "confirm"), for "send me a new link".
db::OutboxMessage ConfirmEmailCommand(const db::User& user, const std::string& traceparent,
                                      const std::string& confirm_url);
// public_url + "/confirm?token=" + token.
std::string ConfirmUrl(const std::string& public_url, const std::string& token);
// The user.registered event for the `events` exchange.
db::OutboxMessage UserRegisteredEvent(std::int64_t user_id, const RegistrationInput& input,
                                      const std::string& traceparent);

// A registration whose password is hashed, ready to be written (Registration::Prepare).
struct PreparedRegistration {
  RegistrationInput input;  // without the password
  db::NewUser user;
  std::string confirm_url;  // the link in the welcome mail
};

// Registers users: validate, hash, then write the user and the welcome e-mail command in one
// transaction. Blocking (argon2id, the database): run it on a worker thread. Thread-safe.
// Prepare (the CPU: argon2id) and Commit (the database) may run on different threads, so that
// the transaction never runs on a thread niced for hashing.
class Registration {
 public:
  // on_committed is called after each successful commit (it wakes the outbox relay).
  // public_url is where the confirmation link in the welcome mail points ("" makes it relative).
  Registration(db::Store& store, const PasswordHasher& hasher, std::function<void()> on_committed,
               std::string public_url = "")
      : store_(store), hasher_(hasher), on_committed_(std::move(on_committed)),
        public_url_(std::move(public_url)) {}

  // The new user's id. kInvalidArgument (with the field), kConflict for a known e-mail,
  // kUnavailable when the database is.
  tl::expected<std::int64_t, RegistrationError> Register(const RegistrationInput& input,
                                                         const std::string& traceparent);
  // Validates, hashes the password and makes the confirmation token. kInvalidArgument (with
  // the field); kUnavailable if argon2id cannot get its memory.
  tl::expected<PreparedRegistration, RegistrationError> Prepare(const RegistrationInput& input) const;
  // Writes the user and its outbox messages in one transaction; as Register.
  tl::expected<std::int64_t, RegistrationError> Commit(const PreparedRegistration& prepared,
                                                       const std::string& traceparent);

 private:
  db::Store& store_;
  const PasswordHasher& hasher_;
  std::function<void()> on_committed_;
  std::string public_url_;
};

}  // namespace inkwell::web
