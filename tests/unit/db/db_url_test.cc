#include "db/db_url.h"

#include <gtest/gtest.h>

namespace inkwell::db {
namespace {

TEST(DbUrlTest, ParsesSqlite) {
  auto url = ParseDbUrl("sqlite:var/inkwell.db");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->engine, DbUrl::Engine::kSqlite);
  EXPECT_EQ(url->path, "var/inkwell.db");
}

TEST(DbUrlTest, ParsesServerUrlsWithDefaultsAndEscapes) {
  auto mysql = ParseDbUrl("mysql://ink%40well:p%3Ass@db.example:3307/cms");
  ASSERT_TRUE(mysql) << mysql.error().message;
  EXPECT_EQ(mysql->engine, DbUrl::Engine::kMysql);
  EXPECT_EQ(mysql->user, "ink@well");
  EXPECT_EQ(mysql->password, "p:ss");
  EXPECT_EQ(mysql->host, "db.example");
  EXPECT_EQ(mysql->port, 3307);
  EXPECT_EQ(mysql->database, "cms");
  EXPECT_EQ(mysql->Redacted(), "mysql://ink@well:***@db.example:3307/cms");

  auto postgres = ParseDbUrl("postgres://inkwell@127.0.0.1/inkwell");
  ASSERT_TRUE(postgres) << postgres.error().message;
  EXPECT_EQ(postgres->engine, DbUrl::Engine::kPostgresql);
  EXPECT_EQ(postgres->port, 5432);
  EXPECT_EQ(postgres->password, "");
  EXPECT_EQ(ParseDbUrl("mariadb://u:p@h/d")->port, 3306);
  EXPECT_EQ(ParseDbUrl("postgresql://u:p@[::1]:5433/d")->host, "::1");
}

TEST(DbUrlTest, RejectsMalformedUrlsWithTheExpectedForm) {
  for (const char* bad :
       {"", "oracle://u:p@h/d", "sqlite:", "mysql://u:p@h:3306", "mysql://u:p@h:3306/",
        "mysql://u:p@h:0/d", "mysql://u:p@h:99999/d", "mysql://u:p@h:x/d", "mysql://u:p@:1/d",
        "postgresql://h:5432/d", "postgresql://u:%zz@h/d", "postgresql://u:p@h/d?sslmode=require",
        "postgresql://u:p@h/a/b"}) {
    auto url = ParseDbUrl(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().code, core::ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(url.error().message.starts_with("INKWELL_DB_URL: ")) << url.error().message;
  }
  EXPECT_NE(ParseDbUrl("mysql://u:secret@h:1/").error().message.find("mysql://USER:PASSWORD@"),
            std::string::npos);
  EXPECT_EQ(ParseDbUrl("mysql://u:secret@h:1/").error().message.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace inkwell::db
