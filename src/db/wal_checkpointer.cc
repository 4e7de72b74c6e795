#include "db/wal_checkpointer.h"

#include "core/log.h"

namespace inkwell::db {

core::Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Take(
    SqliteDatabase& writer, const std::string& path, std::chrono::milliseconds interval,
    std::int64_t behind_above_frames) {
  if (path.empty() || path == ":memory:") {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "a checkpointer needs a database file, not a private or in-memory one");
  }
  auto connection = SqliteDatabase::Open(path);
  if (!connection) return tl::unexpected(connection.error());
  std::unique_ptr<WalCheckpointer> checkpointer(
      new WalCheckpointer(std::move(*connection), path, interval, behind_above_frames));
  if (auto off = writer.Execute("PRAGMA wal_autocheckpoint=0"); !off) {
    return tl::unexpected(off.error());
  }
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(SqliteDatabase connection, std::string path,
                                 std::chrono::milliseconds interval, std::int64_t behind_above_frames)
    : connection_(std::move(connection)),
      path_(std::move(path)),
      interval_(interval),
      behind_above_frames_(behind_above_frames),
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

bool WalCheckpointer::is_behind() const {
  std::lock_guard lock(mutex_);
  return is_behind_;
}

void WalCheckpointer::Run() {
  bool was_failing = false;
  bool was_behind = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stop_requested_.wait_for(lock, interval_, [this] { return is_stopping_; })) return;
    lock.unlock();
    auto behind = Checkpoint();
    if (!behind && !was_failing) {
      core::LogWarn("SQLite WAL checkpoint failed; the WAL file grows until one succeeds",
                    {{"database", path_}, {"error", behind.error().message}});
    } else if (behind && was_failing) {
      core::LogInfo("SQLite WAL checkpoints work again", {{"database", path_}});
    }
    was_failing = !behind;
    if (behind && *behind != was_behind) {
      if (*behind) {
        core::LogWarn("SQLite WAL keeps growing: a reader holds an old snapshot, so checkpoints "
                      "cannot copy it back",
                      {{"database", path_}, {"wal_frames_over", std::to_string(behind_above_frames_)}});
      } else {
        core::LogInfo("SQLite WAL copied back again", {{"database", path_}});
      }
      was_behind = *behind;
    }
    lock.lock();
    ++(behind ? checkpoints_ : failures_);
    if (behind) is_behind_ = *behind;
  }
}

core::Result<bool> WalCheckpointer::Checkpoint() {
  // Cheap when the WAL holds nothing new: it reads the shared WAL index and returns.
  auto passive = connection_.Prepare("PRAGMA wal_checkpoint(PASSIVE)");
  if (!passive) return tl::unexpected(passive.error());
  auto row = passive->Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return false;
  // One row: busy (always 0 for PASSIVE), frames in the WAL, frames copied back.
  const std::int64_t frames = passive->Int(1);
  const std::int64_t copied = passive->Int(2);
  return frames > behind_above_frames_ && copied < frames;
}

}  // namespace inkwell::db
