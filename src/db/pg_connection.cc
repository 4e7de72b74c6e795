// Placeholder until the PostgreSQL engine lands.
#include "db/sql_connection.h"

namespace inkwell::db {

core::Result<std::unique_ptr<SqlConnection>> ConnectPostgres(const DbUrl&, const ConnectOptions&) {
  return core::Fail(core::ErrorCode::kInternal, "the PostgreSQL engine is not built yet");
}

}  // namespace inkwell::db
