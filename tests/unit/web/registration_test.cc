#include "web/registration.h"

#include <string>

#include <gtest/gtest.h>

#include "contracts/email_request.h"
#include "db/sqlite_store.h"
#include "fakes/recording_store.h"

namespace inkwell::web {
namespace {

// The canonical lower-case form of an RFC 4122 version-4 UUID. (No std::regex: g++ 12 warns
// inside it under -fsanitize with -O2, and warnings are errors.)
bool IsUuidV4(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return text[14] == '4' && std::string_view("89ab").find(text[19]) != std::string_view::npos;
}

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

RegistrationInput ValidInput() { return RegistrationInput{"Ada Lovelace", "ada@example.org", "correct horse"}; }

// The field and message of an input that must not validate.
RegistrationError ErrorOf(const RegistrationInput& input) {
  const auto valid = ValidateRegistration(input);
  EXPECT_FALSE(valid.has_value()) << input.name << " / " << input.email;
  if (valid) return {};
  EXPECT_EQ(valid.error().error.code, core::ErrorCode::kInvalidArgument);
  return valid.error();
}

TEST(ValidateRegistrationTest, AcceptsCompleteInput) {
  const auto valid = ValidateRegistration(ValidInput());

  EXPECT_TRUE(valid.has_value()) << valid.error().error.message;
}

TEST(ValidateRegistrationTest, RequiresName) {
  for (const char* name : {"", " ", " \t "}) {
    RegistrationInput input = ValidInput();
    input.name = name;

    const RegistrationError error = ErrorOf(input);

    EXPECT_EQ(error.field, "name");
    EXPECT_NE(error.error.message.find("required"), std::string::npos) << error.error.message;
  }
}

TEST(ValidateRegistrationTest, RejectsNameThatIsNotUtf8) {
  RegistrationInput input = ValidInput();
  input.name = "Ren\xE9";

  const RegistrationError error = ErrorOf(input);

  EXPECT_EQ(error.field, "name");
  EXPECT_NE(error.error.message.find("UTF-8"), std::string::npos);
}

TEST(ValidateRegistrationTest, LimitsNameTo100CharactersNotBytes) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xC3\xA9";
  RegistrationInput fits = ValidInput();
  fits.name = hundred;
  RegistrationInput too_long = ValidInput();
  too_long.name = hundred + "e";

  const auto accepted = ValidateRegistration(fits);
  const RegistrationError error = ErrorOf(too_long);

