// Placeholder until the MariaDB/MySQL engine lands.
#include "db/sql_connection.h"

namespace inkwell::db {

core::Result<std::unique_ptr<SqlConnection>> ConnectMysql(const DbUrl&, const ConnectOptions&) {
  return core::Fail(core::ErrorCode::kInternal, "the MariaDB engine is not built yet");
}

}  // namespace inkwell::db
