// ServerStore against real PostgreSQL and MariaDB servers (scripts/postgres-node,
// scripts/mariadb-node; scripts/test starts both). Every test gets a fresh database.
#include "db/server_store.h"

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/ids.h"
#include "store_test_support.h"

namespace inkwell::db {
namespace {

using core::ErrorCode;

// The admin URL of the engine's test server, from the environment.
std::string ServerUrl(const std::string& engine) {
  const char* name = engine == "postgresql" ? "INKWELL_TEST_PG_URL" : "INKWELL_TEST_MYSQL_URL";
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

core::Result<std::unique_ptr<SqlConnection>> ConnectTo(const DbUrl& url) {
  return url.engine == DbUrl::Engine::kPostgresql ? ConnectPostgres(url, ConnectOptions{})
                                                  : ConnectMysql(url, ConnectOptions{});
}

class ServerStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string admin_text = ServerUrl(GetParam());
    ASSERT_FALSE(admin_text.empty())
        << "no " << GetParam() << " test server: run scripts/test, or start "
        << (GetParam() == "postgresql" ? "scripts/postgres-node start and export "
                                         "INKWELL_TEST_PG_URL=$(scripts/postgres-node url)"
                                       : "scripts/mariadb-node start and export "
                                         "INKWELL_TEST_MYSQL_URL=$(scripts/mariadb-node url)");
    auto admin = ParseDbUrl(admin_text);
    ASSERT_TRUE(admin) << admin.error().message;
    admin_url_ = *admin;
    auto connection = ConnectTo(admin_url_);
    ASSERT_TRUE(connection) << connection.error().message;
    admin_ = std::move(*connection);
    url_ = admin_url_;
    url_.database = "inkwell_test_" + core::RandomHex(6);
    ASSERT_TRUE(admin_->Execute("CREATE DATABASE " + url_.database));
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    other_.reset();
    if (admin_ != nullptr && !url_.database.empty()) {
      auto dropped = admin_->Execute(
          GetParam() == "postgresql" ? "DROP DATABASE IF EXISTS " + url_.database + " WITH (FORCE)"
                                     : "DROP DATABASE IF EXISTS " + url_.database);
      EXPECT_TRUE(dropped) << dropped.error().message;
    }
  }

