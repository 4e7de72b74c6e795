#include "db/db_url.h"

#include <charconv>
#include <optional>

#include "core/percent_decode.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;

core::Error BadUrl(std::string_view why, std::string_view form) {
  return core::Error{ErrorCode::kInvalidArgument,
                     "INKWELL_DB_URL: " + std::string(why) + "; expected " + std::string(form)};
}

}  // namespace

std::string_view EngineName(DbUrl::Engine engine) {
  switch (engine) {
    case DbUrl::Engine::kSqlite: return "sqlite";
    case DbUrl::Engine::kMysql: return "mysql";
    case DbUrl::Engine::kPostgresql: break;
  }
  return "postgresql";
}

std::string DbUrl::Redacted() const {
  if (engine == Engine::kSqlite) return "sqlite:" + path;
  std::string url = std::string(EngineName(engine)) + "://";
  if (!user.empty()) url += user + (password.empty() ? "" : ":***") + "@";
  return url + host + ":" + std::to_string(port) + "/" + database;
}

core::Result<DbUrl> ParseDbUrl(std::string_view url) {
  DbUrl parsed;
  if (url.starts_with("sqlite:")) {
    parsed.path = std::string(url.substr(7));
    if (parsed.path.empty()) return tl::unexpected(BadUrl("the SQLite path is empty", "sqlite:PATH"));
    return parsed;
  }
  std::string_view rest;
  std::string_view form;
  if (url.starts_with("mysql://") || url.starts_with("mariadb://")) {
    parsed.engine = DbUrl::Engine::kMysql;
    parsed.port = 3306;
    rest = url.substr(url.find("://") + 3);
    form = "mysql://USER:PASSWORD@HOST:PORT/DATABASE";
  } else if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    parsed.engine = DbUrl::Engine::kPostgresql;
    parsed.port = 5432;
    rest = url.substr(url.find("://") + 3);
    form = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";
  } else {
    const std::size_t colon = url.find(':');
    const std::string scheme(url.substr(0, colon == std::string_view::npos ? url.size() : colon));
    return tl::unexpected(core::Error{
        ErrorCode::kInvalidArgument,
        "INKWELL_DB_URL: unknown scheme '" + scheme +
            "'; use sqlite:PATH, mysql://USER:PASSWORD@HOST:PORT/DATABASE or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"});
  }
  if (rest.find('?') != std::string_view::npos || rest.find('#') != std::string_view::npos) {
    return tl::unexpected(BadUrl("query parameters are not supported", form));
  }
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return tl::unexpected(BadUrl("the database name is missing", form));
  }
  auto database = core::PercentDecode(rest.substr(slash + 1));
  if (!database || database->find('/') != std::string::npos) {
    return tl::unexpected(BadUrl("the database name is malformed", form));
  }
  parsed.database = std::move(*database);
  std::string_view authority = rest.substr(0, slash);
  // The last '@' ends the credentials: a password may contain '@' only percent-encoded, but be
  // lenient about a raw one.
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = credentials.find(':');
    auto user = core::PercentDecode(credentials.substr(0, colon));
    auto password = colon == std::string_view::npos
                        ? std::optional<std::string>("")
                        : core::PercentDecode(credentials.substr(colon + 1));
    if (!user || !password) {
      return tl::unexpected(BadUrl("a malformed %-escape in the user or password", form));
    }
    parsed.user = std::move(*user);
    parsed.password = std::move(*password);
  }
  if (parsed.user.empty()) return tl::unexpected(BadUrl("the user name is missing", form));
  std::string_view host = authority;
  if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos &&
                                                     authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return tl::unexpected(BadUrl("the port '" + std::string(port) + "' is not 1-65535", form));
    }
    parsed.port = value;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return tl::unexpected(BadUrl("the host is missing", form));
  parsed.host = std::string(host);
  return parsed;
}

}  // namespace inkwell::db
