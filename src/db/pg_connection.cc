#include "db/pg_connection.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <poll.h>

#include "core/c_handle.h"
#include "core/log.h"
#include "db/sql_connection.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using PgConn = core::CHandle<PGconn, PQfinish>;
using PgResult = core::CHandle<PGresult, PQclear>;

// The server enforces statement_timeout itself and answers 57014. The client waits this much longer
// before it gives up on a server that does not answer at all (dead host, lost network).
constexpr milliseconds kServerGrace{1000};

bool IsTagChar(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return std::isalnum(byte) != 0 || c == '_' || byte >= 0x80;
}
bool IsIdentifierChar(char c) { return IsTagChar(c) || c == '$'; }

// One past the closing quote of the literal or identifier opened at sql[open]; sql.size() if it is
// never closed. A doubled quote stands for itself; in E'...' so does a backslashed char.
std::size_t EndOfQuoted(std::string_view sql, std::size_t open, bool has_backslash_escapes) {
  const char quote = sql[open];
  std::size_t i = open + 1;
  while (i < sql.size()) {
    if (has_backslash_escapes && sql[i] == '\\') {
      i += 2;
    } else if (sql[i] != quote) {
      ++i;
    } else if (i + 1 < sql.size() && sql[i + 1] == quote) {
      i += 2;
    } else {
      return i + 1;
    }
  }
  return sql.size();
}

// One past the end of the (nestable) block comment opened at sql[open].
std::size_t EndOfBlockComment(std::string_view sql, std::size_t open) {
  int depth = 0;
  std::size_t i = open;
  while (i + 1 < sql.size()) {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      ++depth;
      i += 2;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return sql.size();
}

// Length of the dollar-quote delimiter ("$$" or "$tag$") at sql[i], 0 if there is none ($1 is a
// positional parameter, not a delimiter).
std::size_t DollarTagLength(std::string_view sql, std::size_t i) {
  std::size_t end = i + 1;
  if (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end])) != 0) return 0;
  while (end < sql.size() && IsTagChar(sql[end])) ++end;
  return end < sql.size() && sql[end] == '$' ? end - i + 1 : 0;
}

// One past the end of whatever literal or comment starts at sql[i]; i if none starts there.
std::size_t SkipLiteral(std::string_view sql, std::size_t i) {
  const char c = sql[i];
  const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
  const bool after_identifier = i > 0 && IsIdentifierChar(sql[i - 1]);
  if (c == '\'') {
    const bool is_escape_string = after_identifier && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                  (i < 2 || !IsIdentifierChar(sql[i - 2]));
    return EndOfQuoted(sql, i, is_escape_string);
  }
  if (c == '"') return EndOfQuoted(sql, i, false);
  if (c == '-' && next == '-') return std::min(sql.find('\n', i), sql.size());
  if (c == '/' && next == '*') return EndOfBlockComment(sql, i);
  if (c == '$' && !after_identifier) {
    const std::size_t tag = DollarTagLength(sql, i);
    if (tag == 0) return i;
    const std::size_t close = sql.find(sql.substr(i, tag), i + tag);
    return close == std::string_view::npos ? sql.size() : close + tag;
  }
  return i;
}

// The first line of a libpq message, without its trailing newline.
std::string FirstLine(const char* message) {
  const std::string_view text = message != nullptr ? message : "";
  return std::string(text.substr(0, text.find('\n')));
}