  std::unique_ptr<ServerStore> Open(std::chrono::milliseconds lease = std::chrono::seconds(30)) {
    ServerStore::Options options;
    options.outbox_lease = lease;
    auto store = ServerStore::Open(url_, options);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Terminates every other connection to the test database (a server restart, as the store's
  // connections see it).
  void KillStoreConnections() {
    auto killed = GetParam() == "postgresql"
                      ? admin_->Query("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                      " WHERE datname = ? AND pid <> pg_backend_pid()",
                                      {url_.database})
                      : admin_->Query("SELECT id FROM information_schema.processlist WHERE db = ?",
                                      {url_.database});
    ASSERT_TRUE(killed) << killed.error().message;
    if (GetParam() == "mysql") {
      for (const SqlRow& row : killed->rows) {
        ASSERT_TRUE(admin_->Execute("KILL CONNECTION " + std::to_string(row.Int(0))));
      }
    }
  }

  DbUrl admin_url_;
  DbUrl url_;
  std::unique_ptr<SqlConnection> admin_;
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<ServerStore> other_;
};

TEST_P(ServerStoreTest, MigratesOnceEvenWhenTwoInstancesStartTogether) {
  store_.reset();
  // A fresh database for two stores starting at once: the lock lets one migrate, the other finds
  // the schema done.
  ASSERT_TRUE(admin_->Execute("DROP DATABASE " + url_.database +
                              (GetParam() == "postgresql" ? " WITH (FORCE)" : "")));
  ASSERT_TRUE(admin_->Execute("CREATE DATABASE " + url_.database));
  std::unique_ptr<ServerStore> first;
  std::unique_ptr<ServerStore> second;
  std::thread racer([&] { first = Open(); });
  second = Open();
  racer.join();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto status = first->Status();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->current, status->latest);
  EXPECT_EQ(status->engine, GetParam());
  auto connection = ConnectTo(url_);
  ASSERT_TRUE(connection) << connection.error().message;
  auto recorded = (*connection)->Query("SELECT COUNT(*) FROM schema_migrations", {});
  ASSERT_TRUE(recorded) << recorded.error().message;
  EXPECT_EQ(recorded->rows.at(0).Int(0), status->latest);
  EXPECT_TRUE(first->Migrate()->empty());  // nothing left to apply
}

TEST_P(ServerStoreTest, AFailedMigrationNamesItselfAndLeavesTheVersionAlone) {
  store_.reset();
  ASSERT_TRUE(admin_->Execute("DROP DATABASE " + url_.database +
                              (GetParam() == "postgresql" ? " WITH (FORCE)" : "")));
  ASSERT_TRUE(admin_->Execute("CREATE DATABASE " + url_.database));
  // A table in the way: migration 1 cannot create `users`.
  auto connection = ConnectTo(url_);
  ASSERT_TRUE(connection) << connection.error().message;
  ASSERT_TRUE((*connection)->Execute("CREATE TABLE users (unrelated INTEGER)"));
  auto opened = ServerStore::Open(url_, ServerStore::Options{});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message.rfind("database migration 1 (" + GetParam() + ") failed: ", 0),
            0u)
      << opened.error().message;
  auto version = (*connection)->Query("SELECT COUNT(*) FROM schema_migrations", {});
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(version->rows.at(0).Int(0), 0);
}

TEST_P(ServerStoreTest, CreatesAUserWithItsOutboxRowAtomicallyAndRefusesADuplicateAddress) {
  auto id = store_->CreateUser(NewUser{"Ada", "Ada@Example.org", "$argon2id$x", "tokenhash", 1},
                               {Event("m-1")});
  ASSERT_TRUE(id) << id.error().message;
  auto duplicate =
      store_->CreateUser(NewUser{"Eve", "ada@example.ORG", "$argon2id$y", "", 0}, {Event("m-2")});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  EXPECT_EQ(PendingMessageIds(*store_), std::vector<std::string>{"m-1"});
  auto found = store_->FindUserByEmail("ADA@example.org");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->email, "Ada@Example.org");
  EXPECT_FALSE((*found)->is_confirmed);
  // Text goes in as parameters, never as SQL.
  const std::int64_t odd = AddUser(*store_, kSqlInjection, "o'brien@example.org");
  auto odd_user = store_->FindUser(odd);
  ASSERT_TRUE(odd_user && *odd_user);
  EXPECT_EQ((*odd_user)->name, kSqlInjection);
}

TEST_P(ServerStoreTest, ConfirmsWithATokenOnceAndRefusesExpiredAndUsedOnes) {
  const std::int64_t now = TestNowMs();
  auto id = store_->CreateUser(NewUser{"Ada", "ada@example.org", "h", "live", now + 60000},
                               std::vector<OutboxMessage>{});
  ASSERT_TRUE(id);
  auto unknown = store_->ConfirmUser("nope", now, [](const User&) { return std::vector<OutboxMessage>{}; });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto confirmed = store_->ConfirmUser("live", now, [](const User& user) {
    return std::vector<OutboxMessage>{Event("confirmed-" + std::to_string(user.id))};
  });
  ASSERT_TRUE(confirmed) << confirmed.error().message;
  EXPECT_TRUE(confirmed->is_confirmed);
  auto again = store_->ConfirmUser("live", now, [](const User&) { return std::vector<OutboxMessage>{}; });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "this confirmation link was already used");
  ASSERT_TRUE(store_->ReplaceConfirmationToken(*id, "old", now - 1, {Event("resend")}));
  auto expired = store_->ConfirmUser("old", now, [](const User&) { return std::vector<OutboxMessage>{}; });
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().message, "this confirmation link has expired");
  EXPECT_EQ(PendingMessageIds(*store_),
            (std::vector<std::string>{"confirmed-" + std::to_string(*id), std::string("resend")}));
  auto gone = store_->ReplaceConfirmationToken(999999, "t", now, {});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TEST_P(ServerStoreTest, AThrowingCallbackRollsBackAndLeavesThePoolClean) {
  const std::int64_t author = AddUser(*store_, "Ada", "ada@example.org");
  // outbox_for runs after the page row is written: its exception must undo that write, and the
  // connection must not go back to the pool inside the transaction.
  auto thrown = store_->CreatePage(author, PageInput{"about", "t", "b"},
                                   [](const Page&) -> std::vector<OutboxMessage> {
                                     throw std::runtime_error("callback bug");
                                   });
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().code, ErrorCode::kInternal);
  EXPECT_NE(thrown.error().message.find("callback bug"), std::string::npos);
  for (int i = 0; i < 3; ++i) {  // whichever pooled connection comes next is clean
    EXPECT_FALSE(*store_->FindPage("about"));
  }
  auto created = store_->CreatePage(author, PageInput{"about", "t", "b"},
                                    [](const Page&) { return std::vector<OutboxMessage>{}; });
  ASSERT_TRUE(created) << created.error().message;
  // Keys compare exactly: a trailing space is another slug (MariaDB's PAD SPACE collations
  // would say otherwise).
  EXPECT_FALSE(*store_->FindPage("about "));
  EXPECT_FALSE(*store_->FindUserByEmail("ada@example.org "));
}

