#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "db/sqlite_database.h"

namespace inkwell::db {

// Lets concurrent writers share one SQLite transaction, and so one fsync (group commit): the
// first caller to arrive while no commit is running becomes the leader, takes every write queued
// so far, runs each in its own SAVEPOINT inside one BEGIN IMMEDIATE ... COMMIT, and wakes the
// others with their own outcome. A write that fails is rolled back to its savepoint alone; the
// others still commit. Thread-safe. `database_mutex` guards every other use of the connection.
class GroupCommit {
 public:
  GroupCommit(SqliteDatabase& database, std::mutex& database_mutex)
      : database_(database), database_mutex_(database_mutex) {}

  // Runs write (statements on the database) in the next shared transaction and returns once
  // that transaction committed: then the write is durable. The write's error, or the commit's.
  // on_committed (if set) runs after a successful commit of a successful write, on the leader's
  // thread while it still holds database_mutex: nothing else can read the database between
  // the commit and it. It must be short and must not touch the database.
  core::Result<void> Run(const std::function<core::Result<void>()>& write,
                         const std::function<void()>& on_committed = {});

 private:
  struct Ticket {
    const std::function<core::Result<void>()>* write;
    const std::function<void()>* on_committed;
    core::Result<void> outcome;
    bool is_done = false;
  };
  void CommitBatch(const std::vector<Ticket*>& batch);

  SqliteDatabase& database_;
  std::mutex& database_mutex_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<Ticket*> queue_;
  bool is_leader_active_ = false;
};

}  // namespace inkwell::db
