#include "db/pg_connection.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/db_url.h"
#include "db/sql_connection.h"

// The engine against a real server: scripts/postgres-node start, then
//   export INKWELL_TEST_PG_URL=$(scripts/postgres-node url)
// Each run works in its own tables, dropped at the end, so parallel runs do not collide.

namespace inkwell::db {
namespace {

using core::ErrorCode;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---- Pure parts: no server needed.

TEST(PostgresPlaceholderTest, NumbersPlaceholdersInOrder) {
  const NumberedSql numbered = NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)");

  EXPECT_EQ(numbered.sql, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(numbered.parameter_count, 3);
}

TEST(PostgresPlaceholderTest, LeavesQuestionMarksInLiteralsIdentifiersAndComments) {
  const NumberedSql numbered = NumberPlaceholders(
      "SELECT 'a?''?', E'b\\'?', \"c?\"\"?\", $$d?$$, "
      "$tag$e?$$?$tag$, ? -- f?\n"
      "/* g? /* nested? */ ? */ , ?");

  EXPECT_EQ(numbered.sql,
            "SELECT 'a?''?', E'b\\'?', \"c?\"\"?\", $$d?$$, "
            "$tag$e?$$?$tag$, $1 -- f?\n"
            "/* g? /* nested? */ ? */ , $2");
  EXPECT_EQ(numbered.parameter_count, 2);
}

TEST(PostgresPlaceholderTest, BackslashEndsNoPlainStringLiteral) {
  // standard_conforming_strings: in '...' a backslash is an ordinary character.
  const NumberedSql numbered = NumberPlaceholders("SELECT 'x\\', ?, name$1 FROM t WHERE 1 = $1");

  EXPECT_EQ(numbered.sql, "SELECT 'x\\', $1, name$1 FROM t WHERE 1 = $1");
  EXPECT_EQ(numbered.parameter_count, 1);
}

TEST(PostgresErrorClassTest, MapsSqlStatesToErrorCodes) {
  EXPECT_EQ(ClassifyPostgresError("23505").code, ErrorCode::kConflict);
  EXPECT_TRUE(ClassifyPostgresError("40P01").is_retryable);
  EXPECT_TRUE(ClassifyPostgresError("40001").is_retryable);
  EXPECT_EQ(ClassifyPostgresError("40001").code, ErrorCode::kUnavailable);
  EXPECT_TRUE(ClassifyPostgresError("08006").is_connection_lost);
  EXPECT_TRUE(ClassifyPostgresError("57P01").is_connection_lost);
  EXPECT_EQ(ClassifyPostgresError("57014").code, ErrorCode::kUnavailable);
  EXPECT_FALSE(ClassifyPostgresError("57014").is_connection_lost);
  EXPECT_EQ(ClassifyPostgresError("53300").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ClassifyPostgresError("42601").code, ErrorCode::kInternal);
  EXPECT_EQ(ClassifyPostgresError("23503").code, ErrorCode::kInternal);
  EXPECT_EQ(ClassifyPostgresError("").code, ErrorCode::kInternal);
}

// ---- Against the server.

ConnectOptions TestOptions() {
  ConnectOptions options;
  options.connect_timeout = milliseconds(3000);
  options.statement_timeout = milliseconds(10000);
  return options;
}

std::string UniqueSuffix() {
  std::random_device random;
  return std::to_string(::getpid()) + "_" + std::to_string(random() % 1000000);
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class PostgresConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("INKWELL_TEST_PG_URL");
    if (env == nullptr || *env == '\0') {
      FAIL() << "INKWELL_TEST_PG_URL is not set: run `scripts/postgres-node "
                "start` and "
                "`export INKWELL_TEST_PG_URL=$(scripts/postgres-node url)`";
    }
    auto parsed = ParseDbUrl(env);
    ASSERT_TRUE(parsed) << parsed.error().message;
    url_ = *parsed;
    table_ = "pg_test_" + UniqueSuffix();
  }

  void TearDown() override {
    if (url_.engine != DbUrl::Engine::kPostgresql) return;
    if (auto sql = ConnectPostgres(url_, TestOptions())) {
      (void)(*sql)->Execute("DROP TABLE IF EXISTS " + table_);
    }
  }

  std::unique_ptr<SqlConnection> Connect(const ConnectOptions& options = TestOptions()) {
    auto sql = ConnectPostgres(url_, options);
    EXPECT_TRUE(sql) << sql.error().message;
    return sql ? std::move(*sql) : nullptr;
  }

  // The server process behind sql.
  static std::int64_t BackendPid(SqlConnection& sql) {
    auto pid = sql.Query("SELECT pg_backend_pid()", {});
    return pid && pid->rows.size() == 1 ? pid->rows[0].Int(0) : 0;
  }