// Waits until conn's socket is ready for events, or returns false once deadline has passed. Socket
// errors count as ready: the next libpq call reports them with its own message.
bool WaitForSocket(PGconn* conn, short events, Clock::time_point deadline,
                   short* revents = nullptr) {
  const int socket = PQsocket(conn);
  if (socket < 0) return true;
  for (;;) {
    int timeout_ms = -1;
    if (deadline != Clock::time_point::max()) {
      const auto remaining = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
      if (remaining <= 0) return false;
      timeout_ms = static_cast<int>(std::min<std::int64_t>(remaining, 60'000));
    }
    pollfd descriptor{socket, events, 0};
    const int ready = ::poll(&descriptor, 1, timeout_ms);
    if (ready > 0 || (ready < 0 && errno != EINTR)) {
      if (revents != nullptr) *revents = ready > 0 ? descriptor.revents : POLLERR;
      return true;
    }
  }
}

// Server notices ("table ... does not exist, skipping") go to our log instead of libpq's default,
// stderr: warnings as warnings, the rest at debug level.
void LogNotice(void* /*unused*/, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  const core::LogLevel level = severity != nullptr && std::string_view(severity) == "WARNING"
                                   ? core::LogLevel::kWarn
                                   : core::LogLevel::kDebug;
  if (!core::Log::Enabled(level)) return;
  const char* primary = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  core::Log::Write(level, "postgresql notice",
                   {{"severity", severity != nullptr ? severity : ""},
                    {"message", primary != nullptr ? primary : ""}});
}

class PgConnection final : public SqlConnection {
 public:
  PgConnection(PgConn conn, std::string server, milliseconds statement_timeout)
      : conn_(std::move(conn)), server_(std::move(server)), statement_timeout_(statement_timeout) {}

  core::Result<void> Execute(std::string_view sql) override {
    if (auto ready = StartCall(); !ready) return ready;
    // The simple-query protocol: no parameters, and a migration may hold several statements.
    const std::string text(sql);
    if (PQsendQuery(conn_.get(), text.c_str()) == 0) {
      return tl::unexpected(ConnectionError("PQsendQuery"));
    }
    if (auto result = AwaitResult("PQsendQuery"); !result) return tl::unexpected(result.error());
    return {};
  }

  core::Result<SqlResult> Query(std::string_view sql, std::span<const SqlValue> params) override;

  bool LastErrorRetryable() const override { return last_error_retryable_; }
  bool IsUsable() const override { return is_usable_; }
  std::string_view Engine() const override { return "postgresql"; }

 private:
  struct Prepared {
    std::string name;
    int parameter_count = 0;
  };

  core::Result<void> StartCall();
  core::Result<const Prepared*> PrepareOnce(std::string_view sql, std::size_t param_count);
  core::Result<PgResult> AwaitResult(std::string_view call);
  core::Result<void> Flush(Clock::time_point deadline, std::string_view call);
  core::Error TimeoutError(std::string_view call);
  core::Error ConnectionError(std::string_view call);
  core::Error ResultError(const PGresult* result, std::string_view call);

  PgConn conn_;
  std::string server_;  // "host:port", for messages
  milliseconds statement_timeout_;
  std::map<std::string, Prepared, std::less<>> statements_;  // by the SQL text with `?`
  int next_statement_id_ = 1;
  std::string last_sqlstate_;
  bool last_error_retryable_ = false;
  bool is_usable_ = true;
};

core::Result<void> PgConnection::StartCall() {
  last_error_retryable_ = false;
  last_sqlstate_.clear();
  if (is_usable_) return {};
  return core::Fail(ErrorCode::kUnavailable,
                    "PostgreSQL connection to " + server_ + " is broken; open a new one");
}

core::Result<SqlResult> PgConnection::Query(std::string_view sql,
                                            std::span<const SqlValue> params) {
  if (auto ready = StartCall(); !ready) return tl::unexpected(ready.error());
  auto prepared = PrepareOnce(sql, params.size());
  if (!prepared) return tl::unexpected(prepared.error());

  // Text format throughout; the server converts to the parameter types it inferred.
  std::vector<std::string> numbers(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      numbers[i] = std::to_string(*number);
      values[i] = numbers[i].c_str();
    } else if (const auto* text = std::get_if<std::string>(&params[i])) {
      if (text->find('\0') != std::string::npos) {
        return core::Fail(ErrorCode::kInvalidArgument,
                          "parameter " + std::to_string(i + 1) + " contains a NUL byte");
      }
      values[i] = text->c_str();
    }
  }
  if (PQsendQueryPrepared(conn_.get(), (*prepared)->name.c_str(), static_cast<int>(values.size()),
                          values.data(), nullptr, nullptr, 0) == 0) {
    return tl::unexpected(ConnectionError("PQsendQueryPrepared"));
  }
  auto result = AwaitResult("PQsendQueryPrepared");
  if (!result) {
    // The statement vanished (DISCARD ALL) or its plan no longer fits the table: prepare anew.
    if (last_sqlstate_ == "26000" || last_sqlstate_ == "0A000")
      statements_.erase(statements_.find(sql));
    return tl::unexpected(result.error());
  }

  PGresult* raw = result->get();
  SqlResult out;
  const int row_count = PQntuples(raw);
  const int column_count = PQnfields(raw);
  out.rows.reserve(static_cast<std::size_t>(row_count));
  for (int row = 0; row < row_count; ++row) {
    SqlRow& sql_row = out.rows.emplace_back();
    sql_row.columns.reserve(static_cast<std::size_t>(column_count));
    for (int column = 0; column < column_count; ++column) {
      if (PQgetisnull(raw, row, column) != 0) {
        sql_row.columns.emplace_back(std::nullopt);
      } else {
        sql_row.columns.emplace_back(std::in_place, PQgetvalue(raw, row, column),
                                     static_cast<std::size_t>(PQgetlength(raw, row, column)));
      }
    }
  }
  const std::string_view affected = PQcmdTuples(raw);  // "" for statements that change no rows
  std::from_chars(affected.data(), affected.data() + affected.size(), out.affected_rows);
  return out;
}

core::Result<const PgConnection::Prepared*> PgConnection::PrepareOnce(std::string_view sql,
                                                                      std::size_t param_count) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    NumberedSql numbered = NumberPlaceholders(sql);
    std::string name = "inkwell_" + std::to_string(next_statement_id_++);
    if (PQsendPrepare(conn_.get(), name.c_str(), numbered.sql.c_str(), 0, nullptr) == 0) {
      return tl::unexpected(ConnectionError("PQsendPrepare"));
    }
    if (auto done = AwaitResult("PQsendPrepare"); !done) return tl::unexpected(done.error());
    found =
        statements_.emplace(std::string(sql), Prepared{std::move(name), numbered.parameter_count})
            .first;
  }
  if (static_cast<std::size_t>(found->second.parameter_count) != param_count) {
    return core::Fail(ErrorCode::kInternal, "query has " +
                                                std::to_string(found->second.parameter_count) +
                                                " placeholders but " + std::to_string(param_count) +
                                                " parameters: " + std::string(sql));
  }
  return &found->second;
}

