// Runs against a real MariaDB server: scripts/mariadb-node start, then
// INKWELL_TEST_MYSQL_URL=$(scripts/mariadb-node url). Each test makes its own tables (named after
// the process id, so that runs can overlap) and drops them at the end.
#include <array>
#include <chrono>
#include <cstdlib>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/db_url.h"
#include "db/sql_connection.h"

namespace inkwell::db {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A TCP socket on 127.0.0.1 that is bound (so no one else takes the port) and, if asked, listens
// without ever accepting: the handshake completes but no server greeting follows.
class LocalSocket {
 public:
  explicit LocalSocket(bool is_listening) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (fd_ < 0 || bind(fd_, generic, size) != 0 || getsockname(fd_, generic, &size) != 0 ||
        (is_listening && listen(fd_, 1) != 0)) {
      ADD_FAILURE() << "cannot set up a local socket";
    }
    port_ = ntohs(address.sin_port);
  }
  LocalSocket(const LocalSocket&) = delete;
  LocalSocket& operator=(const LocalSocket&) = delete;
  ~LocalSocket() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

class MysqlConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no thread sets the environment
    const char* url = std::getenv("INKWELL_TEST_MYSQL_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_FAIL() << "INKWELL_TEST_MYSQL_URL is not set. Run `scripts/mariadb-node start` and "
                      "export INKWELL_TEST_MYSQL_URL=$(scripts/mariadb-node url)";
    }
    auto parsed = ParseDbUrl(url);
    ASSERT_TRUE(parsed) << parsed.error().message;
    url_ = *parsed;
    connection_ = Connect();
    ASSERT_NE(connection_, nullptr);
  }

  void TearDown() override {
    if (tables_.empty()) return;
    auto cleaner = Connect();
    ASSERT_NE(cleaner, nullptr);
    for (const std::string& table : tables_) {
      EXPECT_TRUE(cleaner->Execute("DROP TABLE IF EXISTS " + table));
    }
  }

  std::unique_ptr<SqlConnection> Connect(ConnectOptions options = TestOptions()) {
    auto connection = ConnectMysql(url_, options);
    EXPECT_TRUE(connection) << connection.error().message;
    return connection ? std::move(*connection) : nullptr;
  }

  static ConnectOptions TestOptions() {
    return ConnectOptions{.connect_timeout = milliseconds(3000),
                          .statement_timeout = milliseconds(5000)};
  }

  // Creates a table with a name unique to this process and test; TearDown drops it.
  std::string CreateTable(const std::string& columns) {
    static int counter = 0;
    std::string name = "mysql_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    tables_.push_back(name);
    auto created = connection_->Execute("CREATE TABLE " + name + " (" + columns +
                                        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    EXPECT_TRUE(created) << created.error().message;
    return name;
  }

  // A table of two rows (id 1 and 2) for the locking tests.
  std::string CreateTwoRowTable() {
    std::string table = CreateTable("id BIGINT PRIMARY KEY, n BIGINT NOT NULL");
    EXPECT_TRUE(connection_->Query("INSERT INTO " + table + " VALUES (1, 0), (2, 0)", {}));
    return table;
  }

  DbUrl url_;
  std::unique_ptr<SqlConnection> connection_;
  std::vector<std::string> tables_;
};

TEST_F(MysqlConnectionTest, RoundTripsIntegersTextNullUtf8EmptyAndLongText) {
  const std::string table =
      CreateTable("id BIGINT AUTO_INCREMENT PRIMARY KEY, number BIGINT NULL, body LONGTEXT NULL");
  std::string long_text;
  for (int i = 0; long_text.size() < std::size_t{100} * 1024; ++i)
    long_text += std::to_string(i) + "é,";
  const std::vector<SqlValue> numbers = {std::int64_t{INT64_MIN}, std::int64_t{INT64_MAX},
                                         std::int64_t{0}, std::monostate{}, std::int64_t{-7}};
  const std::vector<SqlValue> bodies = {std::string("plain"), std::string("héllo 🎉 ✓"),
                                        std::string(), long_text, std::monostate{}};
  const std::string insert = "INSERT INTO " + table + " (number, body) VALUES (?, ?)";

  for (std::size_t i = 0; i < numbers.size(); ++i) {
    auto inserted = connection_->Query(insert, {numbers[i], bodies[i]});
    ASSERT_TRUE(inserted) << inserted.error().message;
  }
  auto selected = connection_->Query("SELECT number, body FROM " + table + " ORDER BY id", {});

  ASSERT_TRUE(selected) << selected.error().message;
  ASSERT_EQ(selected->rows.size(), 5u);
  const std::vector<SqlRow>& rows = selected->rows;
  EXPECT_EQ(rows[0].Int(0), INT64_MIN);
  EXPECT_EQ(rows[0].Text(1), "plain");
  EXPECT_EQ(rows[1].Int(0), INT64_MAX);
  EXPECT_EQ(rows[1].Text(1), "héllo 🎉 ✓");
  EXPECT_EQ(rows[2].columns[0], "0");
  EXPECT_FALSE(rows[2].IsNull(1));
  EXPECT_EQ(rows[2].columns[1], "");
  EXPECT_TRUE(rows[3].IsNull(0));
  EXPECT_EQ(rows[3].columns[1]->size(), long_text.size());
  EXPECT_TRUE(rows[3].columns[1] == long_text);
  EXPECT_EQ(rows[4].Int(0), -7);
  EXPECT_TRUE(rows[4].IsNull(1));
}

