#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "core/log.h"
#include "db/db_url.h"
#include "db/delivery_log.h"
#include "db/group_commit.h"
#include "db/sqlite_database.h"
#include "db/wal_checkpointer.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;

// Two connections: lookups read the WAL beside a running commit, and records from all mailer
// workers share commits (one fsync for every message finished meanwhile), so the fsync does not
// cap the mailer at one message per disk sync.
class SqliteDeliveryLog final : public DeliveryLog {
 public:
  // Without a reader (":memory:", where a second connection would be another database) lookups
  // use the writer.
  SqliteDeliveryLog(SqliteDatabase writer, std::optional<SqliteDatabase> reader)
      : writer_(std::move(writer)), reader_(std::move(reader)), group_commit_(writer_, writer_mutex_) {}

  // Checkpoints on a thread of their own rather than in the recorder's commits (which the acks
  // wait for). Without one the writer keeps checkpointing itself.
  void TakeCheckpoints(const std::string& path) {
    auto checkpointer = WalCheckpointer::Take(writer_, path);
    if (checkpointer) {
      checkpointer_ = std::move(*checkpointer);
    } else {
      core::LogWarn("delivery log: SQLite checkpoints stay in the commits",
                    {{"database", path}, {"error", checkpointer.error().message}});
    }
  }

  core::Result<bool> Contains(const std::string& message_id) override {
    std::lock_guard lock(reader_ ? reader_mutex_ : writer_mutex_);
    SqliteDatabase& database = reader_ ? *reader_ : writer_;
    // Kept prepared by the connection; reset when it goes back, so that no read transaction
    // stays open to hold checkpoints back.
    auto select = database.Prepare("SELECT 1 FROM delivered WHERE message_id = ?");
    if (!select) return tl::unexpected(select.error());
    select->Bind(1, message_id);
    return select->Step();
  }

  core::Result<void> Record(const std::string& message_id) override {
    return RecordAll({message_id});
  }

  core::Result<void> RecordAll(const std::vector<std::string>& message_ids) override {
    if (message_ids.empty()) return {};
    return group_commit_.Run([&]() -> core::Result<void> {
      auto insert = writer_.Prepare(
          "INSERT OR IGNORE INTO delivered(message_id, delivered_at) VALUES (?, datetime('now'))");
      if (!insert) return tl::unexpected(insert.error());
      for (const std::string& message_id : message_ids) {
        insert->Bind(1, message_id);
        auto done = insert->Step();
        auto reset = insert->Reset();
        if (!done) return tl::unexpected(done.error());
        if (!reset) return tl::unexpected(reset.error());
      }
      return {};
    });
  }

 private:
  std::mutex writer_mutex_;
  SqliteDatabase writer_;
  std::mutex reader_mutex_;
  std::optional<SqliteDatabase> reader_;
  GroupCommit group_commit_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // null for ":memory:"
};

}  // namespace

core::Result<std::unique_ptr<DeliveryLog>> OpenDeliveryLog(const std::string& url) {
  if (!url.starts_with("sqlite:")) {
    // The mailer's de-duplication store is local to each mailer: SQLite only. Never echo a
    // server URL whole: it may carry a password.
    auto parsed = ParseDbUrl(url);
    return core::Fail(ErrorCode::kInvalidArgument,
                      "INKWELL_MAILER_DB_URL: the mailer keeps its de-duplication store in SQLite;"
                      " expected sqlite:PATH, got '" +
                          (parsed ? parsed->Redacted() : url.substr(0, url.find(':'))) + "'");
  }
  auto database = SqliteDatabase::Open(url.substr(7));
  if (!database) return tl::unexpected(database.error());
  if (auto migrated = database->Migrate(
          {"CREATE TABLE delivered (message_id TEXT PRIMARY KEY, delivered_at TEXT NOT NULL)"});
      !migrated) {
    return tl::unexpected(migrated.error());
  }
  std::optional<SqliteDatabase> reader;
  if (url.substr(7) != ":memory:") {
    auto opened = SqliteDatabase::Open(url.substr(7));
    if (!opened) return tl::unexpected(opened.error());
    reader.emplace(std::move(*opened));
  }
  auto log = std::make_unique<SqliteDeliveryLog>(std::move(*database), std::move(reader));
  if (!url.substr(7).empty() && url.substr(7) != ":memory:") log->TakeCheckpoints(url.substr(7));
  return std::unique_ptr<DeliveryLog>(std::move(log));
}

}  // namespace inkwell::db
