#pragma once

// The PostgreSQL engine's pure parts, apart from libpq so that tests check them directly. The
// connection itself is ConnectPostgres() in sql_connection.h.

#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::db {

struct NumberedSql {
  std::string sql;
  int parameter_count = 0;
};

// Rewrites each `?` placeholder as $1, $2, ... in order. A `?` inside a string literal ('...',
// E'...', $tag$...$tag$), a quoted identifier ("...") or a comment (-- and nested /* */) is left
// alone. PostgreSQL's jsonb operators ?, ?| and ?& therefore cannot be written directly.
NumberedSql NumberPlaceholders(std::string_view sql);

// How the engine treats a server error, by its SQLSTATE.
struct PostgresErrorClass {
  core::ErrorCode code = core::ErrorCode::kInternal;
  bool is_retryable = false;        // deadlock or serialization failure: rerun the transaction
  bool is_connection_lost = false;  // the session is gone; the connection cannot be used again
};

//   23505                                  -> kConflict
//   40001, 40P01                           -> kUnavailable, retryable
//   class 08, 57P01/57P02/57P03            -> kUnavailable, connection lost
//   53300 (too many clients), 57014 (statement timeout, cancel) -> kUnavailable
//   anything else                          -> kInternal
PostgresErrorClass ClassifyPostgresError(std::string_view sqlstate);

}  // namespace inkwell::db