TEST_F(MysqlConnectionTest, SelectsParametersAndExpressionsAsText) {
  auto selected =
      connection_->Query("SELECT ?, ?, ?, 1.5, CHAR_LENGTH(?), NULL",
                         {std::int64_t{42}, std::string("🎉"), std::monostate{}, std::string("🎉")});

  ASSERT_TRUE(selected) << selected.error().message;
  ASSERT_EQ(selected->rows.size(), 1u);
  const SqlRow& row = selected->rows[0];
  EXPECT_EQ(row.Int(0), 42);
  EXPECT_EQ(row.Text(1), "🎉");
  EXPECT_TRUE(row.IsNull(2));
  EXPECT_EQ(row.Text(3), "1.5");
  EXPECT_EQ(row.Int(4), 1);  // one character: the connection speaks utf8mb4
  EXPECT_TRUE(row.IsNull(5));
  EXPECT_EQ(connection_->Engine(), "mysql");
}

TEST_F(MysqlConnectionTest, PreparesEachSqlTextOnce) {
  const std::string count_prepares =
      "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
      "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'";
  auto before = connection_->Query(count_prepares, {});
  ASSERT_TRUE(before) << before.error().message;

  for (std::int64_t i = 0; i < 5; ++i) {
    auto selected = connection_->Query("SELECT ? + 1", {i});
    ASSERT_TRUE(selected) << selected.error().message;
    EXPECT_EQ(selected->rows.at(0).Int(0), i + 1);
  }
  auto after = connection_->Query(count_prepares, {});

  ASSERT_TRUE(after) << after.error().message;
  // One prepare for "SELECT ? + 1"; the counting statement itself was cached before.
  EXPECT_EQ(after->rows.at(0).Int(0), before->rows.at(0).Int(0) + 1);
}

TEST_F(MysqlConnectionTest, ReportsLastInsertIdAndMatchedRows) {
  const std::string table = CreateTable("id BIGINT AUTO_INCREMENT PRIMARY KEY, n BIGINT");
  const std::string insert = "INSERT INTO " + table + " (n) VALUES (?)";

  auto first = connection_->Query(insert, {std::int64_t{7}});
  auto second = connection_->Query(insert, {std::int64_t{7}});
  // Sets n to the value it already has: PostgreSQL and SQLite count matched rows; so do we.
  auto unchanged = connection_->Query("UPDATE " + table + " SET n = ? WHERE n = ?",
                                      {std::int64_t{7}, std::int64_t{7}});

  ASSERT_TRUE(first && second && unchanged);
  EXPECT_EQ(first->last_insert_id, 1);
  EXPECT_EQ(first->affected_rows, 1);
  EXPECT_EQ(second->last_insert_id, 2);
  EXPECT_EQ(unchanged->affected_rows, 2);
}

TEST_F(MysqlConnectionTest, DuplicateKeyIsConflict) {
  const std::string table = CreateTable("email VARCHAR(190) NOT NULL UNIQUE");
  const std::string insert = "INSERT INTO " + table + " (email) VALUES (?)";
  ASSERT_TRUE(connection_->Query(insert, {std::string("ada@example.org")}));

  auto duplicate = connection_->Query(insert, {std::string("ada@example.org")});

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, core::ErrorCode::kConflict);
  EXPECT_NE(duplicate.error().message.find("mysql_stmt_execute: Duplicate entry"),
            std::string::npos)
      << duplicate.error().message;
  EXPECT_FALSE(connection_->LastErrorRetryable());
  EXPECT_TRUE(connection_->IsUsable());
}