  DbUrl url_;
  std::string table_;
};

TEST_F(PostgresConnectionTest, RoundTripsIntegersTextNullUtf8AndEmptyString) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);
  ASSERT_TRUE(
      sql->Execute("CREATE TABLE " + table_ + " (id bigint PRIMARY KEY, name text, note text)"));
  const std::string insert = "INSERT INTO " + table_ + " (id, name, note) VALUES (?, ?, ?)";
  const std::string greeting = "Grüße, 世界 🎉 'quoted' \"double\" \\ back";

  auto first = sql->Query(insert, {std::int64_t{42}, greeting, std::monostate{}});
  auto second = sql->Query(insert, {std::numeric_limits<std::int64_t>::min(), std::string(), ""});
  auto third = sql->Query(insert, {std::numeric_limits<std::int64_t>::max(), "x", "y"});
  auto rows = sql->Query("SELECT id, name, note FROM " + table_ + " ORDER BY id", {});

  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(first->affected_rows, 1);
  EXPECT_EQ(first->last_insert_id, 0);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), 3u);
  EXPECT_EQ(rows->rows[0].Int(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(rows->rows[0].IsNull(1));
  EXPECT_EQ(rows->rows[0].Text(1), "");
  EXPECT_EQ(rows->rows[0].Text(2), "");
  EXPECT_EQ(rows->rows[1].Int(0), 42);
  EXPECT_EQ(rows->rows[1].Text(1), greeting);
  EXPECT_TRUE(rows->rows[1].IsNull(2));
  EXPECT_EQ(rows->rows[2].Int(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(sql->Engine(), "postgresql");
}

TEST_F(PostgresConnectionTest, ReportsAffectedRowsOfUpdatesAndReturningRows) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);
  ASSERT_TRUE(sql->Execute("CREATE TABLE " + table_ +
                           " (id bigserial PRIMARY KEY, n int NOT NULL);"
                           "INSERT INTO " +
                           table_ + " (n) VALUES (1), (2), (3)"));

  auto updated = sql->Query("UPDATE " + table_ + " SET n = n + ? WHERE n >= ?", {10, 2});
  auto inserted = sql->Query("INSERT INTO " + table_ + " (n) VALUES (?) RETURNING id", {7});
  auto none = sql->Query("DELETE FROM " + table_ + " WHERE n = ?", {-1});

  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->affected_rows, 2);
  ASSERT_TRUE(inserted) << inserted.error().message;
  ASSERT_EQ(inserted->rows.size(), 1u);
  EXPECT_EQ(inserted->rows[0].Int(0), 4);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->affected_rows, 0);
}

TEST_F(PostgresConnectionTest, QuestionMarkInsideStringLiteralIsNotAPlaceholder) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);

  auto result = sql->Query("SELECT 'why?', ?::text, $$how?$$ -- what?", {"this"});

  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->rows[0].Text(0), "why?");
  EXPECT_EQ(result->rows[0].Text(1), "this");
  EXPECT_EQ(result->rows[0].Text(2), "how?");
}

TEST_F(PostgresConnectionTest, SameSqlTwiceIsPreparedOnce) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);

  auto first = sql->Query("SELECT ?::bigint + 1", {1});
  auto second = sql->Query("SELECT ?::bigint + 1", {41});
  auto prepared = sql->Query(
      "SELECT count(*) FROM pg_prepared_statements "
      "WHERE statement = 'SELECT $1::bigint + 1'",
      {});

  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first->rows.at(0).Int(0), 2);
  EXPECT_EQ(second->rows.at(0).Int(0), 42);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->rows.at(0).Int(0), 1);
}

TEST_F(PostgresConnectionTest, UniqueViolationIsConflict) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);
  ASSERT_TRUE(sql->Execute("CREATE TABLE " + table_ + " (email text PRIMARY KEY)"));
  const std::string insert = "INSERT INTO " + table_ + " (email) VALUES (?)";
  ASSERT_TRUE(sql->Query(insert, {"ada@example.org"}));

  auto again = sql->Query(insert, {"ada@example.org"});

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict) << again.error().message;
  EXPECT_NE(again.error().message.find("23505"), std::string::npos) << again.error().message;
  EXPECT_FALSE(sql->LastErrorRetryable());
  EXPECT_TRUE(sql->IsUsable());
}

