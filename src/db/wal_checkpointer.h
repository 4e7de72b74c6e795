#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "db/sqlite_database.h"

namespace inkwell::db {

// Runs SQLite's WAL checkpoints on a thread and connection of their own. By default SQLite
// checkpoints inside the commit that grows the WAL past 1,000 pages: that commit then copies the
// pages into the database file and fsyncs it, while every request waiting for the connection
// waits with it. Take(writer) turns that off on the writer's connection; this class then runs a
// PASSIVE checkpoint every `interval` (one that never waits for, or blocks, a reader or the
// writer), so the WAL is still copied back and restarted, off the request path. Like SQLite's
// own automatic checkpoints (PASSIVE too), they cannot copy back what a reader holding an old
// snapshot may still need, so the WAL grows while one does: that is logged once it passes
// `behind_above_frames` (a checkpoint that waited for readers would stall the writer instead).
// Thread-safe.
class WalCheckpointer {
 public:
  // Opens its own connection to path (a file: not ":memory:" or "") and turns off automatic
  // checkpoints on writer. On an error nothing is changed and the writer keeps checkpointing.
  static core::Result<std::unique_ptr<WalCheckpointer>> Take(
      SqliteDatabase& writer, const std::string& path,
      std::chrono::milliseconds interval = std::chrono::milliseconds(200),
      std::int64_t behind_above_frames = kBehindAboveFrames);
  // Stops the thread (a last checkpoint runs when the last connection closes).
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // A WAL over this many frames that a checkpoint could not copy back whole is logged
  // (16,384 frames: 64 MiB of 4 KiB pages).
  static constexpr std::int64_t kBehindAboveFrames = 16384;

  // Checkpoints that ran, and those that failed (a failure is logged when it starts and when it
  // ends, not every interval); whether the last one left the WAL over the limit. For tests.
  std::uint64_t checkpoints() const;
  std::uint64_t failures() const;
  bool is_behind() const;

 private:
  WalCheckpointer(SqliteDatabase connection, std::string path, std::chrono::milliseconds interval,
                  std::int64_t behind_above_frames);
  void Run();
  // One PASSIVE checkpoint; whether it left more than behind_above_frames_ in the WAL.
  core::Result<bool> Checkpoint();

  SqliteDatabase connection_;  // used by the thread only
  const std::string path_;
  const std::chrono::milliseconds interval_;
  const std::int64_t behind_above_frames_;
  mutable std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool is_stopping_ = false;
  std::uint64_t checkpoints_ = 0;
  std::uint64_t failures_ = 0;
  bool is_behind_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace inkwell::db
