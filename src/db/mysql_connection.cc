// The MariaDB / MySQL engine of SqlConnection, on MariaDB Connector/C (libmariadb): the binary
// protocol for every Query (one prepared statement per SQL text, cached on the connection), the
// text protocol for Execute, every result column fetched as text.
#include <algorithm>
#include <functional>
#include <mutex>
#include <unordered_map>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "core/c_handle.h"
#include "core/string_hash.h"
#include "db/sql_connection.h"

namespace inkwell::db {
namespace {

using MysqlHandle = core::CHandle<MYSQL, mysql_close>;
using MysqlStatement = core::CHandle<MYSQL_STMT, mysql_stmt_close>;
using MysqlResult = core::CHandle<MYSQL_RES, mysql_free_result>;

// MySQL 8 closes an idle session past wait_timeout with this error (MariaDB just closes it).
constexpr unsigned kMysqlClientInteractionTimeout = 4031;
// The server caps prepared statements across all sessions (max_prepared_stmt_count, 16382); SQL
// built at run time must not grow one connection's cache without bound.
constexpr std::size_t kMaxCachedStatements = 256;
// Values up to this size are fetched in one go; longer ones with mysql_stmt_fetch_column.
constexpr unsigned long kColumnBufferBytes = 256;

// What one server (1xxx) or client (2xxx) error number means to the caller.
struct ErrorClass {
  core::ErrorCode code = core::ErrorCode::kInternal;
  bool is_retryable = false;        // the transaction is rolled back; running it again may work
  bool is_connection_lost = false;  // the connection cannot be used again
};

ErrorClass Classify(unsigned number) {
  switch (number) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME: return {core::ErrorCode::kConflict, false, false};
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT: return {core::ErrorCode::kUnavailable, true, false};
    case ER_STATEMENT_TIMEOUT:  // max_statement_time: the statement is cancelled, the session lives
    case ER_QUERY_INTERRUPTED:  // KILL QUERY
    case ER_CON_COUNT_ERROR: return {core::ErrorCode::kUnavailable, false, false};
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:  // also a read or write past its timeout
    case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case kMysqlClientInteractionTimeout: return {core::ErrorCode::kUnavailable, false, true};
    // Our bug, but the protocol state is unknown afterwards: let the pool replace the connection.
    case CR_COMMANDS_OUT_OF_SYNC: return {core::ErrorCode::kInternal, false, true};
  }
  return {};
}

unsigned CeilSeconds(std::chrono::milliseconds duration) {
  return static_cast<unsigned>(std::max<std::chrono::milliseconds::rep>(
      1, std::chrono::ceil<std::chrono::seconds>(duration).count()));
}

// Frees the rest of a statement's result set (unread rows stay on the socket otherwise).
class ResultSetGuard {
 public:
  explicit ResultSetGuard(MYSQL_STMT* statement) : statement_(statement) {}
  ResultSetGuard(const ResultSetGuard&) = delete;
  ResultSetGuard& operator=(const ResultSetGuard&) = delete;
  ~ResultSetGuard() { mysql_stmt_free_result(statement_); }

 private:
  MYSQL_STMT* statement_;
};

// One session. One thread uses it at a time (SqlConnection's contract).
class MysqlConnection final : public SqlConnection {
 public:
  explicit MysqlConnection(MysqlHandle mysql) : mysql_(std::move(mysql)) {}

  // Strict SQL mode, UTC, READ COMMITTED and the statement timeout for this session.
  core::Result<void> ConfigureSession(const ConnectOptions& options);

  core::Result<void> Execute(std::string_view sql) override;
  using SqlConnection::Query;
  core::Result<SqlResult> Query(std::string_view sql, std::span<const SqlValue> params) override;
  bool LastErrorRetryable() const override { return is_last_error_retryable_; }
  bool IsUsable() const override { return is_usable_; }
  std::string_view Engine() const override { return "mysql"; }

 private:
  core::Result<void> BeginCall();
  core::Result<MYSQL_STMT*> Prepare(std::string_view sql);
  core::Result<SqlResult> Run(MYSQL_STMT* statement, std::span<const SqlValue> params);
  core::Result<std::vector<SqlRow>> FetchRows(MYSQL_STMT* statement);
  core::Result<std::string> FetchLongColumn(MYSQL_STMT* statement, unsigned column,
                                            unsigned long length);
  // Records what the failure means for this connection and turns it into our error.
  tl::unexpected<core::Error> Failure(unsigned number, const char* text, std::string_view call);
  tl::unexpected<core::Error> SessionFailure(std::string_view call) {
    return Failure(mysql_errno(mysql_.get()), mysql_error(mysql_.get()), call);
  }
  // An error packet among the rows of an unbuffered fetch is recorded on the session only.
  tl::unexpected<core::Error> StatementFailure(MYSQL_STMT* statement, std::string_view call) {
    if (mysql_stmt_errno(statement) == 0) return SessionFailure(call);
    return Failure(mysql_stmt_errno(statement), mysql_stmt_error(statement), call);
  }

