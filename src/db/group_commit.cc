#include "db/group_commit.h"

#include <exception>
#include <string>

namespace inkwell::db {

core::Result<void> GroupCommit::Run(const std::function<core::Result<void>()>& write,
                                    const std::function<void()>& on_committed) {
  Ticket ticket{&write, &on_committed, {}, false};
  std::unique_lock lock(mutex_);
  queue_.push_back(&ticket);
  while (!ticket.is_done) {
    if (is_leader_active_) {
      done_.wait(lock);
      continue;
    }
    // Lead one batch: everything queued until now shares the next commit.
    is_leader_active_ = true;
    std::vector<Ticket*> batch;
    batch.swap(queue_);
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (Ticket* done : batch) done->is_done = true;
    is_leader_active_ = false;
    done_.notify_all();
  }
  return ticket.outcome;
}

void GroupCommit::CommitBatch(const std::vector<Ticket*>& batch) {
  std::lock_guard database_lock(database_mutex_);
  if (auto begun = database_.Execute("BEGIN IMMEDIATE"); !begun) {
    for (Ticket* ticket : batch) ticket->outcome = begun;
    return;
  }
  // SQLite may roll the whole transaction back by itself when a statement fails (disk full,
  // I/O error, out of memory). Then the writes before are undone too, and a SAVEPOINT would
  // start a new transaction that its RELEASE commits on its own: the rest of the batch is not
  // run, and every write of it fails.
  const auto rolled_back = [] {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "SQLite rolled the transaction back after a failed statement; nothing of "
                      "this write was committed");
  };
  for (Ticket* ticket : batch) {
    if (!database_.IsInTransaction()) {
      ticket->outcome = rolled_back();
      continue;
    }
    if (auto saved = database_.Execute("SAVEPOINT write"); !saved) {
      ticket->outcome = saved;
      continue;
    }
    // A write that throws (out of memory, a bug in an outbox callback) fails alone, like one
    // that returns an error: the batch, the transaction and the leader role must survive it, or
    // every later writer would wait forever.
    try {
      ticket->outcome = (*ticket->write)();
    } catch (const std::exception& exception) {
      ticket->outcome = core::Fail(core::ErrorCode::kInternal, std::string("write failed: ") + exception.what());
    }
    if (!ticket->outcome) (void)database_.Execute("ROLLBACK TO write");
    (void)database_.Execute("RELEASE write");
  }
  if (!database_.IsInTransaction()) {
    for (Ticket* ticket : batch) {
      if (ticket->outcome) ticket->outcome = rolled_back();
    }
    return;
  }
  if (auto committed = database_.Execute("COMMIT"); !committed) {
    (void)database_.Execute("ROLLBACK");
    for (Ticket* ticket : batch) {
      if (ticket->outcome) ticket->outcome = committed;
    }
    return;
  }
  for (Ticket* ticket : batch) {
    if (!ticket->outcome || !*ticket->on_committed) continue;
    try {
      (*ticket->on_committed)();
    } catch (...) {
      // Committed is committed: the write's own outcome stands, and the leader must go on (or
      // every later writer would wait for it forever).
    }
  }
}

}  // namespace inkwell::db
