#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sqlite_store.h"

namespace inkwell::db {

// Helpers shared by the SqliteStore tests.
inline std::int64_t TestNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::unique_ptr<SqliteStore> OpenTestStore(const std::string& path = ":memory:") {
  auto store = SqliteStore::Open(path);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// An outbox message whose body names what it announces.
inline OutboxMessage Event(const std::string& message_id, const std::string& body = "{}") {
  return OutboxMessage{message_id, "events", "test.event", "test.event", body, ""};
}

// Creates a user with no outbox messages and returns the id (0 on failure).
inline std::int64_t AddUser(Store& store, const std::string& name, const std::string& email) {
  auto id =
      store.CreateUser(NewUser{name, email, "$argon2id$hash", "", 0}, std::vector<OutboxMessage>{});
  EXPECT_TRUE(id) << id.error().message;
  return id ? *id : 0;
}

// The message ids of every pending outbox row, oldest first.
inline std::vector<std::string> PendingMessageIds(Store& store) {
  std::vector<std::string> ids;
  auto pending = store.PendingOutbox(1000);
  EXPECT_TRUE(pending) << pending.error().message;
  if (!pending) return ids;
  for (const OutboxRow& row : *pending) ids.push_back(row.message.message_id);
  return ids;
}

inline constexpr const char* kSqlInjection = "'; DROP TABLE users; --";

}  // namespace inkwell::db