  MysqlHandle mysql_;
  // Declared after mysql_, so destroyed before it: statements close while the session is open.
  std::unordered_map<std::string, MysqlStatement, core::StringHash, std::equal_to<>> statements_;
  unsigned last_error_number_ = 0;
  bool is_last_error_retryable_ = false;
  bool is_usable_ = true;
};

core::Result<void> MysqlConnection::ConfigureSession(const ConnectOptions& options) {
  std::string settings =
      "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,"
      "ERROR_FOR_DIVISION_BY_ZERO', SESSION time_zone='+00:00'";
  // 0 disables the limit on both servers. MySQL's max_execution_time covers SELECT only.
  const long long timeout_ms = std::max<long long>(0, options.statement_timeout.count());
  if (mariadb_connection(mysql_.get())) {
    const std::string fraction = std::to_string(1000 + timeout_ms % 1000).substr(1);
    settings +=
        ", SESSION max_statement_time=" + std::to_string(timeout_ms / 1000) + "." + fraction;
  } else {
    settings += ", SESSION max_execution_time=" + std::to_string(timeout_ms);
  }
  if (auto set = Execute(settings); !set) return set;
  // MariaDB 10.11 has no transaction_isolation variable (11.1 adds it); this form works on both.
  return Execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
}

core::Result<void> MysqlConnection::BeginCall() {
  is_last_error_retryable_ = false;
  last_error_number_ = 0;
  if (!is_usable_) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "MariaDB connection: closed after an earlier failure");
  }
  return {};
}

core::Result<void> MysqlConnection::Execute(std::string_view sql) {
  if (auto usable = BeginCall(); !usable) return usable;
  MYSQL* mysql = mysql_.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) {
    return SessionFailure("mysql_real_query");
  }
  // A statement that returns rows (SHOW, SELECT) still has to be read to the end.
  int next = 0;
  do {
    const MysqlResult result(mysql_store_result(mysql));
    if (!result && mysql_field_count(mysql) != 0) return SessionFailure("mysql_store_result");
    next = mysql_next_result(mysql);
  } while (next == 0);
  if (next > 0) return SessionFailure("mysql_next_result");
  return {};
}

core::Result<SqlResult> MysqlConnection::Query(std::string_view sql,
                                               std::span<const SqlValue> params) {
  if (auto usable = BeginCall(); !usable) return tl::unexpected(usable.error());
  for (int attempt = 1;; ++attempt) {
    auto statement = Prepare(sql);
    if (!statement) return tl::unexpected(statement.error());
    auto result = Run(*statement, params);
    // DDL since the prepare can invalidate it; the server usually re-prepares by itself.
    if (result || last_error_number_ != ER_NEED_REPREPARE || attempt == 2) return result;
    statements_.erase(statements_.find(sql));
  }
}

core::Result<MYSQL_STMT*> MysqlConnection::Prepare(std::string_view sql) {
  if (const auto found = statements_.find(sql); found != statements_.end()) {
    return found->second.get();
  }
  if (statements_.size() >= kMaxCachedStatements) statements_.clear();
  MysqlStatement statement(mysql_stmt_init(mysql_.get()));
  if (!statement) return SessionFailure("mysql_stmt_init");
  if (mysql_stmt_prepare(statement.get(), sql.data(), sql.size()) != 0) {
    return StatementFailure(statement.get(), "mysql_stmt_prepare");
  }
  return statements_.emplace(std::string(sql), std::move(statement)).first->second.get();
}

