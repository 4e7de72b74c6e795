#include "db/wal_checkpointer.h"

#include "core/log.h"

namespace inkwell::db {

core::Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Take(
    SqliteDatabase& writer, const std::string& path, std::chrono::milliseconds interval) {
  auto connection = SqliteDatabase::Open(path);
  if (!connection) return tl::unexpected(connection.error());
  std::unique_ptr<WalCheckpointer> checkpointer(
      new WalCheckpointer(std::move(*connection), path, interval));
  if (auto off = writer.Execute("PRAGMA wal_autocheckpoint=0"); !off) {
    return tl::unexpected(off.error());
  }
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(SqliteDatabase connection, std::string path,
                                 std::chrono::milliseconds interval)
    : connection_(std::move(connection)),
      path_(std::move(path)),
      interval_(interval),
      thread_([this] { Run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

std::uint64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

std::uint64_t WalCheckpointer::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

void WalCheckpointer::Run() {
  bool was_failing = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stop_requested_.wait_for(lock, interval_, [this] { return is_stopping_; })) return;
    lock.unlock();
    // Cheap when the WAL holds nothing new: it reads the shared WAL index and returns.
    auto done = connection_.Execute("PRAGMA wal_checkpoint(PASSIVE)");
    if (!done && !was_failing) {
      core::LogWarn("SQLite WAL checkpoint failed; the WAL file grows until one succeeds",
                    {{"database", path_}, {"error", done.error().message}});
    } else if (done && was_failing) {
      core::LogInfo("SQLite WAL checkpoints work again", {{"database", path_}});
    }
    was_failing = !done;
    lock.lock();
    ++(done ? checkpoints_ : failures_);
  }
}

}  // namespace inkwell::db
