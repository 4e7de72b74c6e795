#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace inkwell::db {

struct NewUser {
  std::string name;
  std::string email;
  std::string password_hash;  // argon2id string from crypto_pwhash_str
  // The e-mail confirmation link's token, stored hashed (SHA-256, lower-case hex), and when it
  // expires. Empty hash: no token is written (and the account stays unconfirmed).
  std::string confirmation_token_hash;
  std::int64_t confirmation_expires_at_ms = 0;
};

struct User {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string password_hash;
  bool is_confirmed = false;
  std::int64_t created_at_ms = 0;
};

// A page of a listing: the items asked for and how many there are in all.
template <typename T>
struct Listing {
  std::vector<T> items;
  std::int64_t total = 0;
};

struct Page {
  std::int64_t id = 0;
  std::string slug;
  std::string title;
  std::string body;  // Markdown
  std::int64_t author_id = 0;
  std::string author_name;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct PageInput {
  std::string slug;
  std::string title;
  std::string body;
};

struct Post {
  std::int64_t id = 0;
  std::string title;
  std::string body;  // Markdown
  bool is_published = false;
  std::int64_t author_id = 0;
  std::string author_name;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t comment_count = 0;
};

struct PostInput {
  std::string title;
  std::string body;
  bool is_published = false;
};

struct Comment {
  std::int64_t id = 0;
  std::int64_t post_id = 0;
  std::int64_t author_id = 0;
  std::string author_name;
  std::string body;  // plain text
  std::int64_t created_at_ms = 0;
};

// A message to publish once the transaction that wrote it commits (transactional outbox).
struct OutboxMessage {
  std::string message_id;  // unique; the consumer de-duplicates on it
  std::string exchange;
  std::string routing_key;
  std::string type;
  std::string body;
  std::string traceparent;
};

struct OutboxRow {
  std::int64_t id = 0;
  OutboxMessage message;
  std::int64_t created_at_ms = 0;  // Unix time in milliseconds
  int attempts = 0;
  std::string last_error;  // why the last publish attempt failed; empty if none did
};

struct OutboxBacklog {
  std::int64_t pending = 0;
  std::int64_t oldest_created_at_ms = 0;  // 0 when nothing is pending
  std::int64_t failing = 0;               // pending rows whose last publish attempt failed
};

// The web service's storage. Engines: SQLite (sqlite:PATH, SqliteStore), PostgreSQL and
// MariaDB/MySQL (ServerStore). Thread-safe: engines serialise
// writes internally. Failures: kUnavailable when the database cannot be reached or is busy
// beyond its timeout, kInternal on a failed statement.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the user and writes the outbox messages in ONE transaction: both or neither.
  // outbox_for is given the new user's id (events carry it). kConflict if the e-mail address
  // is already registered.
  virtual core::Result<std::int64_t> CreateUser(
      const NewUser& user,
      const std::function<std::vector<OutboxMessage>(std::int64_t user_id)>& outbox_for) = 0;
  core::Result<std::int64_t> CreateUser(const NewUser& user,
                                        const std::vector<OutboxMessage>& outbox) {
    return CreateUser(user, [&outbox](std::int64_t) { return outbox; });
  }

  // ---- Accounts ----
  // nullopt when no account has this address (compared case-insensitively).
  virtual core::Result<std::optional<User>> FindUserByEmail(const std::string& email) = 0;
  virtual core::Result<std::optional<User>> FindUser(std::int64_t id) = 0;
  // Replaces the user's confirmation tokens by this one (older unused links stop working: they
  // become unknown; used ones still read "already used") and writes the outbox messages (the
  // mail with the new link), in one transaction. kNotFound if the user is gone.
  virtual core::Result<void> ReplaceConfirmationToken(std::int64_t user_id,
                                                      const std::string& token_hash,
                                                      std::int64_t expires_at_ms,
                                                      const std::vector<OutboxMessage>& outbox) = 0;
  // Uses the token: marks it used, marks its user confirmed and writes outbox_for(user), in one
  // transaction. kNotFound for an unknown token; kInvalidArgument ("this confirmation link has
  // expired" at or after expires_at_ms / "this confirmation link was already used") for one that
  // cannot be used any more; nothing is written then. A user who is already confirmed stays so.
  virtual core::Result<User> ConfirmUser(
      const std::string& token_hash, std::int64_t now_ms,
      const std::function<std::vector<OutboxMessage>(const User&)>& outbox_for) = 0;

  // ---- Sessions (the id is stored hashed: SHA-256, lower-case hex) ----
  // kNotFound if the user is gone.
  virtual core::Result<void> CreateSession(const std::string& session_hash, std::int64_t user_id,
                                           std::int64_t expires_at_ms) = 0;
  // The session's user, or nullopt if the session is unknown, expired or revoked.
  virtual core::Result<std::optional<User>> FindSession(const std::string& session_hash,
                                                        std::int64_t now_ms) = 0;
  // Revokes the session; revoking an unknown one is not an error.
  virtual core::Result<void> DeleteSession(const std::string& session_hash) = 0;

  // ---- Pages (addressed by slug) ----
  // kConflict if the slug is taken, kNotFound if the author is gone. outbox_for gets the page
  // as stored (id, timestamps and author_name filled in).
  virtual core::Result<Page> CreatePage(
      std::int64_t author_id, const PageInput& input,
      const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) = 0;
  virtual core::Result<std::optional<Page>> FindPage(const std::string& slug) = 0;
  // Newest first (by updated time), offset/limit for pagination; total counts every page.
  // kInvalidArgument for a negative offset or limit (likewise for the other listings).
  virtual core::Result<Listing<Page>> ListPages(std::int64_t offset, std::int64_t limit) = 0;
  // Replaces title, body and slug of the page with id. kNotFound if it is gone, kConflict if
  // the new slug is taken.
  virtual core::Result<Page> UpdatePage(
      std::int64_t id, const PageInput& input,
      const std::function<std::vector<OutboxMessage>(const Page&)>& outbox_for) = 0;
  // kNotFound if it is gone.
  virtual core::Result<void> DeletePage(std::int64_t id, const std::vector<OutboxMessage>& outbox) = 0;