  EXPECT_TRUE(accepted.has_value()) << accepted.error().error.message;
  EXPECT_EQ(error.field, "name");
  EXPECT_NE(error.error.message.find("too long"), std::string::npos);
}

TEST(ValidateRegistrationTest, RejectsControlCharactersInName) {
  for (const char* name : {"Ada\nBcc: x", "Ada\r", "Ada\x7f", "\tAda\x01"}) {
    RegistrationInput input = ValidInput();
    input.name = name;

    const RegistrationError error = ErrorOf(input);

    EXPECT_EQ(error.field, "name");
    EXPECT_NE(error.error.message.find("control characters"), std::string::npos);
  }
}

TEST(ValidateRegistrationTest, RejectsInvalidEmailWithAddressMessage) {
  for (const char* email : {"", "ada", "ada@localhost", "ada@example.org\r\nBcc: x@y.z"}) {
    RegistrationInput input = ValidInput();
    input.email = email;

    const RegistrationError error = ErrorOf(input);

    EXPECT_EQ(error.field, "email") << email;
    EXPECT_NE(error.error.message.find("e-mail address"), std::string::npos) << error.error.message;
  }
}

TEST(ValidateRegistrationTest, RequiresPassword) {
  RegistrationInput input = ValidInput();
  input.password = "";

  const RegistrationError error = ErrorOf(input);

  EXPECT_EQ(error.field, "password");
  EXPECT_NE(error.error.message.find("required"), std::string::npos);
}

TEST(ValidateRegistrationTest, RejectsPasswordShorterThan8Bytes) {
  RegistrationInput short_input = ValidInput();
  short_input.password = "1234567";
  RegistrationInput eight = ValidInput();
  eight.password = "12345678";

  const RegistrationError error = ErrorOf(short_input);
  const auto accepted = ValidateRegistration(eight);

  EXPECT_EQ(error.field, "password");
  EXPECT_NE(error.error.message.find("too short"), std::string::npos);
  EXPECT_TRUE(accepted.has_value());
}

TEST(ValidateRegistrationTest, RejectsPasswordLongerThan1024Bytes) {
  RegistrationInput longest = ValidInput();
  longest.password = std::string(1024, 'p');
  RegistrationInput too_long = ValidInput();
  too_long.password = std::string(1025, 'p');

  const auto accepted = ValidateRegistration(longest);
  const RegistrationError error = ErrorOf(too_long);

  EXPECT_TRUE(accepted.has_value());
  EXPECT_EQ(error.field, "password");
  EXPECT_NE(error.error.message.find("too long"), std::string::npos);
}

TEST(ValidateRegistrationTest, RejectsPasswordThatIsNotUtf8) {
  RegistrationInput input = ValidInput();
  input.password = "password\xFF";

  const RegistrationError error = ErrorOf(input);

  EXPECT_EQ(error.field, "password");
  EXPECT_NE(error.error.message.find("UTF-8"), std::string::npos);
}

TEST(WelcomeEmailCommandTest, AsksForWelcomeTemplateOnEmailExchange) {
  const db::OutboxMessage command = WelcomeEmailCommand(ValidInput(), kTraceparent);

  const auto request = contracts::ParseEmailRequest(command.body);

  EXPECT_EQ(command.exchange, "email");
  EXPECT_EQ(command.routing_key, "send");
  EXPECT_EQ(command.type, "email.send");
  EXPECT_EQ(command.traceparent, kTraceparent);
  EXPECT_TRUE(IsUuidV4(command.message_id)) << command.message_id;
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->to, "ada@example.org");
  EXPECT_EQ(request->template_name, "welcome");
  EXPECT_EQ(request->data, (std::map<std::string, std::string>{{"email", "ada@example.org"},
                                                               {"name", "Ada Lovelace"}}));
}

TEST(WelcomeEmailCommandTest, GivesEachCommandItsOwnMessageId) {
  const db::OutboxMessage first = WelcomeEmailCommand(ValidInput(), kTraceparent);

  const db::OutboxMessage second = WelcomeEmailCommand(ValidInput(), kTraceparent);

  EXPECT_NE(first.message_id, second.message_id);
}

// The pending outbox rows that ask the mailer for an e-mail (other rows may be events).
std::vector<db::OutboxRow> WelcomeCommandsIn(db::Store& store) {
  auto pending = store.PendingOutbox(100);
  EXPECT_TRUE(pending) << pending.error().message;
  std::vector<db::OutboxRow> commands;
  if (!pending) return commands;
  for (db::OutboxRow& row : *pending) {
    if (row.message.type == contracts::kEmailRequestType) commands.push_back(std::move(row));
  }
  return commands;
}

class RegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = db::SqliteStore::Open(":memory:");
    ASSERT_TRUE(store) << store.error().message;
    sqlite_ = std::move(*store);
    store_.emplace(*sqlite_);
  }

  std::unique_ptr<db::SqliteStore> sqlite_;
  std::optional<fakes::RecordingStore> store_;
  PasswordHasher hasher_;
  int commits_ = 0;
};

TEST_F(RegistrationTest, StoresUserWithVerifiableHashAndWelcomeCommand) {
  Registration registration(*store_, hasher_, [this] { ++commits_; });

  auto id = registration.Register(ValidInput(), kTraceparent);

  ASSERT_TRUE(id) << id.error().error.message;
  EXPECT_GT(*id, 0);
  EXPECT_EQ(commits_, 1);
  const auto users = store_->users();
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].name, "Ada Lovelace");
  EXPECT_EQ(users[0].email, "ada@example.org");
  EXPECT_NE(users[0].password_hash, "correct horse");
  EXPECT_TRUE(hasher_.Verify("correct horse", users[0].password_hash));
  const std::vector<db::OutboxRow> commands = WelcomeCommandsIn(*sqlite_);
  ASSERT_EQ(commands.size(), 1U);
  EXPECT_EQ(commands[0].message.traceparent, kTraceparent);
  auto request = contracts::ParseEmailRequest(commands[0].message.body);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->template_name, "welcome");
}