TEST_F(PostgresConnectionTest, SyntaxErrorIsInternalAndLeavesConnectionUsable) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);

  auto executed = sql->Execute("SELEC 1");
  auto queried = sql->Query("SELEC ?", {1});
  auto after = sql->Query("SELECT 1", {});

  ASSERT_FALSE(executed);
  EXPECT_EQ(executed.error().code, ErrorCode::kInternal);
  EXPECT_NE(executed.error().message.find("42601"), std::string::npos) << executed.error().message;
  ASSERT_FALSE(queried);
  EXPECT_EQ(queried.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(sql->IsUsable());
  EXPECT_TRUE(after) << after.error().message;
}

TEST_F(PostgresConnectionTest, PlaceholderCountMismatchIsInternal) {
  auto sql = Connect();
  ASSERT_NE(sql, nullptr);

  auto result = sql->Query("SELECT ?::int, ?::int", {1});

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInternal);
}

TEST_F(PostgresConnectionTest, WrongPasswordIsInvalidArgumentWithoutThePassword) {
  DbUrl url = url_;
  url.password = "not-the-password-31337";

  auto sql = ConnectPostgres(url, TestOptions());

  ASSERT_FALSE(sql);
  EXPECT_EQ(sql.error().code, ErrorCode::kInvalidArgument) << sql.error().message;
  EXPECT_NE(sql.error().message.find("password"), std::string::npos) << sql.error().message;
  EXPECT_EQ(sql.error().message.find(url.password), std::string::npos) << sql.error().message;
}

TEST_F(PostgresConnectionTest, MissingDatabaseIsInvalidArgumentNamingIt) {
  DbUrl url = url_;
  url.database = "inkwell_missing_" + UniqueSuffix();

  auto sql = ConnectPostgres(url, TestOptions());

  ASSERT_FALSE(sql);
  EXPECT_EQ(sql.error().code, ErrorCode::kInvalidArgument) << sql.error().message;
  EXPECT_NE(sql.error().message.find("\"" + url.database + "\" does not exist"), std::string::npos)
      << sql.error().message;
}

TEST_F(PostgresConnectionTest, ClosedPortIsUnavailableWithinConnectTimeout) {
  DbUrl url = url_;
  url.host = "127.0.0.1";
  url.port = ClosedPort();
  ConnectOptions options = TestOptions();
  options.connect_timeout = milliseconds(1000);

  const auto started = Clock::now();
  auto sql = ConnectPostgres(url, options);
  const auto elapsed = Clock::now() - started;

  ASSERT_FALSE(sql);
  EXPECT_EQ(sql.error().code, ErrorCode::kUnavailable) << sql.error().message;
  EXPECT_NE(sql.error().message.find("is the server running?"), std::string::npos)
      << sql.error().message;
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST_F(PostgresConnectionTest, ServerThatNeverAnswersIsUnavailableAfterConnectTimeout) {
  // A listening socket nobody accepts on: the TCP handshake succeeds, then silence.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  DbUrl url = url_;
  url.host = "127.0.0.1";
  url.port = ntohs(address.sin_port);
  ConnectOptions options = TestOptions();
  options.connect_timeout = milliseconds(500);

  const auto started = Clock::now();
  auto sql = ConnectPostgres(url, options);
  const auto elapsed = Clock::now() - started;
  ::close(listener);

  ASSERT_FALSE(sql);
  EXPECT_EQ(sql.error().code, ErrorCode::kUnavailable) << sql.error().message;
  EXPECT_GE(elapsed, milliseconds(450));
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST_F(PostgresConnectionTest, StatementTimeoutIsUnavailableAndConnectionStaysUsable) {
  ConnectOptions options = TestOptions();
  options.statement_timeout = milliseconds(300);
  auto sql = Connect(options);
  ASSERT_NE(sql, nullptr);

  const auto started = Clock::now();
  auto slept = sql->Query("SELECT pg_sleep(?)", {5});
  const auto elapsed = Clock::now() - started;
  auto after = sql->Query("SELECT 1", {});

  ASSERT_FALSE(slept);
  EXPECT_EQ(slept.error().code, ErrorCode::kUnavailable) << slept.error().message;
  EXPECT_NE(slept.error().message.find("57014"), std::string::npos) << slept.error().message;
  EXPECT_LT(elapsed, milliseconds(1200));
  EXPECT_FALSE(sql->LastErrorRetryable());
  EXPECT_TRUE(sql->IsUsable());
  EXPECT_TRUE(after) << after.error().message;
}

TEST_F(PostgresConnectionTest, TerminatedBackendIsUnavailableAndUnusable) {
  auto victim = Connect();
  auto killer = Connect();
  ASSERT_NE(victim, nullptr);
  ASSERT_NE(killer, nullptr);
  const std::int64_t pid = BackendPid(*victim);
  ASSERT_GT(pid, 0);

  // The second argument makes pg_terminate_backend wait (ms) until the backend has exited.
  auto terminated = killer->Query("SELECT pg_terminate_backend(?, 5000)", {pid});
  auto lost = victim->Query("SELECT 1", {});
  auto later = victim->Execute("SELECT 1");

  ASSERT_TRUE(terminated) << terminated.error().message;
  EXPECT_EQ(terminated->rows.at(0).Text(0), "t");
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable) << lost.error().message;
  EXPECT_FALSE(victim->IsUsable());
  EXPECT_FALSE(victim->LastErrorRetryable());
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, ErrorCode::kUnavailable) << later.error().message;
}

