#include "db/wal_checkpointer.h"

#include "core/log.h"

namespace inkwell::db {

core::Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Take(
    SqliteDatabase& writer, const std::string& path, std::chrono::milliseconds interval) {
  if (path.empty() || path == ":memory:") {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "a checkpointer needs a database file, not a private or in-memory one");
  }
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
    auto done = Checkpoint();
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

core::Result<void> WalCheckpointer::Checkpoint() {
  // Cheap when the WAL holds nothing new: it reads the shared WAL index and returns.
  auto passive = connection_.Prepare("PRAGMA wal_checkpoint(PASSIVE)");
  if (!passive) return tl::unexpected(passive.error());
  auto row = passive->Step();
  if (!row) return tl::unexpected(row.error());
  // One row: busy (always 0 for PASSIVE), frames in the WAL, frames copied back.
  const std::int64_t frames = *row ? passive->Int(1) : 0;
  const std::int64_t copied = *row ? passive->Int(2) : 0;
  if (frames <= kRestartAboveFrames || copied >= frames) return {};
  core::LogWarn("SQLite WAL is far behind its checkpoints; running one that waits for the writer",
                {{"database", path_}, {"wal_frames", std::to_string(frames)},
                 {"copied_frames", std::to_string(copied)}});
  return connection_.Execute("PRAGMA wal_checkpoint(RESTART)");
}

}  // namespace inkwell::db