TEST_F(RegistrationTest, PrepareHashesAndKeepsNoPasswordAndCommitWritesOnlyThen) {
  Registration registration(*store_, hasher_, [this] { ++commits_; }, "https://cms.example");

  auto prepared = registration.Prepare(ValidInput());

  ASSERT_TRUE(prepared) << prepared.error().error.message;
  EXPECT_TRUE(prepared->input.password.empty());  // it travels to another thread: no password
  EXPECT_EQ(prepared->input.email, "ada@example.org");
  EXPECT_TRUE(hasher_.Verify("correct horse", prepared->user.password_hash));
  EXPECT_TRUE(prepared->confirm_url.starts_with("https://cms.example/confirm?token="));
  EXPECT_TRUE(store_->users().empty());  // nothing written before Commit
  EXPECT_EQ(commits_, 0);

  auto id = registration.Commit(*prepared, kTraceparent);

  ASSERT_TRUE(id) << id.error().error.message;
  EXPECT_EQ(commits_, 1);
  ASSERT_EQ(store_->users().size(), 1U);
  EXPECT_EQ(store_->users()[0].password_hash, prepared->user.password_hash);
  const std::vector<db::OutboxRow> commands = WelcomeCommandsIn(*sqlite_);
  ASSERT_EQ(commands.size(), 1U);
  auto request = contracts::ParseEmailRequest(commands[0].message.body);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->data["confirm_url"], prepared->confirm_url);
}

TEST_F(RegistrationTest, PrepareRefusesInvalidInputBeforeHashing) {
  Registration registration(*store_, hasher_, [this] { ++commits_; });
  RegistrationInput input = ValidInput();
  input.email = "not an address";

  auto prepared = registration.Prepare(input);

  ASSERT_FALSE(prepared);
  EXPECT_EQ(prepared.error().error.code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(prepared.error().field, "email");
}

TEST_F(RegistrationTest, DuplicateEmailIsConflictOnEmailField) {
  Registration registration(*store_, hasher_, [this] { ++commits_; });
  ASSERT_TRUE(registration.Register(ValidInput(), kTraceparent));
  RegistrationInput again = ValidInput();
  again.email = "ADA@example.org";

  auto before = sqlite_->Backlog();
  ASSERT_TRUE(before);

  auto duplicate = registration.Register(again, kTraceparent);

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().error.code, core::ErrorCode::kConflict);
  EXPECT_EQ(duplicate.error().field, "email");
  EXPECT_EQ(commits_, 1);
  auto after = sqlite_->Backlog();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->pending, before->pending);
  EXPECT_EQ(WelcomeCommandsIn(*sqlite_).size(), 1U);
}

TEST_F(RegistrationTest, InvalidInputTouchesNothing) {
  Registration registration(*store_, hasher_, [this] { ++commits_; });
  RegistrationInput input = ValidInput();
  input.password = "short";

  auto id = registration.Register(input, kTraceparent);

  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().error.code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(id.error().field, "password");
  EXPECT_TRUE(store_->users().empty());
  EXPECT_EQ(commits_, 0);
}

TEST_F(RegistrationTest, UnavailableDatabaseIsReportedWithoutField) {
  Registration registration(*store_, hasher_, [this] { ++commits_; });
  store_->FailNextWith(core::ErrorCode::kUnavailable);

  auto id = registration.Register(ValidInput(), kTraceparent);

  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().error.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(id.error().field, "");
  EXPECT_EQ(commits_, 0);
}

TEST_F(RegistrationTest, WorksWithoutCommitCallback) {
  Registration registration(*store_, hasher_, nullptr);

  auto id = registration.Register(ValidInput(), kTraceparent);

  EXPECT_TRUE(id) << id.error().error.message;
}

}  // namespace
}  // namespace inkwell::web