TEST_F(MysqlConnectionTest, SyntaxErrorIsInternalAndTheConnectionStaysUsable) {
  auto bad_query = connection_->Query("SELEC ?", {std::int64_t{1}});
  auto bad_execute = connection_->Execute("CREAT TABLE nothing (id INT)");
  auto good = connection_->Query("SELECT 1", {});

  ASSERT_FALSE(bad_query);
  EXPECT_EQ(bad_query.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(bad_query.error().message.find("mysql_stmt_prepare"), std::string::npos);
  ASSERT_FALSE(bad_execute);
  EXPECT_EQ(bad_execute.error().code, core::ErrorCode::kInternal);
  EXPECT_TRUE(connection_->IsUsable());
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->rows.at(0).Int(0), 1);
}

TEST_F(MysqlConnectionTest, WrongParameterCountIsInternal) {
  auto selected = connection_->Query("SELECT ?, ?", {std::int64_t{1}});

  ASSERT_FALSE(selected);
  EXPECT_EQ(selected.error().code, core::ErrorCode::kInternal);
  EXPECT_TRUE(connection_->IsUsable());
}

TEST_F(MysqlConnectionTest, WrongPasswordIsInvalidArgumentWithoutThePassword) {
  DbUrl url = url_;
  url.password = "not-the-password-3f9a";

  auto connection = ConnectMysql(url, TestOptions());

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(connection.error().message.find("fix the user or password"), std::string::npos)
      << connection.error().message;
  EXPECT_EQ(connection.error().message.find(url.password), std::string::npos);
}

TEST_F(MysqlConnectionTest, UnknownUserIsInvalidArgument) {
  DbUrl url = url_;
  url.user = "nobody_" + std::to_string(getpid());

  auto connection = ConnectMysql(url, TestOptions());

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kInvalidArgument)
      << connection.error().message;
}

TEST_F(MysqlConnectionTest, MissingDatabaseIsInvalidArgumentNamingIt) {
  DbUrl url = url_;
  url.database = "inkwell_missing_" + std::to_string(getpid());

  auto connection = ConnectMysql(url, TestOptions());

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(connection.error().message.find("database '" + url.database + "' does not exist"),
            std::string::npos)
      << connection.error().message;
}

TEST_F(MysqlConnectionTest, ClosedPortIsUnavailable) {
  const LocalSocket closed(/*is_listening=*/false);
  DbUrl url = url_;
  url.host = "127.0.0.1";
  url.port = closed.port();

  const auto started = steady_clock::now();
  auto connection = ConnectMysql(url, TestOptions());

  EXPECT_LT(steady_clock::now() - started, milliseconds(3000));
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(connection.error().message.find("is the server running?"), std::string::npos)
      << connection.error().message;
}

TEST_F(MysqlConnectionTest, SilentServerIsUnavailableWithinTheConnectTimeout) {
  const LocalSocket silent(/*is_listening=*/true);
  DbUrl url = url_;
  url.host = "127.0.0.1";
  url.port = silent.port();
  ConnectOptions options = TestOptions();
  options.connect_timeout = milliseconds(1000);

  const auto started = steady_clock::now();
  auto connection = ConnectMysql(url, options);
  const auto elapsed = steady_clock::now() - started;

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kUnavailable) << connection.error().message;
  EXPECT_GE(elapsed, milliseconds(900));
  EXPECT_LT(elapsed, milliseconds(2500));
}

TEST_F(MysqlConnectionTest, StatementOverTheTimeoutIsUnavailableAndTheConnectionSurvives) {
  ConnectOptions options = TestOptions();
  options.statement_timeout = milliseconds(1000);
  auto connection = Connect(options);
  ASSERT_NE(connection, nullptr);

  const auto started = steady_clock::now();
  auto slow = connection->Query("SELECT SLEEP(?)", {std::int64_t{5}});
  const auto elapsed = steady_clock::now() - started;
  auto next = connection->Query("SELECT 1", {});

  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, core::ErrorCode::kUnavailable) << slow.error().message;
  EXPECT_LT(elapsed, milliseconds(2500));
  EXPECT_FALSE(connection->LastErrorRetryable());
  EXPECT_TRUE(connection->IsUsable());
  EXPECT_TRUE(next) << next.error().message;
}

TEST_F(MysqlConnectionTest, KilledConnectionIsUnavailableAndUnusable) {
  auto victim = Connect();
  ASSERT_NE(victim, nullptr);
  auto id = victim->Query("SELECT CONNECTION_ID()", {});
  ASSERT_TRUE(id) << id.error().message;

  ASSERT_TRUE(connection_->Execute("KILL CONNECTION " + id->rows.at(0).Text(0)));
  auto after_kill = victim->Query("SELECT CONNECTION_ID()", {});
  auto again = victim->Execute("SELECT 1");

  ASSERT_FALSE(after_kill);
  EXPECT_EQ(after_kill.error().code, core::ErrorCode::kUnavailable) << after_kill.error().message;
  EXPECT_FALSE(victim->IsUsable());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kUnavailable);
}

