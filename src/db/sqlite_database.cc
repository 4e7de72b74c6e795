#include "db/sqlite_database.h"

#include <filesystem>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include "core/string_hash.h"

namespace inkwell::db {

using core::ErrorCode;

core::Error SqliteError(sqlite3* db, int code, std::string_view call) {
  const std::string message =
      std::string(call) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY: return core::Error{ErrorCode::kUnavailable, message};
    case SQLITE_CONSTRAINT: return core::Error{ErrorCode::kConflict, message};
    default: return core::Error{ErrorCode::kInternal, message};
  }
}

// The statements of one connection that are prepared and not in use, by SQL text. Bounded: once
// kMaxTexts texts are kept, statements of a new text (an IN list of yet another length) are
// finalized after use, and no text keeps more than kMaxIdlePerText idle statements.
class StatementCache {
 public:
  StatementCache() = default;
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache() {
    for (auto& [sql, idle] : idle_) {
      for (sqlite3_stmt* statement : idle) sqlite3_finalize(statement);
    }
  }

  // The idle statements of sql, or null if it has none kept.
  std::vector<sqlite3_stmt*>* Find(std::string_view sql) {
    const auto found = idle_.find(sql);
    return found == idle_.end() ? nullptr : &found->second;  // a node's value: a stable address
  }

  // A list for sql's statements to go back to (null: the cache is full).
  std::vector<sqlite3_stmt*>* Add(std::string_view sql) {
    if (idle_.size() >= kMaxTexts) return nullptr;
    std::vector<sqlite3_stmt*>& idle = idle_[std::string(sql)];
    idle.reserve(kMaxIdlePerText);
    return &idle;
  }

  std::size_t Idle() const {
    std::size_t count = 0;
    for (const auto& [sql, idle] : idle_) count += idle.size();
    return count;
  }

  static constexpr std::size_t kMaxTexts = 128;
  static constexpr std::size_t kMaxIdlePerText = 4;

 private:
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, core::StringHash, std::equal_to<>> idle_;
};

void SqliteDatabase::Closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

void SqliteDatabase::Statement::Release::operator()(sqlite3_stmt* statement) const noexcept {
  if (idle == nullptr || idle->size() >= StatementCache::kMaxIdlePerText) {
    sqlite3_finalize(statement);
    return;
  }
  // Reset now, not when taken again: a SELECT left at a row keeps its read transaction open,
  // which holds back WAL checkpoints.
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);
  idle->push_back(statement);  // reserved: no allocation, so nothing here throws
}

SqliteDatabase::SqliteDatabase(sqlite3* db) : db_(db), cache_(std::make_unique<StatementCache>()) {}
SqliteDatabase::SqliteDatabase(SqliteDatabase&&) noexcept = default;
SqliteDatabase& SqliteDatabase::operator=(SqliteDatabase&&) noexcept = default;
SqliteDatabase::~SqliteDatabase() = default;

core::Result<SqliteDatabase> SqliteDatabase::Open(const std::string& path) {
  if (path != ":memory:") {
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      return core::Fail(ErrorCode::kUnavailable,
                        "create directory " + parent.string() + ": " + error.message());
    }
  }
  sqlite3* raw = nullptr;
  const int code =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDatabase database(raw);
  if (code != SQLITE_OK) return tl::unexpected(SqliteError(raw, code, "sqlite3_open " + path));
  sqlite3_busy_timeout(raw, 5000);
  // WAL lets readers run beside the writer; synchronous=FULL makes a commit durable before we
  // answer "registered", which the exactly-one-mail promise rests on.
  if (path != ":memory:") {
    if (auto wal = database.Execute("PRAGMA journal_mode=WAL"); !wal) {
      return tl::unexpected(wal.error());
    }
  }
  if (auto pragmas = database.Execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
      !pragmas) {
    return tl::unexpected(pragmas.error());
  }
  return database;
}