TEST_P(ServerStoreTest, SessionsExpireAndAreRevoked) {
  const std::int64_t user = AddUser(*store_, "Ada", "ada@example.org");
  const std::int64_t now = TestNowMs();
  ASSERT_TRUE(store_->CreateSession("s1", user, now + 1000));
  auto found = store_->FindSession("s1", now);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, user);
  EXPECT_FALSE(*store_->FindSession("s1", now + 1000));  // expired
  ASSERT_TRUE(store_->DeleteSession("s1"));
  EXPECT_FALSE(*store_->FindSession("s1", now));
  EXPECT_TRUE(store_->DeleteSession("unknown"));
  EXPECT_EQ(store_->CreateSession("s2", 424242, now + 1000).error().code, ErrorCode::kNotFound);
}

TEST_P(ServerStoreTest, PagesAreCreatedListedRenamedAndDeleted) {
  const std::int64_t author = AddUser(*store_, "Ada", "ada@example.org");
  const std::string body(60000, 'x');  // the longest body the web service accepts
  auto about = store_->CreatePage(author, PageInput{"about", "Über uns ✓", body},
                                  [](const Page& page) { return std::vector<OutboxMessage>{Event("p-" + page.slug)}; });
  ASSERT_TRUE(about) << about.error().message;
  EXPECT_EQ(about->author_name, "Ada");
  auto taken = store_->CreatePage(author, PageInput{"about", "t", "b"},
                                  [](const Page&) { return std::vector<OutboxMessage>{Event("never")}; });
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->CreatePage(author, PageInput{"contact", "Contact", "b"},
                                 [](const Page&) { return std::vector<OutboxMessage>{}; }));
  auto found = store_->FindPage("about");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->title, "Über uns ✓");
  EXPECT_EQ((*found)->body.size(), body.size());
  auto listing = store_->ListPages(0, 1);
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_EQ(listing->total, 2);
  ASSERT_EQ(listing->items.size(), 1u);
  EXPECT_EQ(listing->items[0].slug, "contact");  // newest first
  EXPECT_EQ(store_->ListPages(-1, 5).error().code, ErrorCode::kInvalidArgument);
  auto clash = store_->UpdatePage(about->id, PageInput{"contact", "t", "b"},
                                  [](const Page&) { return std::vector<OutboxMessage>{}; });
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  // Saving unchanged content is still an update (MariaDB reports 0 changed rows for it).
  auto same = store_->UpdatePage(about->id, PageInput{"about", "Über uns ✓", body},
                                 [](const Page&) { return std::vector<OutboxMessage>{}; });
  ASSERT_TRUE(same) << same.error().message;
  auto renamed = store_->UpdatePage(about->id, PageInput{"team", "Team", "b"},
                                    [](const Page&) { return std::vector<OutboxMessage>{Event("renamed")}; });
  ASSERT_TRUE(renamed);
  EXPECT_FALSE(*store_->FindPage("about"));
  EXPECT_EQ(store_->UpdatePage(999999, PageInput{"x", "t", "b"},
                               [](const Page&) { return std::vector<OutboxMessage>{}; })
                .error()
                .code,
            ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeletePage(about->id, {Event("deleted")}));
  EXPECT_EQ(store_->DeletePage(about->id, {Event("never-2")}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(PendingMessageIds(*store_), (std::vector<std::string>{"p-about", "renamed", "deleted"}));
}

TEST_P(ServerStoreTest, PostsShowDraftsOnlyToTheirAuthorAndTakeTheirCommentsAlong) {
  const std::int64_t ada = AddUser(*store_, "Ada", "ada@example.org");
  const std::int64_t bob = AddUser(*store_, "Bob", "bob@example.org");
  auto none = [](const auto&...) { return std::vector<OutboxMessage>{}; };
  auto published = store_->CreatePost(ada, PostInput{"Hello", "*hi*", true}, none);
  ASSERT_TRUE(published) << published.error().message;
  auto draft = store_->CreatePost(ada, PostInput{"Draft", "wip", false}, none);
  ASSERT_TRUE(draft);
  EXPECT_EQ(store_->ListPosts(0, 0, 10)->total, 1);
  EXPECT_EQ(store_->ListPosts(bob, 0, 10)->total, 1);
  EXPECT_EQ(store_->ListPosts(ada, 0, 10)->total, 2);
  auto comment = store_->CreateComment(published->id, bob, "Nice", none);
  ASSERT_TRUE(comment) << comment.error().message;
  EXPECT_EQ(comment->author_name, "Bob");
  EXPECT_EQ(store_->CreateComment(424242, bob, "x", none).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store_->FindPost(published->id))->comment_count, 1);
  auto comments = store_->ListComments(published->id, 0, 10);
  ASSERT_TRUE(comments);
  EXPECT_EQ(comments->total, 1);
  bool saw_before_draft = false;
  auto updated = store_->UpdatePost(draft->id, PostInput{"Draft", "done", true},
                                    [&](const Post& before, const Post& after) {
                                      saw_before_draft = !before.is_published && after.is_published;
                                      return std::vector<OutboxMessage>{Event("published")};
                                    });
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_TRUE(saw_before_draft);
  EXPECT_EQ(store_->ListPosts(0, 0, 10)->total, 2);
  ASSERT_TRUE(store_->DeletePost(published->id, {Event("post-deleted")}));
  EXPECT_EQ(store_->ListComments(published->id, 0, 10)->total, 0);
  EXPECT_EQ(store_->DeletePost(published->id, {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->UpdatePost(published->id, PostInput{"t", "b", true}, none).error().code,
            ErrorCode::kNotFound);
}

TEST_P(ServerStoreTest, TwoRelaysNeverClaimTheSameRowAndALapsedLeaseIsTakenOver) {
  store_.reset();
  store_ = Open(std::chrono::milliseconds(2000));
  other_ = Open(std::chrono::milliseconds(2000));
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 300; ++i) messages.push_back(Event("row-" + std::to_string(i)));
  ASSERT_TRUE(store_->CreateUser(NewUser{"n", "n@example.org", "h", "", 0}, messages));
  // Both relays claim at the same time, from two threads, in small batches, and mark what
  // they claimed sent (as the relay does once the broker confirms), until nothing is left.
  std::vector<std::int64_t> first_ids;
  std::vector<std::int64_t> second_ids;
  auto drain = [](ServerStore& store, std::vector<std::int64_t>& ids) {
    for (;;) {
      auto rows = store.PendingOutbox(25);
      ASSERT_TRUE(rows) << rows.error().message;
      if (rows->empty()) return;
      std::vector<std::int64_t> batch;
      for (const OutboxRow& row : *rows) batch.push_back(row.id);
      ASSERT_TRUE(store.MarkOutboxSent(batch));
      ids.insert(ids.end(), batch.begin(), batch.end());
    }
  };
  std::thread racer([&] { drain(*other_, second_ids); });
  drain(*store_, first_ids);
  racer.join();
  std::set<std::int64_t> all(first_ids.begin(), first_ids.end());
  for (std::int64_t id : second_ids) EXPECT_TRUE(all.insert(id).second) << "row " << id << " claimed twice";
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(store_->Backlog()->pending, 0);

  // A relay claims rows and "dies"; the other gets none of them until the lease runs out.
  ASSERT_TRUE(store_->CreateUser(NewUser{"m", "m@example.org", "h", "", 0},
                                 {Event("late-1"), Event("late-2")}));
  ASSERT_EQ(store_->PendingOutbox(100)->size(), 2u);
  EXPECT_TRUE(other_->PendingOutbox(100)->empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto taken_over = other_->PendingOutbox(100);
  ASSERT_TRUE(taken_over);
  ASSERT_EQ(taken_over->size(), 2u);
  EXPECT_EQ(taken_over->front().message.message_id, "late-1");
  EXPECT_TRUE(store_->PendingOutbox(100)->empty());  // now the other's
}

TEST_P(ServerStoreTest, PendingOutboxAfterAnIdReturnsOnlyLaterRows) {
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 5; ++i) messages.push_back(Event("after-" + std::to_string(i)));
  ASSERT_TRUE(store_->CreateUser(NewUser{"a", "a@example.org", "h", "", 0}, messages));
  auto first_two = store_->PendingOutbox(2);
  ASSERT_TRUE(first_two) << first_two.error().message;
  ASSERT_EQ(first_two->size(), 2u);

  auto after = store_->PendingOutboxAfter(100, first_two->back().id);
  auto from_start = store_->PendingOutboxAfter(100, 0);

  ASSERT_TRUE(after && from_start);
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ(after->front().message.message_id, "after-2");
  EXPECT_EQ(from_start->size(), 5u);
}

TEST_P(ServerStoreTest, AFailedPublishBacksOffKeepsItsReasonAndReleasesTheClaim) {
  ASSERT_TRUE(store_->CreateUser(NewUser{"n", "n@example.org", "h", "", 0}, {Event("a"), Event("b")}));
  other_ = Open();
  auto rows = store_->PendingOutbox(10);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  const std::int64_t first = rows->front().id;
  ASSERT_TRUE(store_->RecordOutboxFailure(std::vector<std::int64_t>{first}, "NOT_FOUND - no exchange"));
  auto backlog = store_->Backlog();
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->pending, 2);
  EXPECT_EQ(backlog->failing, 1);
  auto failing = store_->FailingOutbox(10);
  ASSERT_TRUE(failing);
  ASSERT_EQ(failing->size(), 1u);
  EXPECT_EQ(failing->front().attempts, 1);
  EXPECT_EQ(failing->front().last_error, "NOT_FOUND - no exchange");
  // Backing off (1 s): nobody gets it now; the other row is still claimed by the first store.
  EXPECT_TRUE(other_->PendingOutbox(10)->empty());
  ASSERT_TRUE(store_->ReleaseOutboxClaims());
  auto released = other_->PendingOutbox(10);
  ASSERT_TRUE(released);
  ASSERT_EQ(released->size(), 1u);
  EXPECT_EQ(released->front().message.message_id, "b");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto retried = other_->PendingOutbox(10);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->size(), 2u);
}