// One side of the deadlock: how its second UPDATE ended.
struct LockOutcome {
  bool is_ok = false;
  core::ErrorCode code = core::ErrorCode::kInternal;
  bool is_retryable = false;
  std::string message;
};

TEST_F(MysqlConnectionTest, DeadlockBetweenTwoConnectionsIsRetryableForOneOfThem) {
  const std::string table = CreateTwoRowTable();
  const std::string update = "UPDATE " + table + " SET n = n + 1 WHERE id = ?";
  std::vector<std::unique_ptr<SqlConnection>> sides;
  for (int i = 0; i < 2; ++i) {
    sides.push_back(Connect());
    ASSERT_NE(sides.back(), nullptr);
    // Bounds the test if deadlock detection ever failed to fire.
    ASSERT_TRUE(sides.back()->Execute("SET SESSION innodb_lock_wait_timeout = 5"));
  }
  std::latch both_hold_a_row(2);
  std::array<LockOutcome, 2> outcomes;

  auto lock_in_order = [&](int side, std::int64_t first, std::int64_t second) {
    SqlConnection& sql = *sides[side];
    const bool is_locked = sql.Execute("BEGIN") && sql.Query(update, {first});
    both_hold_a_row.arrive_and_wait();
    if (!is_locked) return;
    auto updated = sql.Query(update, {second});
    outcomes[side] = updated ? LockOutcome{true, core::ErrorCode::kInternal, false, ""}
                             : LockOutcome{false, updated.error().code, sql.LastErrorRetryable(),
                                           updated.error().message};
    (void)sql.Execute(updated ? "COMMIT" : "ROLLBACK");
  };
  std::thread one(lock_in_order, 0, 1, 2);
  std::thread other(lock_in_order, 1, 2, 1);
  one.join();
  other.join();

  ASSERT_NE(outcomes[0].is_ok, outcomes[1].is_ok)
      << outcomes[0].message << " / " << outcomes[1].message;
  const LockOutcome& victim = outcomes[0].is_ok ? outcomes[1] : outcomes[0];
  EXPECT_EQ(victim.code, core::ErrorCode::kUnavailable) << victim.message;
  EXPECT_TRUE(victim.is_retryable) << victim.message;
  EXPECT_NE(victim.message.find("(1213)"), std::string::npos) << victim.message;
  auto counts = connection_->Query("SELECT SUM(n) FROM " + table, {});
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->rows.at(0).Int(0), 2);  // only the survivor's two updates
}

TEST_F(MysqlConnectionTest, LockWaitTimeoutIsRetryableAndRollsBackTheWholeTransaction) {
  const std::string table = CreateTwoRowTable();
  auto holder = Connect();
  auto waiter = Connect();
  ASSERT_TRUE(holder && waiter);
  ASSERT_TRUE(waiter->Execute("SET SESSION innodb_lock_wait_timeout = 1"));
  ASSERT_TRUE(holder->Execute("BEGIN"));
  ASSERT_TRUE(holder->Query("UPDATE " + table + " SET n = 1 WHERE id = 1", {}));
  ASSERT_TRUE(waiter->Execute("BEGIN"));
  ASSERT_TRUE(waiter->Query("INSERT INTO " + table + " VALUES (?, 0)", {std::int64_t{3}}));

  auto blocked = waiter->Query("UPDATE " + table + " SET n = 2 WHERE id = ?", {std::int64_t{1}});
  const bool is_retryable = waiter->LastErrorRetryable();
  auto in_transaction = waiter->Query("SELECT @@in_transaction", {});
  ASSERT_TRUE(holder->Execute("ROLLBACK"));
  auto inserted = connection_->Query("SELECT COUNT(*) FROM " + table + " WHERE id = 3", {});

  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, core::ErrorCode::kUnavailable) << blocked.error().message;
  EXPECT_TRUE(is_retryable);
  ASSERT_TRUE(in_transaction && inserted);
  EXPECT_EQ(in_transaction->rows.at(0).Int(0), 0);
  EXPECT_EQ(inserted->rows.at(0).Int(0), 0);  // the insert before the timeout is gone too
}

TEST_F(MysqlConnectionTest, ConnectionsInSeveralThreadsWorkIndependently) {
  constexpr int kThreads = 4;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto connection = ConnectMysql(url_, TestOptions());
      if (!connection) {
        failures[t] = connection.error().message;
        return;
      }
      for (std::int64_t i = 0; i < 50; ++i) {
        auto selected = (*connection)->Query("SELECT ? * 2", {i});
        if (!selected || selected->rows.at(0).Int(0) != i * 2) {
          failures[t] = selected ? "wrong result" : selected.error().message;
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace inkwell::db
