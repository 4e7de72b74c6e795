#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/c_handle.h"
#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace inkwell::db {

class StatementCache;

// One SQLite connection in WAL mode with a busy timeout. Not thread-safe: its owner serialises
// access (SQLite has one writer anyway).
class SqliteDatabase {
 public:
  // path ":memory:" for tests. Creates the parent directory of a file path.
  static core::Result<SqliteDatabase> Open(const std::string& path);
  SqliteDatabase(SqliteDatabase&&) noexcept;
  SqliteDatabase& operator=(SqliteDatabase&&) noexcept;
  ~SqliteDatabase();

  // Runs statements without parameters or results (schema, BEGIN/COMMIT). One statement (no
  // ';') is kept prepared like Prepare's: a group commit runs BEGIN, SAVEPOINT, RELEASE and
  // COMMIT for every batch.
  core::Result<void> Execute(std::string_view sql);

  // A prepared statement; bind with 1-based indexes; Step() returns true while a row is ready.
  // Destroying it resets it and gives it back to its connection's cache, so it must not outlive
  // the SqliteDatabase and is destroyed by whoever holds the connection.
  class Statement {
   public:
    Statement& Bind(int index, std::string_view text);
    Statement& Bind(int index, std::int64_t value);
    Statement& BindNull(int index);
    core::Result<bool> Step();
    std::int64_t Int(int column) const;
    std::string Text(int column) const;
    core::Result<void> Reset();

   private:
    friend class SqliteDatabase;
    // Resets the statement and keeps it in `idle` (its SQL's list in the cache), or finalizes
    // it when there is no list or the list is full.
    struct Release {
      std::vector<sqlite3_stmt*>* idle = nullptr;
      void operator()(sqlite3_stmt* statement) const noexcept;
    };
    Statement(sqlite3* db, sqlite3_stmt* statement, std::vector<sqlite3_stmt*>* idle)
        : db_(db), statement_(statement, Release{idle}) {}
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Release> statement_;
  };
  // Prepares sql, or takes a statement prepared from the same text before and given back:
  // parsing and planning a statement cost about as much as running a simple one.
  core::Result<Statement> Prepare(std::string_view sql);

  // Statements prepared and given back, kept for the next Prepare of the same SQL.
  std::size_t IdleStatements() const;

  std::int64_t LastInsertId() const;
  // True between BEGIN and COMMIT/ROLLBACK. SQLite may roll a transaction back by itself when a
  // statement fails (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY); this then says false.
  bool IsInTransaction() const;
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  std::int64_t Changes() const;

  // Applies, in order, the migrations whose version is above the recorded one, each in its own
  // transaction, recording it in schema_migrations.
  core::Result<void> Migrate(const std::vector<std::string>& migrations);

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept;
  };
  explicit SqliteDatabase(sqlite3* db);
  std::unique_ptr<sqlite3, Closer> db_;
  // After db_, so destroyed first: its statements are finalized before the connection closes.
  // Behind a pointer so that a moved SqliteDatabase keeps the address its statements return to.
  std::unique_ptr<StatementCache> cache_;
};

// kUnavailable for busy/locked/IO errors, kConflict for constraint violations, else kInternal.
core::Error SqliteError(sqlite3* db, int code, std::string_view call);

}  // namespace inkwell::db
