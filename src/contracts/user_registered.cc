#include "contracts/user_registered.h"

#include <nlohmann/json.hpp>

namespace inkwell::contracts {
namespace {

using Json = nlohmann::json;

}  // namespace

std::string EncodeUserRegistered(const UserRegistered& event) {
  const Json body = {{"user_id", event.user_id},
                     {"name", event.name},
                     {"email", event.email},
                     {"registered_at", event.registered_at}};
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

core::Result<UserRegistered> ParseUserRegistered(std::string_view body) {
  const Json object = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object() || !object.contains("user_id") || !object["user_id"].is_number_integer() ||
      !object.contains("email") || !object["email"].is_string() || !object.contains("name") ||
      !object["name"].is_string() || !object.contains("registered_at") ||
      !object["registered_at"].is_string()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "user.registered needs user_id (integer), name, email, registered_at (strings)");
  }
  return UserRegistered{object["user_id"].get<std::int64_t>(), object["name"].get<std::string>(),
                        object["email"].get<std::string>(),
                        object["registered_at"].get<std::string>()};
}

}  // namespace inkwell::contracts