// Sends what libpq still buffers (the connection is non-blocking), then collects every result of
// the command: the first error wins, else the last result.
core::Result<PgResult> PgConnection::AwaitResult(std::string_view call) {
  const Clock::time_point deadline = statement_timeout_.count() > 0
                                         ? Clock::now() + statement_timeout_ + kServerGrace
                                         : Clock::time_point::max();
  if (auto flushed = Flush(deadline, call); !flushed) return tl::unexpected(flushed.error());
  PgResult error;
  PgResult last;
  for (;;) {
    while (PQisBusy(conn_.get()) != 0) {
      if (!WaitForSocket(conn_.get(), POLLIN, deadline)) return tl::unexpected(TimeoutError(call));
      if (PQconsumeInput(conn_.get()) == 0) return tl::unexpected(ConnectionError(call));
    }
    PgResult result(PQgetResult(conn_.get()));
    if (!result) break;
    switch (PQresultStatus(result.get())) {
      case PGRES_FATAL_ERROR:
      case PGRES_BAD_RESPONSE:
      case PGRES_NONFATAL_ERROR:
        if (!error) error = std::move(result);
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        // PQgetResult would return the COPY state forever; nothing here speaks COPY.
        is_usable_ = false;
        return core::Fail(ErrorCode::kInternal, std::string(call) + ": COPY is not supported");
      default: last = std::move(result); break;
    }
  }
  if (error) return tl::unexpected(ResultError(error.get(), call));
  if (!last) return tl::unexpected(ConnectionError(call));
  return last;
}

core::Result<void> PgConnection::Flush(Clock::time_point deadline, std::string_view call) {
  for (;;) {
    const int pending = PQflush(conn_.get());
    if (pending == 0) return {};
    if (pending < 0) return tl::unexpected(ConnectionError(call));
    short revents = 0;
    if (!WaitForSocket(conn_.get(), POLLIN | POLLOUT, deadline, &revents)) {
      return tl::unexpected(TimeoutError(call));
    }
    // The server may be sending (an error, a notice) while we write: read it, or both stall.
    if ((revents & POLLIN) != 0 && PQconsumeInput(conn_.get()) == 0) {
      return tl::unexpected(ConnectionError(call));
    }
  }
}

core::Error PgConnection::TimeoutError(std::string_view call) {
  // The session is mid-command with no answer: it cannot be reused.
  is_usable_ = false;
  return core::Error{ErrorCode::kUnavailable,
                     std::string(call) + ": no answer from PostgreSQL at " + server_ + " within " +
                         std::to_string((statement_timeout_ + kServerGrace).count()) + " ms"};
}

// A failure libpq reports on the connection rather than in a result.
core::Error PgConnection::ConnectionError(std::string_view call) {
  const std::string message = std::string(call) + ": " + FirstLine(PQerrorMessage(conn_.get()));
  if (PQstatus(conn_.get()) != CONNECTION_BAD) return core::Error{ErrorCode::kInternal, message};
  is_usable_ = false;
  return core::Error{ErrorCode::kUnavailable, message};
}

