// SqliteStore: the relay's side of the transactional outbox (claims, sent, failures, backlog).
#include "db/sqlite_store.h"

namespace inkwell::db {

core::Result<std::vector<OutboxRow>> SqliteStore::SelectOutbox(const char* clause,
                                                               const Binder& bind) {
  auto select = database_.Prepare(
      std::string("SELECT id, message_id, exchange, routing_key, type, body, traceparent,"
                  " created_at_ms, attempts, COALESCE(last_error, '') FROM outbox WHERE ") +
      clause);
  if (!select) return tl::unexpected(select.error());
  bind(*select);
  std::vector<OutboxRow> rows;
  for (;;) {
    auto has_row = select->Step();
    if (!has_row) return tl::unexpected(has_row.error());
    if (!*has_row) break;
    OutboxRow row;
    row.id = select->Int(0);
    row.message = OutboxMessage{select->Text(1), select->Text(2), select->Text(3),
                                select->Text(4), select->Text(5), select->Text(6)};
    row.created_at_ms = select->Int(7);
    row.attempts = static_cast<int>(select->Int(8));
    row.last_error = select->Text(9);
    rows.push_back(std::move(row));
  }
  return rows;
}

core::Result<std::vector<OutboxRow>> SqliteStore::PendingOutboxAfter(std::size_t limit,
                                                                     std::int64_t after_id) {
  if (limit == 0) return std::vector<OutboxRow>();
  std::lock_guard lock(mutex_);
  std::vector<OutboxRow> claimed;
  // Select and claim in one write transaction: BEGIN IMMEDIATE takes the database's write lock
  // first, so a store in another process cannot select the same rows in between. Unsynced: a
  // claim lost in a power cut only lets the row be published again (the mailer drops the copy),
  // and an fsync here would sit between every registration and its e-mail.
  auto done = InUnsyncedTransaction([&]() -> core::Result<void> {
    const std::int64_t now = NowMs();
    auto rows = SelectOutbox(
        "sent_at_ms IS NULL AND id > ?4 AND next_attempt_at_ms <= ?1"
        " AND (claimed_by IS NULL OR claimed_by = ?2 OR claimed_until_ms <= ?1)"
        " ORDER BY id LIMIT ?3",
        [&](SqliteDatabase::Statement& select) {
          select.Bind(1, now).Bind(2, owner_).Bind(3, static_cast<std::int64_t>(limit)).Bind(4, after_id);
        });
    if (!rows) return tl::unexpected(rows.error());
    auto claim =
        database_.Prepare("UPDATE outbox SET claimed_by = ?, claimed_until_ms = ? WHERE id = ?");
    if (!claim) return tl::unexpected(claim.error());
    for (const OutboxRow& row : *rows) {
      claim->Bind(1, owner_).Bind(2, now + outbox_lease_.count()).Bind(3, row.id);
      if (auto stepped = claim->Step(); !stepped) return tl::unexpected(stepped.error());
      if (auto reset = claim->Reset(); !reset) return tl::unexpected(reset.error());
    }
    claimed = std::move(*rows);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return claimed;
}

core::Result<std::vector<OutboxRow>> SqliteStore::FailingOutbox(std::size_t limit) {
  std::lock_guard lock(mutex_);
  return SelectOutbox(
      "sent_at_ms IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT ?1",
      [&](SqliteDatabase::Statement& select) { select.Bind(1, static_cast<std::int64_t>(limit)); });
}

core::Result<void> SqliteStore::MarkOutboxSent(std::span<const std::int64_t> ids) {
  if (ids.empty()) return {};
  std::lock_guard lock(mutex_);
  // Unsynced, like the claim: a mark lost in a power cut means one more publish of the row.
  return InUnsyncedTransaction([&]() -> core::Result<void> {
    auto update = database_.Prepare(
        "UPDATE outbox SET sent_at_ms = ?, attempts = attempts + 1,"
        " last_error = NULL WHERE id = ?");
    if (!update) return tl::unexpected(update.error());
    const std::int64_t now = NowMs();
    for (const std::int64_t id : ids) {
      update->Bind(1, now).Bind(2, id);
      if (auto done = update->Step(); !done) return tl::unexpected(done.error());
      if (auto reset = update->Reset(); !reset) return tl::unexpected(reset.error());
    }
    return {};
  });
}

core::Result<void> SqliteStore::RecordOutboxFailure(std::span<const std::int64_t> ids,
                                                    const std::string& reason) {
  if (ids.empty()) return {};
  std::lock_guard lock(mutex_);
  return InTransaction("BEGIN IMMEDIATE", [&]() -> core::Result<void> {
    // Back off per row (1 s, 2 s, 4 s ... capped at 5 min) so that a message the broker keeps
    // refusing is retried, visibly, without a hot loop. The claim goes (if it is still ours):
    // whichever relay is free when the backoff ends may take the row.
    auto update = database_.Prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?1,"
        " next_attempt_at_ms = ?2 + MIN(300000, 1000 * (1 << MIN(attempts, 9))),"
        " claimed_by = CASE WHEN claimed_by = ?3 THEN NULL ELSE claimed_by END,"
        " claimed_until_ms = CASE WHEN claimed_by = ?3 THEN NULL ELSE claimed_until_ms END"
        " WHERE id = ?4");
    if (!update) return tl::unexpected(update.error());
    const std::int64_t now = NowMs();
    for (const std::int64_t id : ids) {
      update->Bind(1, reason).Bind(2, now).Bind(3, owner_).Bind(4, id);
      if (auto done = update->Step(); !done) return tl::unexpected(done.error());
      if (auto reset = update->Reset(); !reset) return tl::unexpected(reset.error());
    }
    return {};
  });
}

core::Result<void> SqliteStore::ReleaseOutboxClaims() {
  std::lock_guard lock(mutex_);
  return InTransaction("BEGIN IMMEDIATE", [&]() -> core::Result<void> {
    auto update = database_.Prepare(
        "UPDATE outbox SET claimed_by = NULL, claimed_until_ms = NULL"
        " WHERE sent_at_ms IS NULL AND claimed_by = ?");
    if (!update) return tl::unexpected(update.error());
    update->Bind(1, owner_);
    if (auto done = update->Step(); !done) return tl::unexpected(done.error());
    return {};
  });
}

core::Result<OutboxBacklog> SqliteStore::Backlog() {
  std::lock_guard lock(mutex_);
  auto select = database_.Prepare(
      "SELECT COUNT(*), COALESCE(MIN(created_at_ms), 0), COALESCE(SUM(last_error IS NOT NULL), 0)"
      " FROM outbox WHERE sent_at_ms IS NULL");
  if (!select) return tl::unexpected(select.error());
  auto has_row = select->Step();
  if (!has_row) return tl::unexpected(has_row.error());
  return OutboxBacklog{select->Int(0), select->Int(1), select->Int(2)};
}

}  // namespace inkwell::db