core::Result<SqlResult> MysqlConnection::Run(MYSQL_STMT* statement,
                                             std::span<const SqlValue> params) {
  const unsigned long placeholder_count = mysql_stmt_param_count(statement);
  if (placeholder_count != params.size()) {
    return core::Fail(core::ErrorCode::kInternal,
                      "MariaDB Query: " + std::to_string(params.size()) + " parameters for " +
                          std::to_string(placeholder_count) + " placeholders");
  }
  // The server only reads parameter buffers, but MYSQL_BIND has no const pointer.
  std::vector<MYSQL_BIND> binds(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& bind = binds[i];
    if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = const_cast<std::int64_t*>(number);
    } else if (const auto* text = std::get_if<std::string>(&params[i])) {
      bind.buffer_type = MYSQL_TYPE_STRING;
      bind.buffer = const_cast<char*>(text->data());
      bind.buffer_length = text->size();  // with length null, buffer_length is the value's size
    } else {
      bind.buffer_type = MYSQL_TYPE_NULL;
    }
  }
  if (!binds.empty() && mysql_stmt_bind_param(statement, binds.data()) != 0) {
    return StatementFailure(statement, "mysql_stmt_bind_param");
  }
  if (mysql_stmt_execute(statement) != 0) return StatementFailure(statement, "mysql_stmt_execute");

  SqlResult result;
  if (mysql_stmt_field_count(statement) == 0) {
    result.affected_rows = static_cast<std::int64_t>(mysql_stmt_affected_rows(statement));
    result.last_insert_id = static_cast<std::int64_t>(mysql_stmt_insert_id(statement));
    return result;
  }
  auto rows = FetchRows(statement);
  if (!rows) return tl::unexpected(rows.error());
  result.rows = std::move(*rows);
  // SELECT, and INSERT/DELETE ... RETURNING: the rows returned are the rows affected.
  result.affected_rows = static_cast<std::int64_t>(result.rows.size());
  result.last_insert_id = static_cast<std::int64_t>(mysql_stmt_insert_id(statement));
  return result;
}

core::Result<std::vector<SqlRow>> MysqlConnection::FetchRows(MYSQL_STMT* statement) {
  const unsigned column_count = mysql_stmt_field_count(statement);
  std::vector<MYSQL_BIND> binds(column_count);
  std::vector<char> buffers(static_cast<std::size_t>(column_count) * kColumnBufferBytes);
  std::vector<unsigned long> lengths(column_count);
  std::vector<my_bool> nulls(column_count);
  for (unsigned i = 0; i < column_count; ++i) {
    // Every type converts to its text form on the client: integers as decimal digits.
    binds[i].buffer_type = MYSQL_TYPE_STRING;
    binds[i].buffer = &buffers[i * kColumnBufferBytes];
    binds[i].buffer_length = kColumnBufferBytes;
    binds[i].length = &lengths[i];
    binds[i].is_null = &nulls[i];
  }
  const ResultSetGuard guard(statement);
  if (mysql_stmt_bind_result(statement, binds.data()) != 0) {
    return StatementFailure(statement, "mysql_stmt_bind_result");
  }
  std::vector<SqlRow> rows;
  for (;;) {
    const int status = mysql_stmt_fetch(statement);
    if (status == MYSQL_NO_DATA) break;
    if (status != 0 && status != MYSQL_DATA_TRUNCATED) {
      return StatementFailure(statement, "mysql_stmt_fetch");
    }
    SqlRow& row = rows.emplace_back();
    row.columns.reserve(column_count);
    for (unsigned i = 0; i < column_count; ++i) {
      if (nulls[i]) {
        row.columns.emplace_back();
      } else if (lengths[i] <= kColumnBufferBytes) {
        row.columns.emplace_back(std::string(&buffers[i * kColumnBufferBytes], lengths[i]));
      } else {
        auto value = FetchLongColumn(statement, i, lengths[i]);
        if (!value) return tl::unexpected(value.error());
        row.columns.emplace_back(std::move(*value));
      }
    }
  }
  return rows;
}

core::Result<std::string> MysqlConnection::FetchLongColumn(MYSQL_STMT* statement, unsigned column,
                                                           unsigned long length) {
  std::string value(length + 1, '\0');  // + 1: room for the terminator the client may write
  unsigned long fetched = 0;
  my_bool is_null = 0;
  MYSQL_BIND bind{};
  bind.buffer_type = MYSQL_TYPE_STRING;
  bind.buffer = value.data();
  bind.buffer_length = length + 1;
  bind.length = &fetched;
  bind.is_null = &is_null;
  if (mysql_stmt_fetch_column(statement, &bind, column, 0) != 0) {
    return StatementFailure(statement, "mysql_stmt_fetch_column");
  }
  value.resize(std::min(fetched, length));
  return value;
}

