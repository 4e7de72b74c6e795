#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace inkwell::core {

enum class ErrorCode {
  kInvalidArgument,  // the input is wrong; retrying cannot help
  kNotFound,
  kConflict,       // e.g. the e-mail address is already registered
  kUnavailable,    // broker, database or SMTP server down; retry later
  kInternal,       // a bug, or a library failure we did not foresee
};

// Stable lower-case name of a code, as used in JSON errors and logs ("invalid_argument").
std::string_view NameOf(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // names the failed call: "sqlite3_step: database is locked"
};

template <typename T>
using Result = tl::expected<T, Error>;  // becomes std::expected when g++ has it

inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace inkwell::core
