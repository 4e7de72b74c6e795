#pragma once

// A connection to a database server (PostgreSQL or MariaDB/MySQL), as the server store uses it:
// prepared statements only, parameters bound in order, results as text. One thread uses a
// connection at a time (the pool in ServerStore hands it out).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "db/db_url.h"

namespace inkwell::db {

// A bound parameter: SQL NULL, an integer or text.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string>;

// One result row; columns in SELECT order, nullopt for SQL NULL, values in their text form
// (integers as decimal digits).
struct SqlRow {
  std::vector<std::optional<std::string>> columns;

  bool IsNull(std::size_t column) const { return !columns.at(column).has_value(); }
  // 0 for NULL. Text that is not an integer is a bug in the query: it throws std::logic_error.
  std::int64_t Int(std::size_t column) const;
  // "" for NULL.
  std::string Text(std::size_t column) const;
};

struct SqlResult {
  std::vector<SqlRow> rows;
  std::int64_t affected_rows = 0;   // rows changed by INSERT/UPDATE/DELETE
  std::int64_t last_insert_id = 0;  // MariaDB: AUTO_INCREMENT id of an INSERT; PostgreSQL: 0
                                    // (use INSERT ... RETURNING id there)
};

struct ConnectOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // A statement running longer is cancelled with kUnavailable; so is a read or write on the
  // socket that waits longer (a server that died without closing the connection).
  std::chrono::milliseconds statement_timeout{10000};
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one statement without parameters or results: BEGIN, COMMIT, ROLLBACK, DDL, SET.
  virtual core::Result<void> Execute(std::string_view sql) = 0;

  // Runs one statement with parameters. Placeholders are written `?` in both dialects (the
  // PostgreSQL engine numbers them $1, $2, ... outside string literals). The prepared statement
  // is cached on the connection by its SQL text.
  virtual core::Result<SqlResult> Query(std::string_view sql, std::span<const SqlValue> params) = 0;
  core::Result<SqlResult> Query(std::string_view sql, std::initializer_list<SqlValue> params) {
    return Query(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }

  // Errors are mapped once per engine:
  //   unique violation                         -> kConflict
  //   connection refused/lost, timeout,
  //   server shutting down, too many clients   -> kUnavailable
  //   deadlock / serialization failure          -> kUnavailable, and LastErrorRetryable() is true
  //   anything else (syntax, constraint, ...)   -> kInternal
  // Messages name the call and carry the server's text: "PQexecPrepared: ERROR: ...".

  // True if the last failure was a deadlock or serialization failure: the transaction was rolled
  // back by the server and running it again may succeed.
  virtual bool LastErrorRetryable() const = 0;

  // False once the connection is known to be broken (lost, reset, timed out mid-statement): the
  // pool closes it and opens a new one.
  virtual bool IsUsable() const = 0;

  // "postgresql" or "mysql".
  virtual std::string_view Engine() const = 0;
};

// Connects to url's server and database (engine kPostgresql). kUnavailable if the server cannot
// be reached, kInvalidArgument for bad credentials or a missing database, with a message that
// says what to fix.
core::Result<std::unique_ptr<SqlConnection>> ConnectPostgres(const DbUrl& url,
                                                             const ConnectOptions& options);
// Likewise for MariaDB / MySQL (engine kMysql), utf8mb4, autocommit on.
core::Result<std::unique_ptr<SqlConnection>> ConnectMysql(const DbUrl& url,
                                                          const ConnectOptions& options);

}  // namespace inkwell::db