TEST_P(ServerStoreTest, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string n = std::to_string(t) + "-" + std::to_string(i);
        if (!store_->CreateUser(NewUser{"u", n + "@example.org", "h", "tok" + n, 1}, {Event("m" + n)})) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->Backlog()->pending, kThreads * kEach);
}

TEST_P(ServerStoreTest, RecoversWhenItsConnectionsAreKilled) {
  AddUser(*store_, "Ada", "ada@example.org");
  ASSERT_TRUE(store_->Ping());
  KillStoreConnections();
  // The pooled connections are dead: the next read and the next write each find out and run
  // again on a fresh connection, with no error to the caller and no restart.
  auto first = store_->FindUserByEmail("ada@example.org");
  ASSERT_TRUE(first) << first.error().message;
  KillStoreConnections();
  EXPECT_TRUE(store_->CreateSession("after-restart", (*first)->id, TestNowMs() + 60000));
  auto found = store_->FindUserByEmail("ada@example.org");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_TRUE(found->has_value());
  EXPECT_TRUE(store_->Ping());
}

TEST_P(ServerStoreTest, BadUrlsFailWithAnErrorThatSaysWhatToFix) {
  DbUrl wrong_password = url_;
  wrong_password.password = "not-the-password";
  auto refused = ServerStore::Open(wrong_password, ServerStore::Options{});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("not-the-password"), std::string::npos);
  DbUrl missing = url_;
  missing.database = "inkwell_no_such_database";
  auto absent = ServerStore::Open(missing, ServerStore::Options{});
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ErrorCode::kInvalidArgument) << absent.error().message;
  EXPECT_NE(absent.error().message.find("inkwell_no_such_database"), std::string::npos);
  DbUrl down = url_;
  down.port = 1;  // nothing listens there
  auto unreachable = ServerStore::Open(down, ServerStore::Options{});
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable) << unreachable.error().message;
}

INSTANTIATE_TEST_SUITE_P(Engines, ServerStoreTest, ::testing::Values("postgresql", "mysql"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace inkwell::db