  // ---- Posts and comments ----
  // kNotFound if the author is gone. outbox_for gets the post as stored.
  virtual core::Result<Post> CreatePost(
      std::int64_t author_id, const PostInput& input,
      const std::function<std::vector<OutboxMessage>(const Post&)>& outbox_for) = 0;
  virtual core::Result<std::optional<Post>> FindPost(std::int64_t id) = 0;
  // Newest first (by created time). Published posts, plus the drafts of viewer_id (0: none).
  virtual core::Result<Listing<Post>> ListPosts(std::int64_t viewer_id, std::int64_t offset,
                                                std::int64_t limit) = 0;
  // outbox_for gets the post before and after the change. kNotFound if it is gone.
  virtual core::Result<Post> UpdatePost(
      std::int64_t id, const PostInput& input,
      const std::function<std::vector<OutboxMessage>(const Post& before, const Post& after)>&
          outbox_for) = 0;
  // Deletes the post and its comments. kNotFound if it is gone.
  virtual core::Result<void> DeletePost(std::int64_t id, const std::vector<OutboxMessage>& outbox) = 0;
  // kNotFound if the post or the author is gone.
  virtual core::Result<Comment> CreateComment(
      std::int64_t post_id, std::int64_t author_id, const std::string& body,
      const std::function<std::vector<OutboxMessage>(const Comment&)>& outbox_for) = 0;
  // Oldest first. An unknown post has no comments (not an error).
  virtual core::Result<Listing<Comment>> ListComments(std::int64_t post_id, std::int64_t offset,
                                                      std::int64_t limit) = 0;

  // ---- Outbox ----
  // Up to `limit` unsent outbox rows, oldest first. Several processes may share one database:
  // the rows returned are claimed for this store instance for a lease (30 s), renewed on each
  // call, so that another instance's relay skips them until the lease runs out.
  core::Result<std::vector<OutboxRow>> PendingOutbox(std::size_t limit) {
    return PendingOutboxAfter(limit, 0);
  }
  // The same, but only rows whose id is above after_id: a relay working through a backlog asks
  // for the rows after the last it was given, rather than reading (and claiming again) the
  // rows it is still publishing. A row at or below after_id that becomes pending later (a
  // retry after its backoff, another instance's lapsed lease) comes with a call from 0.
  virtual core::Result<std::vector<OutboxRow>> PendingOutboxAfter(std::size_t limit,
                                                                  std::int64_t after_id) = 0;
  // Marks rows sent (the broker confirmed them), in one transaction.
  virtual core::Result<void> MarkOutboxSent(std::span<const std::int64_t> ids) = 0;
  // Counts a failed publish attempt against rows and keeps the reason; they stay pending, are
  // retried after a backoff, and this instance's claim on them is released.
  virtual core::Result<void> RecordOutboxFailure(std::span<const std::int64_t> ids,
                                                 const std::string& reason) = 0;
  // Gives up this instance's claims at once (at shutdown), so another relay need not wait.
  virtual core::Result<void> ReleaseOutboxClaims() = 0;
  virtual core::Result<OutboxBacklog> Backlog() = 0;
  // Up to `limit` pending rows whose last publish attempt failed, oldest first (for operators).
  virtual core::Result<std::vector<OutboxRow>> FailingOutbox(std::size_t limit) = 0;

  // Hands the outbox rows each committed transaction of this store wrote to `listener` (called
  // once per transaction, after its commit and before any other use of the database, on the
  // thread that committed it; it must be short and must not call the store), so that
  // a relay in this process can publish them without reading them back. While a listener is
  // set, those rows are written already claimed by this instance, with PendingOutbox's lease:
  // another instance's relay leaves them alone, and this instance's own PendingOutbox still
  // returns them (after a lost connection, say). Once SetOutboxListener(nullptr) returns, the
  // old listener is not called again. Returns false if the engine does not hand rows over;
  // then a relay learns of new rows from PendingOutbox only.
  using OutboxListener = std::function<void(std::vector<OutboxRow> rows)>;
  virtual bool SetOutboxListener(OutboxListener listener) {
    (void)listener;
    return false;
  }

  // Cheap round trip, for /readyz.
  virtual core::Result<void> Ping() = 0;
};

// Opens the database named by url (INKWELL_DB_URL: sqlite:PATH, mysql://..., postgresql://...;
// see db_url.h), creating a SQLite file if need be, and applies pending migrations (under a
// lock on the server engines). server_connections bounds the server engines' connection pool.
// kInvalidArgument for a malformed URL, wrong credentials or a missing database; kUnavailable
// if the server cannot be reached. Messages say what to fix and never carry the password.
core::Result<std::unique_ptr<Store>> OpenStore(const std::string& url,
                                               std::size_t server_connections = 6);

// Where a database's schema stands (for `inkwell db status`).
struct SchemaStatus {
  std::string engine;  // "sqlite", "mysql", "postgresql"
  int current = 0;     // the highest applied migration, 0 for an empty database
  int latest = 0;      // the highest this build knows
};
// Reads the status without changing anything (a missing SQLite file reads as version 0).
core::Result<SchemaStatus> ReadSchemaStatus(const std::string& url);
// Applies pending migrations (as OpenStore does) and returns the status after.
core::Result<SchemaStatus> MigrateSchema(const std::string& url);

}  // namespace inkwell::db