// Resumes a stopped process when the test ends, however it ends.
struct ResumeOnExit {
  pid_t pid;
  ~ResumeOnExit() { ::kill(pid, SIGCONT); }
};

TEST_F(PostgresConnectionTest, ServerThatStopsAnsweringIsUnavailableAfterDeadline) {
  ConnectOptions options = TestOptions();
  options.statement_timeout = milliseconds(300);
  auto sql = Connect(options);
  auto admin = Connect();
  ASSERT_NE(sql, nullptr);
  ASSERT_NE(admin, nullptr);
  const auto pid = static_cast<pid_t>(BackendPid(*sql));
  ASSERT_GT(pid, 0);
  // A frozen backend stands in for a dead host: the socket stays open, nothing answers.
  if (::kill(pid, SIGSTOP) != 0) GTEST_SKIP() << "cannot signal the server's backend (not root?)";
  {
    const ResumeOnExit resume{pid};

    const auto started = Clock::now();
    auto result = sql->Query("SELECT 1", {});
    const auto elapsed = Clock::now() - started;

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << result.error().message;
    EXPECT_FALSE(sql->IsUsable());
    EXPECT_LT(elapsed, milliseconds(2500));
  }
  sql.reset();
  // Closing the socket ends the resumed backend; make sure, without a warning if it is gone.
  (void)admin->Query(
      "SELECT pg_terminate_backend(pid, 5000) FROM "
      "pg_stat_activity WHERE pid = ?",
      {std::int64_t{pid}});
}

TEST_F(PostgresConnectionTest, DeadlockBetweenTwoConnectionsIsRetryableOnOneSide) {
  auto setup = Connect();
  auto first = Connect();
  auto second = Connect();
  ASSERT_NE(setup, nullptr);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(setup->Execute("CREATE TABLE " + table_ + " (id int PRIMARY KEY, n int);" +
                             "INSERT INTO " + table_ + " VALUES (1, 0), (2, 0)"));
  const std::string update = "UPDATE " + table_ + " SET n = n + 1 WHERE id = ?";
  const std::int64_t first_pid = BackendPid(*first);
  ASSERT_TRUE(first->Execute("BEGIN"));
  ASSERT_TRUE(first->Query(update, {1}));
  ASSERT_TRUE(second->Execute("BEGIN"));
  ASSERT_TRUE(second->Query(update, {2}));

  // first waits for row 2 in another thread; second then asks for row 1: a cycle.
  auto first_outcome = std::async(std::launch::async, [&] {
    auto result = first->Query(update, {2});
    return std::make_pair(result.has_value() ? std::optional<core::Error>() : result.error(),
                          first->LastErrorRetryable());
  });
  bool is_first_waiting = false;
  for (int i = 0; i < 100 && !is_first_waiting; ++i) {
    auto waiting = setup->Query(
        "SELECT count(*) FROM pg_stat_activity WHERE "
        "pid = ? AND wait_event_type = 'Lock'",
        {first_pid});
    is_first_waiting = waiting && waiting->rows.at(0).Int(0) == 1;
    if (!is_first_waiting) std::this_thread::sleep_for(milliseconds(20));
  }
  auto second_result = second->Query(update, {1});
  const bool is_second_retryable = second->LastErrorRetryable();
  const auto [first_error, is_first_retryable] = first_outcome.get();
  (void)first->Execute("ROLLBACK");
  (void)second->Execute("ROLLBACK");

  EXPECT_TRUE(is_first_waiting);
  ASSERT_NE(first_error.has_value(), !second_result.has_value())
      << "exactly one side must lose the deadlock";
  const core::Error& lost = first_error ? *first_error : second_result.error();
  EXPECT_EQ(lost.code, ErrorCode::kUnavailable) << lost.message;
  EXPECT_NE(lost.message.find("40P01"), std::string::npos) << lost.message;
  EXPECT_TRUE(first_error ? is_first_retryable : is_second_retryable);
  EXPECT_FALSE(first_error ? is_second_retryable : is_first_retryable);
  EXPECT_TRUE(first->IsUsable());
  EXPECT_TRUE(second->IsUsable());
}

}  // namespace
}  // namespace inkwell::db