tl::unexpected<core::Error> MysqlConnection::Failure(unsigned number, const char* text,
                                                     std::string_view call) {
  const ErrorClass error_class = Classify(number);
  last_error_number_ = number;
  is_last_error_retryable_ = error_class.is_retryable;
  if (error_class.is_connection_lost) is_usable_ = false;
  // A lock wait timeout rolls back only the statement; roll back the whole transaction, as a
  // deadlock does, so that "retryable" means the same thing for both.
  if (number == ER_LOCK_WAIT_TIMEOUT && mysql_real_query(mysql_.get(), "ROLLBACK", 8) != 0) {
    is_usable_ = false;
  }
  std::string message(call);
  message += ": ";
  message += text;
  message += " (" + std::to_string(number) + ")";
  return tl::unexpected(core::Error{error_class.code, std::move(message)});
}

// The message says what to fix; it never carries the password (the server's text does not).
core::Error ConnectFailure(const DbUrl& url, MYSQL* mysql) {
  const unsigned number = mysql_errno(mysql);
  const std::string server = url.host + ":" + std::to_string(url.port);
  const std::string text = mysql_error(mysql);
  switch (number) {
    case ER_BAD_DB_ERROR:
      return {core::ErrorCode::kInvalidArgument, "INKWELL_DB_URL: database '" + url.database +
                                                     "' does not exist on " + server +
                                                     "; create it or fix the URL"};
    // 1698: no such user, or one that may not log in with a password.
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
      return {core::ErrorCode::kInvalidArgument, "INKWELL_DB_URL: MariaDB at " + server +
                                                     " refused user '" + url.user + "' (" + text +
                                                     "); fix the user or password in the URL"};
    case ER_DBACCESS_DENIED_ERROR:
      return {core::ErrorCode::kInvalidArgument,
              "INKWELL_DB_URL: user '" + url.user + "' may not use database '" + url.database +
                  "' on " + server + " (" + text + "); grant access or fix the URL"};
  }
  const ErrorClass error_class = Classify(number);
  if (error_class.code == core::ErrorCode::kUnavailable) {
    // 2xxx: the client never got a session (refused, timed out, lost in the handshake).
    const char* hint = number >= CR_MIN_ERROR ? "; is the server running?" : "";
    return {error_class.code, "cannot connect to MariaDB at " + server + ": " + text + hint};
  }
  return {error_class.code,
          "mysql_real_connect to " + server + ": " + text + " (" + std::to_string(number) + ")"};
}

core::Result<void> SetConnectOptions(MYSQL* mysql, const ConnectOptions& options) {
  const unsigned connect_seconds = CeilSeconds(options.connect_timeout);
  // One second over the server's max_statement_time, so that a slow statement ends with the
  // server's timeout (the session survives) and only a silent server with the client's.
  const unsigned io_seconds =
      options.statement_timeout.count() > 0 ? CeilSeconds(options.statement_timeout) + 1 : 0;
  const unsigned protocol = MYSQL_PROTOCOL_TCP;  // never the default unix socket
  const my_bool reconnect = 0;  // a silent reconnect would lose the session's transaction
  const bool failed = mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_seconds) != 0 ||
                      mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &io_seconds) != 0 ||
                      mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &io_seconds) != 0 ||
                      mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol) != 0 ||
                      mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect) != 0 ||
                      mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0;
  if (failed) return core::Fail(core::ErrorCode::kInternal, "mysql_options: rejected an option");
  return {};
}

}  // namespace

core::Result<std::unique_ptr<SqlConnection>> ConnectMysql(const DbUrl& url,
                                                          const ConnectOptions& options) {
  // mysql_init would initialize the library lazily, which is not thread-safe.
  static std::once_flag library_once;
  static int library_status = 0;
  std::call_once(library_once, [] { library_status = mysql_library_init(0, nullptr, nullptr); });
  if (library_status != 0) {
    return core::Fail(core::ErrorCode::kInternal, "mysql_library_init failed");
  }

  MysqlHandle mysql(mysql_init(nullptr));
  if (!mysql) return core::Fail(core::ErrorCode::kInternal, "mysql_init: out of memory");
  if (auto set = SetConnectOptions(mysql.get(), options); !set) return tl::unexpected(set.error());
  // CLIENT_FOUND_ROWS: affected_rows counts the rows an UPDATE matched, as PostgreSQL and SQLite
  // do, not only those it changed.
  if (mysql_real_connect(mysql.get(), url.host.c_str(), url.user.c_str(), url.password.c_str(),
                         url.database.c_str(), static_cast<unsigned>(url.port), nullptr,
                         CLIENT_FOUND_ROWS) == nullptr) {
    return tl::unexpected(ConnectFailure(url, mysql.get()));
  }
  auto connection = std::make_unique<MysqlConnection>(std::move(mysql));
  if (auto configured = connection->ConfigureSession(options); !configured) {
    return tl::unexpected(configured.error());
  }
  return connection;
}

}  // namespace inkwell::db