core::Result<void> SqliteDatabase::Execute(std::string_view sql) {
  if (sql.find(';') == std::string_view::npos) {
    auto statement = Prepare(sql);
    if (!statement) return tl::unexpected(statement.error());
    if (!statement->statement_) return {};  // only white space or a comment
    for (;;) {
      auto has_row = statement->Step();
      if (!has_row) return tl::unexpected(has_row.error());
      if (!*has_row) return {};
    }
  }
  char* error_text = nullptr;
  const std::string statement(sql);
  const int code = sqlite3_exec(db_.get(), statement.c_str(), nullptr, nullptr, &error_text);
  sqlite3_free(error_text);
  if (code != SQLITE_OK) return tl::unexpected(SqliteError(db_.get(), code, "sqlite3_exec"));
  return {};
}

core::Result<SqliteDatabase::Statement> SqliteDatabase::Prepare(std::string_view sql) {
  std::vector<sqlite3_stmt*>* idle = cache_ ? cache_->Find(sql) : nullptr;
  if (idle != nullptr && !idle->empty()) {
    sqlite3_stmt* reused = idle->back();
    idle->pop_back();
    return Statement(db_.get(), reused, idle);
  }
  sqlite3_stmt* raw = nullptr;
  const int code =
      sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (code != SQLITE_OK) return tl::unexpected(SqliteError(db_.get(), code, "sqlite3_prepare_v2"));
  if (idle == nullptr && cache_ && raw != nullptr) idle = cache_->Add(sql);  // only SQL that compiled
  return Statement(db_.get(), raw, idle);
}

std::size_t SqliteDatabase::IdleStatements() const { return cache_ ? cache_->Idle() : 0; }

std::int64_t SqliteDatabase::LastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }

std::int64_t SqliteDatabase::Changes() const { return sqlite3_changes(db_.get()); }

bool SqliteDatabase::IsInTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

SqliteDatabase::Statement& SqliteDatabase::Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(statement_.get(), index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

SqliteDatabase::Statement& SqliteDatabase::Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_.get(), index, value);
  return *this;
}

SqliteDatabase::Statement& SqliteDatabase::Statement::BindNull(int index) {
  sqlite3_bind_null(statement_.get(), index);
  return *this;
}

core::Result<bool> SqliteDatabase::Statement::Step() {
  const int code = sqlite3_step(statement_.get());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return tl::unexpected(SqliteError(db_, code, "sqlite3_step"));
}

std::int64_t SqliteDatabase::Statement::Int(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

std::string SqliteDatabase::Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(statement_.get(), column);
  const int length = sqlite3_column_bytes(statement_.get(), column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), length);
}

core::Result<void> SqliteDatabase::Statement::Reset() {
  sqlite3_clear_bindings(statement_.get());
  const int code = sqlite3_reset(statement_.get());
  if (code != SQLITE_OK) return tl::unexpected(SqliteError(db_, code, "sqlite3_reset"));
  return {};
}

core::Result<void> SqliteDatabase::Migrate(const std::vector<std::string>& migrations) {
  if (auto created = Execute(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
      !created) {
    return created;
  }
  // Read the version inside the write transaction: two processes opening a fresh database at
  // once must not both apply migration 1.
  if (auto begun = Execute("BEGIN IMMEDIATE"); !begun) return begun;
  auto migrate = [&]() -> core::Result<void> {
    auto current = Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) return tl::unexpected(current.error());
    auto has_row = current->Step();
    if (!has_row) return tl::unexpected(has_row.error());
    const auto applied = static_cast<std::size_t>(current->Int(0));
    if (applied > migrations.size()) {
      return core::Fail(ErrorCode::kInternal, "database schema version " + std::to_string(applied) +
                                                  " is newer than this build knows (" +
                                                  std::to_string(migrations.size()) +
                                                  "): upgrade inkwell");
    }
    for (std::size_t version = applied + 1; version <= migrations.size(); ++version) {
      const std::string script = migrations[version - 1] +
                                 ";INSERT INTO schema_migrations(version) VALUES (" +
                                 std::to_string(version) + ")";
      if (auto migrated = Execute(script); !migrated) {
        return core::Fail(migrated.error().code,
                          "migration " + std::to_string(version) + ": " + migrated.error().message);
      }
    }
    return {};
  };
  auto migrated = migrate();
  if (!migrated) {
    (void)Execute("ROLLBACK");
    return migrated;
  }
  if (auto committed = Execute("COMMIT"); !committed) {
    (void)Execute("ROLLBACK");
    return committed;
  }
  return {};
}

}  // namespace inkwell::db
