#include <mutex>

#include "db/delivery_log.h"
#include "db/sqlite_database.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;

class SqliteDeliveryLog final : public DeliveryLog {
 public:
  explicit SqliteDeliveryLog(SqliteDatabase database) : database_(std::move(database)) {}

  core::Result<bool> Contains(const std::string& message_id) override {
    std::lock_guard lock(mutex_);
    auto select = database_.Prepare("SELECT 1 FROM delivered WHERE message_id = ?");
    if (!select) return tl::unexpected(select.error());
    select->Bind(1, message_id);
    return select->Step();
  }

  core::Result<void> Record(const std::string& message_id) override {
    std::lock_guard lock(mutex_);
    auto insert = database_.Prepare(
        "INSERT OR IGNORE INTO delivered(message_id, delivered_at) VALUES (?, datetime('now'))");
    if (!insert) return tl::unexpected(insert.error());
    insert->Bind(1, message_id);
    if (auto done = insert->Step(); !done) return tl::unexpected(done.error());
    return {};
  }

 private:
  std::mutex mutex_;
  SqliteDatabase database_;
};

}  // namespace

core::Result<std::unique_ptr<DeliveryLog>> OpenDeliveryLog(const std::string& url) {
  if (!url.starts_with("sqlite:")) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "INKWELL_MAILER_DB_URL: expected sqlite:PATH, got '" + url + "'");
  }
  auto database = SqliteDatabase::Open(url.substr(7));
  if (!database) return tl::unexpected(database.error());
  if (auto migrated = database->Migrate(
          {"CREATE TABLE delivered (message_id TEXT PRIMARY KEY, delivered_at TEXT NOT NULL)"});
      !migrated) {
    return tl::unexpected(migrated.error());
  }
  return std::unique_ptr<DeliveryLog>(new SqliteDeliveryLog(std::move(*database)));
}

}  // namespace inkwell::db
