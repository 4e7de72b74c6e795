#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace inkwell::db {

// A parsed INKWELL_DB_URL:
//   sqlite:PATH                                         (relative to the working directory)
//   mysql://USER:PASSWORD@HOST:PORT/DATABASE            (also mariadb://; port default 3306)
//   postgresql://USER:PASSWORD@HOST:PORT/DATABASE       (also postgres://; port default 5432)
// User and password may be percent-encoded (%40 for @).
struct DbUrl {
  enum class Engine { kSqlite, kMysql, kPostgresql };
  Engine engine = Engine::kSqlite;
  std::string path;  // kSqlite
  std::string user;
  std::string password;
  std::string host;
  int port = 0;
  std::string database;

  // The URL with the password replaced by "***", for logs and error messages.
  std::string Redacted() const;
};

// kInvalidArgument with a message that shows the expected form.
core::Result<DbUrl> ParseDbUrl(std::string_view url);

std::string_view EngineName(DbUrl::Engine engine);  // "sqlite", "mysql", "postgresql"

}  // namespace inkwell::db
