#include "core/config.h"

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

using std::chrono::seconds;

constexpr const char* kVariables[] = {
    "INKWELL_HTTP_ADDR",      "INKWELL_MAILER_HTTP_ADDR", "INKWELL_AMQP_URL",
    "INKWELL_DB_URL",         "INKWELL_MAILER_DB_URL",    "INKWELL_MAIL_URL",
    "INKWELL_MAIL_FROM",      "INKWELL_PUBLIC_URL",       "INKWELL_TEMPLATE_DIR",
    "INKWELL_LOG_LEVEL",      "INKWELL_AMQP_HEARTBEAT",   "INKWELL_QUORUM",
    "INKWELL_IO_THREADS",     "INKWELL_HASH_THREADS",     "INKWELL_PREFETCH",
    "INKWELL_MAIL_WORKERS",   "INKWELL_SMTP_TIMEOUT",
};

// Starts each test with none of the INKWELL_* variables set and puts the originals back after.
class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVariables) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value != nullptr ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name, value->c_str(), 1);
      } else {
        ::unsetenv(name);
      }
    }
  }

  static Config Load(Service service, std::vector<std::string> arguments = {}) {
    arguments.insert(arguments.begin(), "inkwell-test");
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    return LoadConfig(service, static_cast<int>(arguments.size()), argv.data());
  }

  // The message of the std::invalid_argument that loading throws.
  static std::string ErrorOf(Service service, std::vector<std::string> arguments = {}) {
    try {
      Load(service, std::move(arguments));
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    ADD_FAILURE() << "LoadConfig did not throw std::invalid_argument";
    return "";
  }

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(LoadConfigTest, UsesDefaultsWithoutEnvironmentOrFlags) {
  const Config web = Load(Service::kWeb);
  const Config mailer = Load(Service::kMailer);

  EXPECT_EQ(web.http_addr, "127.0.0.1:8080");
  EXPECT_EQ(mailer.http_addr, "127.0.0.1:8081");
  EXPECT_EQ(web.amqp_url, "amqp://guest:guest@127.0.0.1:5682/");
  EXPECT_EQ(web.db_url, "sqlite:var/inkwell.db");
  EXPECT_EQ(mailer.mailer_db_url, "sqlite:var/mailer.db");
  EXPECT_EQ(mailer.mail_url, "maildir:var/mail");
  EXPECT_EQ(web.public_url, "http://127.0.0.1:8080");
  EXPECT_FALSE(web.template_dir.empty());
  EXPECT_EQ(web.log_level, LogLevel::kInfo);
  EXPECT_EQ(web.amqp_heartbeat, seconds(10));
  EXPECT_FALSE(web.is_quorum);
  EXPECT_EQ(web.io_threads, 1U);
  EXPECT_GE(web.hash_threads, 1U);
  EXPECT_EQ(mailer.prefetch, 128);
  EXPECT_EQ(mailer.mail_workers, 4U);
  EXPECT_EQ(mailer.smtp_timeout, seconds(30));
}

TEST_F(LoadConfigTest, ReadsEnvironmentVariables) {
  ::setenv("INKWELL_HTTP_ADDR", "0.0.0.0:9000", 1);
  ::setenv("INKWELL_AMQP_URL", "amqp://u:p@broker:5672/", 1);
  ::setenv("INKWELL_DB_URL", "sqlite:/tmp/x.db", 1);
  ::setenv("INKWELL_LOG_LEVEL", "debug", 1);
  ::setenv("INKWELL_AMQP_HEARTBEAT", "30", 1);
  ::setenv("INKWELL_QUORUM", "1", 1);
  ::setenv("INKWELL_IO_THREADS", "4", 1);
  ::setenv("INKWELL_HASH_THREADS", "3", 1);
  ::setenv("INKWELL_PUBLIC_URL", "https://inkwell.example.org", 1);
  ::setenv("INKWELL_TEMPLATE_DIR", "/srv/templates", 1);

  const Config config = Load(Service::kWeb);

  EXPECT_EQ(config.http_addr, "0.0.0.0:9000");
  EXPECT_EQ(config.amqp_url, "amqp://u:p@broker:5672/");
  EXPECT_EQ(config.db_url, "sqlite:/tmp/x.db");
  EXPECT_EQ(config.log_level, LogLevel::kDebug);
  EXPECT_EQ(config.amqp_heartbeat, seconds(30));
  EXPECT_TRUE(config.is_quorum);
  EXPECT_EQ(config.io_threads, 4U);
  EXPECT_EQ(config.hash_threads, 3U);
  EXPECT_EQ(config.public_url, "https://inkwell.example.org");
  EXPECT_EQ(config.template_dir, "/srv/templates");
}

TEST_F(LoadConfigTest, ReadsMailerEnvironmentVariables) {
  ::setenv("INKWELL_MAILER_HTTP_ADDR", "127.0.0.1:9181", 1);
  ::setenv("INKWELL_MAILER_DB_URL", "sqlite:/tmp/m.db", 1);
  ::setenv("INKWELL_MAIL_URL", "smtp://relay:25", 1);
  ::setenv("INKWELL_MAIL_FROM", "Ink <ink@example.org>", 1);
  ::setenv("INKWELL_PREFETCH", "100", 1);
  ::setenv("INKWELL_MAIL_WORKERS", "8", 1);
  ::setenv("INKWELL_SMTP_TIMEOUT", "5", 1);

  const Config config = Load(Service::kMailer);

  EXPECT_EQ(config.http_addr, "127.0.0.1:9181");
  EXPECT_EQ(config.mailer_db_url, "sqlite:/tmp/m.db");
  EXPECT_EQ(config.mail_url, "smtp://relay:25");
  EXPECT_EQ(config.mail_from, "Ink <ink@example.org>");
  EXPECT_EQ(config.prefetch, 100);
  EXPECT_EQ(config.mail_workers, 8U);
  EXPECT_EQ(config.smtp_timeout, seconds(5));
}

TEST_F(LoadConfigTest, TreatsEmptyVariableAsUnset) {
  ::setenv("INKWELL_AMQP_HEARTBEAT", "", 1);

  const Config config = Load(Service::kWeb);

  EXPECT_EQ(config.amqp_heartbeat, seconds(10));
}

TEST_F(LoadConfigTest, FlagsOverrideEnvironment) {
  ::setenv("INKWELL_AMQP_URL", "amqp://from-env/", 1);
  ::setenv("INKWELL_HTTP_ADDR", "127.0.0.1:1111", 1);
  ::setenv("INKWELL_AMQP_HEARTBEAT", "20", 1);
  ::setenv("INKWELL_LOG_LEVEL", "error", 1);

  const Config config = Load(Service::kWeb, {"--amqp-url", "amqp://from-flag/", "--http-addr",
                                             "127.0.0.1:2222", "--amqp-heartbeat", "40",
                                             "--log-level", "warn"});

  EXPECT_EQ(config.amqp_url, "amqp://from-flag/");
  EXPECT_EQ(config.http_addr, "127.0.0.1:2222");
  EXPECT_EQ(config.amqp_heartbeat, seconds(40));
  EXPECT_EQ(config.log_level, LogLevel::kWarn);
  EXPECT_EQ(config.public_url, "http://127.0.0.1:2222");
}

TEST_F(LoadConfigTest, MailerFlagsOverrideEnvironment) {
  ::setenv("INKWELL_PREFETCH", "5", 1);
  ::setenv("INKWELL_MAIL_URL", "maildir:/env", 1);

  const Config config =
      Load(Service::kMailer, {"--prefetch", "64", "--mail-url", "maildir:/flag", "--mail-workers", "2"});

  EXPECT_EQ(config.prefetch, 64);
  EXPECT_EQ(config.mail_url, "maildir:/flag");
  EXPECT_EQ(config.mail_workers, 2U);
}

TEST_F(LoadConfigTest, RejectsBadLogLevelNamingTheVariable) {
  ::setenv("INKWELL_LOG_LEVEL", "loud", 1);

  const std::string message = ErrorOf(Service::kWeb);

  EXPECT_NE(message.find("INKWELL_LOG_LEVEL"), std::string::npos) << message;
  EXPECT_NE(message.find("loud"), std::string::npos) << message;
}

TEST_F(LoadConfigTest, RejectsNumbersOutOfRangeNamingTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"INKWELL_AMQP_HEARTBEAT", "4"}, {"INKWELL_AMQP_HEARTBEAT", "61"},
      {"INKWELL_QUORUM", "2"},         {"INKWELL_IO_THREADS", "0"},
      {"INKWELL_IO_THREADS", "65"},    {"INKWELL_HASH_THREADS", "65"},
  };

  for (const auto& [name, value] : cases) {
    ::setenv(name, value, 1);

    const std::string message = ErrorOf(Service::kWeb);

    EXPECT_NE(message.find(name), std::string::npos) << name << "=" << value << ": " << message;
    ::unsetenv(name);
  }
}

