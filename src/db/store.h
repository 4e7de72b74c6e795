#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace inkwell::db {

struct NewUser {
  std::string name;
  std::string email;
  std::string password_hash;  // argon2id string from crypto_pwhash_str
};

// A message to publish once the transaction that wrote it commits (transactional outbox).
struct OutboxMessage {
  std::string message_id;  // unique; the consumer de-duplicates on it
  std::string exchange;
  std::string routing_key;
  std::string type;
  std::string body;
  std::string traceparent;
};

struct OutboxRow {
  std::int64_t id = 0;
  OutboxMessage message;
  std::int64_t created_at_ms = 0;  // Unix time in milliseconds
  int attempts = 0;
  std::string last_error;  // why the last publish attempt failed; empty if none did
};

struct OutboxBacklog {
  std::int64_t pending = 0;
  std::int64_t oldest_created_at_ms = 0;  // 0 when nothing is pending
  std::int64_t failing = 0;               // pending rows whose last publish attempt failed
};

// The web service's storage. Engines: SQLite (sqlite:PATH). Thread-safe: engines serialise
// writes internally. Failures: kUnavailable when the database cannot be reached or is busy
// beyond its timeout, kInternal on a failed statement.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the user and writes the outbox messages in ONE transaction: both or neither.
  // outbox_for is given the new user's id (events carry it). kConflict if the e-mail address
  // is already registered.
  virtual core::Result<std::int64_t> CreateUser(
      const NewUser& user,
      const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) = 0;
  core::Result<std::int64_t> CreateUser(const NewUser& user,
                                        const std::vector<OutboxMessage>& outbox) {
    return CreateUser(user, [&outbox](std::int64_t) { return outbox; });
  }

  // Up to `limit` unsent outbox rows, oldest first.
  virtual core::Result<std::vector<OutboxRow>> PendingOutbox(std::size_t limit) = 0;
  // Marks rows sent (the broker confirmed them), in one transaction.
  virtual core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) = 0;
  // Counts a failed publish attempt against rows and keeps the reason; they stay pending.
  virtual core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                                 const std::string& reason) = 0;
  virtual core::Result<OutboxBacklog> Backlog() = 0;
  // Up to `limit` pending rows whose last publish attempt failed, oldest first (for operators).
  virtual core::Result<std::vector<OutboxRow>> FailingOutbox(std::size_t limit) = 0;

  // Cheap round trip, for /readyz.
  virtual core::Result<void> Ping() = 0;
};

// Opens the database named by url, creating it and applying pending migrations.
// kInvalidArgument for an unknown scheme; kUnavailable if it cannot be opened.
core::Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace inkwell::db