core::Error PgConnection::ResultError(const PGresult* result, std::string_view call) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  PostgresErrorClass error_class = ClassifyPostgresError(last_sqlstate_);
  // libpq's own errors ("server closed the connection unexpectedly") carry no SQLSTATE.
  if (PQstatus(conn_.get()) == CONNECTION_BAD) {
    error_class.code = ErrorCode::kUnavailable;
    error_class.is_connection_lost = true;
  }
  last_error_retryable_ = error_class.is_retryable;
  if (error_class.is_connection_lost) is_usable_ = false;

  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = std::string(call) + ": ";
  if (severity != nullptr && primary != nullptr) {
    message += std::string(severity) + ": " + primary;
  } else {
    message += FirstLine(PQresultErrorMessage(result));
  }
  if (!last_sqlstate_.empty()) message += " (SQLSTATE " + last_sqlstate_ + ")";
  return core::Error{error_class.code, std::move(message)};
}

// Keyword/value pairs for PQconnectStartParams: nothing needs quoting or escaping.
class ConnectionParameters {
 public:
  ConnectionParameters(const DbUrl& url, const ConnectOptions& options) {
    Add("host", url.host);
    if (url.port > 0) Add("port", std::to_string(url.port));
    Add("dbname", url.database);
    Add("user", url.user);
    Add("password", url.password);
    // Our own deadline bounds the connect (libpq's connect_timeout only applies to its blocking
    // PQconnectdb*); set it anyway, in whole seconds rounded up, so the two agree.
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(options.connect_timeout);
    Add("connect_timeout", std::to_string(std::max<std::int64_t>(1, seconds.count())));
    Add("options", "-c statement_timeout=" + std::to_string(options.statement_timeout.count()));
    // A server that vanished without closing the socket: keepalives find it while idle,
    // tcp_user_timeout while our bytes go unacknowledged.
    Add("keepalives", "1");
    Add("keepalives_idle", "5");
    Add("keepalives_interval", "2");
    Add("keepalives_count", "3");
    if (options.statement_timeout.count() > 0) {
      Add("tcp_user_timeout", std::to_string((options.statement_timeout + kServerGrace).count()));
    }
    Add("client_encoding", "UTF8");
    Add("application_name", "inkwell");
    for (const auto& [keyword, value] : settings_) {
      keywords_.push_back(keyword.c_str());
      values_.push_back(value.c_str());
    }
    keywords_.push_back(nullptr);
    values_.push_back(nullptr);
  }
  ConnectionParameters(const ConnectionParameters&) = delete;
  ConnectionParameters& operator=(const ConnectionParameters&) = delete;

  const char* const* keywords() const { return keywords_.data(); }
  const char* const* values() const { return values_.data(); }

 private:
  void Add(std::string keyword, std::string value) {
    if (!value.empty()) settings_.emplace_back(std::move(keyword), std::move(value));
  }

  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<const char*> keywords_;
  std::vector<const char*> values_;
};

// The SQLSTATE in a verbose libpq message ("...: FATAL:  28P01: password ..."), "" if none: the
// server did not answer, or refused before saying why.
std::string SqlStateIn(std::string_view message) {
  for (std::size_t at = message.find(":  "); at != std::string_view::npos;
       at = message.find(":  ", at + 1)) {
    const std::string_view code = message.substr(at + 3, 7);
    if (code.size() == 7 && code.substr(5) == ": " &&
        std::all_of(code.begin(), code.begin() + 5, [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0 || (c >= 'A' && c <= 'Z');
        })) {
      return std::string(code.substr(0, 5));
    }
  }
  return "";
}

// Why a connection attempt failed, from libpq's message: 'connection to server at "h", port p
// failed: FATAL:  28P01: password authentication failed ...' -> "password authentication ...".
std::string ConnectReason(const char* libpq_message) {
  std::string reason = FirstLine(libpq_message);
  if (reason.starts_with("connection to server")) {
    if (const std::size_t failed = reason.find("failed: "); failed != std::string::npos) {
      reason.erase(0, failed + 8);
    }
  }
  const std::string sqlstate = SqlStateIn(reason);
  if (!sqlstate.empty()) reason.erase(0, reason.find(sqlstate + ": ") + 7);
  return reason;
}

