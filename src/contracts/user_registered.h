#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::contracts {

// The domain event published on the `events` topic exchange when an account is created.
inline constexpr std::string_view kUserRegisteredType = "user.registered";  // also the routing key

struct UserRegistered {
  std::int64_t user_id = 0;
  std::string name;
  std::string email;
  std::string registered_at;  // RFC 3339 UTC, "2026-11-28T08:10:11Z"
};

// {"user_id", "name", "email", "registered_at"}
std::string EncodeUserRegistered(const UserRegistered& event);
// kInvalidArgument when a field is missing or of the wrong type.
core::Result<UserRegistered> ParseUserRegistered(std::string_view body);

}  // namespace inkwell::contracts
