#include "db/store.h"

#include <algorithm>

#include "db/db_url.h"
#include "db/server_store.h"
#include "db/sqlite_database.h"
#include "db/sqlite_store.h"

#include <filesystem>

namespace inkwell::db {

core::Result<std::unique_ptr<Store>> OpenStore(const std::string& url,
                                               std::size_t server_connections) {
  auto parsed = ParseDbUrl(url);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->engine == DbUrl::Engine::kSqlite) {
    auto store = SqliteStore::Open(parsed->path);
    if (!store) return tl::unexpected(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  ServerStore::Options options;
  options.pool_size = std::max<std::size_t>(1, server_connections);
  auto store = ServerStore::Open(*parsed, options);
  if (!store) return tl::unexpected(store.error());
  return std::unique_ptr<Store>(std::move(*store));
}

namespace {

core::Result<SchemaStatus> SqliteStatus(const std::string& path) {
  SchemaStatus status{"sqlite", 0, static_cast<int>(SqliteStore::Migrations().size())};
  if (path != ":memory:" && !std::filesystem::exists(path)) return status;
  auto database = SqliteDatabase::Open(path);
  if (!database) return tl::unexpected(database.error());
  auto table = database->Prepare(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!table) return tl::unexpected(table.error());
  if (auto has_row = table->Step(); !has_row) return tl::unexpected(has_row.error());
  if (table->Int(0) == 0) return status;
  auto version = database->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!version) return tl::unexpected(version.error());
  if (auto has_row = version->Step(); !has_row) return tl::unexpected(has_row.error());
  status.current = static_cast<int>(version->Int(0));
  return status;
}

}  // namespace

core::Result<SchemaStatus> ReadSchemaStatus(const std::string& url) {
  auto parsed = ParseDbUrl(url);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->engine == DbUrl::Engine::kSqlite) return SqliteStatus(parsed->path);
  ServerStore::Options options;
  options.pool_size = 1;
  auto store = ServerStore::Open(*parsed, options, /*migrate=*/false);
  if (!store) return tl::unexpected(store.error());
  return (*store)->Status();
}

core::Result<SchemaStatus> MigrateSchema(const std::string& url) {
  auto parsed = ParseDbUrl(url);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->engine == DbUrl::Engine::kSqlite) {
    auto store = SqliteStore::Open(parsed->path);
    if (!store) return tl::unexpected(store.error());
    return SqliteStatus(parsed->path);
  }
  ServerStore::Options options;
  options.pool_size = 1;
  auto store = ServerStore::Open(*parsed, options);
  if (!store) return tl::unexpected(store.error());
  return (*store)->Status();
}

}  // namespace inkwell::db