core::Error ConnectError(PGconn* conn, const DbUrl& url, const std::string& server) {
  const char* message = PQerrorMessage(conn);
  const std::string sqlstate = SqlStateIn(message != nullptr ? message : "");
  const std::string reason = ConnectReason(message);
  if (sqlstate == "3D000") {
    return core::Error{ErrorCode::kInvalidArgument, "INKWELL_DB_URL: database \"" + url.database +
                                                        "\" does not exist on " + server +
                                                        "; create it or fix the URL"};
  }
  if (sqlstate.starts_with("28") || PQconnectionNeedsPassword(conn) != 0) {
    return core::Error{ErrorCode::kInvalidArgument,
                       "INKWELL_DB_URL: PostgreSQL at " + server + " refused user \"" + url.user +
                           "\" (" + reason + "); fix the user or password in the URL"};
  }
  if (sqlstate.starts_with("42")) {  // e.g. no CONNECT privilege on the database
    return core::Error{ErrorCode::kInvalidArgument,
                       "INKWELL_DB_URL: PostgreSQL at " + server + " refused user \"" + url.user +
                           "\" on database \"" + url.database + "\" (" + reason + ")"};
  }
  // No answer, or a transient refusal: starting up, shutting down, too many clients.
  return core::Error{ErrorCode::kUnavailable, "cannot connect to PostgreSQL at " + server + ": " +
                                                  reason + "; is the server running?"};
}

}  // namespace

NumberedSql NumberPlaceholders(std::string_view sql) {
  NumberedSql out;
  out.sql.reserve(sql.size() + 16);
  std::size_t i = 0;
  while (i < sql.size()) {
    if (sql[i] == '?') {
      out.sql += '$';
      out.sql += std::to_string(++out.parameter_count);
      ++i;
      continue;
    }
    const std::size_t end = std::max(SkipLiteral(sql, i), i + 1);
    out.sql.append(sql.substr(i, end - i));
    i = end;
  }
  return out;
}

PostgresErrorClass ClassifyPostgresError(std::string_view sqlstate) {
  if (sqlstate == "23505") return {ErrorCode::kConflict, false, false};
  if (sqlstate == "40001" || sqlstate == "40P01") return {ErrorCode::kUnavailable, true, false};
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    return {ErrorCode::kUnavailable, false, true};
  }
  // Class 53 is the server short of something (connections, disk, memory); 57014 is a statement
  // cancelled by statement_timeout, after which the session is still fine.
  if (sqlstate.starts_with("53") || sqlstate == "57014") {
    return {ErrorCode::kUnavailable, false, false};
  }
  return {ErrorCode::kInternal, false, false};
}

core::Result<std::unique_ptr<SqlConnection>> ConnectPostgres(const DbUrl& url,
                                                             const ConnectOptions& options) {
  if (url.engine != DbUrl::Engine::kPostgresql) {
    return core::Fail(ErrorCode::kInvalidArgument, "not a PostgreSQL URL: " + url.Redacted());
  }
  const std::string server = url.host + ":" + std::to_string(url.port);
  const ConnectionParameters parameters(url, options);
  PgConn conn(PQconnectStartParams(parameters.keywords(), parameters.values(), 0));
  if (!conn) return core::Fail(ErrorCode::kInternal, "PQconnectStartParams: out of memory");
  // Verbose errors put the server's SQLSTATE into the message, the only place libpq reports it for
  // a failed connection attempt.
  PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);

  const Clock::time_point deadline = options.connect_timeout.count() > 0
                                         ? Clock::now() + options.connect_timeout
                                         : Clock::time_point::max();
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (PQstatus(conn.get()) != CONNECTION_BAD && state != PGRES_POLLING_OK &&
         state != PGRES_POLLING_FAILED) {
    const short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!WaitForSocket(conn.get(), events, deadline)) {
      return core::Fail(ErrorCode::kUnavailable,
                        "cannot connect to PostgreSQL at " + server + ": no answer within " +
                            std::to_string(options.connect_timeout.count()) +
                            " ms; is the server running?");
    }
    state = PQconnectPoll(conn.get());
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return tl::unexpected(ConnectError(conn.get(), url, server));
  }
  PQsetErrorVerbosity(conn.get(), PQERRORS_DEFAULT);
  PQsetNoticeReceiver(conn.get(), LogNotice, nullptr);
  // Non-blocking, so that a send to a server that stopped reading is bounded by our deadline.
  if (PQsetnonblocking(conn.get(), 1) != 0) {
    return core::Fail(ErrorCode::kInternal,
                      "PQsetnonblocking: " + FirstLine(PQerrorMessage(conn.get())));
  }
  return std::make_unique<PgConnection>(std::move(conn), server, options.statement_timeout);
}

}  // namespace inkwell::db