TEST_F(LoadConfigTest, RejectsMailerNumbersOutOfRangeNamingTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"INKWELL_PREFETCH", "0"},     {"INKWELL_PREFETCH", "10001"}, {"INKWELL_MAIL_WORKERS", "0"},
      {"INKWELL_SMTP_TIMEOUT", "0"}, {"INKWELL_SMTP_TIMEOUT", "601"},
  };

  for (const auto& [name, value] : cases) {
    ::setenv(name, value, 1);

    const std::string message = ErrorOf(Service::kMailer);

    EXPECT_NE(message.find(name), std::string::npos) << name << "=" << value << ": " << message;
    ::unsetenv(name);
  }
}

TEST_F(LoadConfigTest, RejectsValuesThatAreNotWholeNumbers) {
  for (const char* value : {"ten", "10s", "1.5", "-1", "99999999999999999999999", "0x10"}) {
    ::setenv("INKWELL_AMQP_HEARTBEAT", value, 1);

    const std::string message = ErrorOf(Service::kWeb);

    EXPECT_NE(message.find("INKWELL_AMQP_HEARTBEAT"), std::string::npos) << value << ": " << message;
  }
}

TEST_F(LoadConfigTest, RejectsBadFlagValueNamingTheSetting) {
  const std::string message = ErrorOf(Service::kWeb, {"--io-threads", "100"});

  EXPECT_NE(message.find("INKWELL_IO_THREADS"), std::string::npos) << message;
}

}  // namespace
}  // namespace inkwell::core
