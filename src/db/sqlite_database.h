#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/c_handle.h"
#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace inkwell::db {

// One SQLite connection in WAL mode with a busy timeout. Not thread-safe: its owner serialises
// access (SQLite has one writer anyway).
class SqliteDatabase {
 public:
  // path ":memory:" for tests. Creates the parent directory of a file path.
  static core::Result<SqliteDatabase> Open(const std::string& path);

  // Runs statements without parameters or results (schema, BEGIN/COMMIT).
  core::Result<void> Execute(std::string_view sql);

  // A prepared statement; bind with 1-based indexes; Step() returns true while a row is ready.
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
    struct Finalizer {
      void operator()(sqlite3_stmt* statement) const noexcept;
    };
    Statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalizer> statement_;
  };
  core::Result<Statement> Prepare(std::string_view sql);

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
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
};

// kUnavailable for busy/locked/IO errors, kConflict for constraint violations, else kInternal.
core::Error SqliteError(sqlite3* db, int code, std::string_view call);

}  // namespace inkwell::db
