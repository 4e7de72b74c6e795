#include "web/web_app.h"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/traceparent.h"
#include "db/sqlite_store.h"

namespace inkwell::web {
namespace {

using Json = nlohmann::json;

constexpr char kIncomingTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string HeaderOf(const http::HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

http::HttpRequest Request(std::string method, std::string target) {
  http::HttpRequest request;
  request.method = std::move(method);
  request.target = target;
  const size_t question = target.find('?');
  request.path = target.substr(0, question);
  request.query = question == std::string::npos ? "" : target.substr(question + 1);
  request.client_address = "127.0.0.1";
  return request;
}

http::HttpRequest JsonPost(const std::string& body) {
  http::HttpRequest request = Request("POST", "/api/v1/users");
  request.headers["content-type"] = "application/json";
  request.body = body;
  return request;
}

http::HttpRequest FormPost(const std::string& body) {
  http::HttpRequest request = Request("POST", "/register");
  request.headers["content-type"] = "application/x-www-form-urlencoded";
  request.body = body;
  return request;
}

class WebAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = db::SqliteStore::Open(":memory:");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto templates = templating::TemplateSet::Load(INKWELL_TEST_TEMPLATE_DIR);
    ASSERT_TRUE(templates) << templates.error().message;
    templates_ = std::move(*templates);
    registration_.emplace(*store_, hasher_, [this] { ++commits_; });
    app_.emplace(WebApp::Dependencies{*store_, *registration_, pool_, *templates_, metrics_,
                                      [this] { return is_broker_connected_.load(); }});
  }

  // Handles request and waits (up to 30 s) for the one response.
  http::HttpResponse Call(http::HttpRequest request) {
    auto promise = std::make_shared<std::promise<http::HttpResponse>>();
    auto future = promise->get_future();
    auto calls = std::make_shared<std::atomic<int>>(0);
    app_->Handle(std::move(request), [promise, calls](http::HttpResponse response) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(response));
    });
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "no response within 30 s";
      return http::HttpResponse{0, "", {}, ""};
    }
    http::HttpResponse response = future.get();
    EXPECT_EQ(calls->load(), 1) << "answered more than once";
    return response;
  }

  static Json ErrorBody(const http::HttpResponse& response) {
    const Json body = Json::parse(response.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return body.is_object() && body.contains("error") ? body["error"] : Json();
  }

  std::unique_ptr<db::SqliteStore> store_;
  std::optional<templating::TemplateSet> templates_;
  PasswordHasher hasher_;
  std::atomic<int> commits_{0};
  std::optional<Registration> registration_;
  core::Metrics metrics_;
  std::atomic<bool> is_broker_connected_{true};
  std::optional<WebApp> app_;
  // Last, so that it is destroyed first: its threads finish before what their tasks use goes.
  core::WorkerPool pool_{1, 16};
};

constexpr char kAdaJson[] =
    R"({"name": "Ada Lovelace", "email": "ada@example.org", "password": "correct horse"})";
constexpr char kAdaForm[] =
    "user_name=Ada+Lovelace&user_email=ada%40example.org&user_password=correct+horse";

TEST_F(WebAppTest, HealthzAnswersOk) {
  const http::HttpResponse response = Call(Request("GET", "/healthz"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(WebAppTest, ReadyzIs503WhileBrokerIsDisconnected) {
  is_broker_connected_ = false;

  const http::HttpResponse response = Call(Request("GET", "/readyz"));

  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find("broker"), std::string::npos) << response.body;
}

TEST_F(WebAppTest, ReadyzIs200WhenDatabaseAndBrokerAreUp) {
  is_broker_connected_ = true;

  const http::HttpResponse response = Call(Request("GET", "/readyz"));

  EXPECT_EQ(response.status, 200);
}

TEST_F(WebAppTest, RegisterPageRendersForm) {
  const http::HttpResponse response = Call(Request("GET", "/register"));
  const http::HttpResponse root = Call(Request("GET", "/"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("name=\"user_email\""), std::string::npos);
  EXPECT_EQ(root.status, 200);
}

TEST_F(WebAppTest, ApiCreatesUserWith201AndId) {
  const http::HttpResponse response = Call(JsonPost(kAdaJson));

  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const Json body = Json::parse(response.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << response.body;
  ASSERT_TRUE(body["id"].is_number_integer()) << response.body;
  EXPECT_GT(body["id"].get<std::int64_t>(), 0);
  EXPECT_EQ(body["email"], "ada@example.org");
  EXPECT_EQ(body.contains("password"), false);
  EXPECT_EQ(commits_.load(), 1);
  auto backlog = store_->Backlog();
  ASSERT_TRUE(backlog);
  EXPECT_GE(backlog->pending, 1);
}

TEST_F(WebAppTest, ApiDuplicateEmailIs409Conflict) {
  ASSERT_TRUE(store_->CreateUser(db::NewUser{"Ada", "ada@example.org", "hash"}, std::vector<db::OutboxMessage>{}));

  const http::HttpResponse response = Call(JsonPost(kAdaJson));

  EXPECT_EQ(response.status, 409);
  const Json error = ErrorBody(response);
  EXPECT_EQ(error["code"], "conflict") << response.body;
  EXPECT_TRUE(error["message"].is_string());
}

TEST_F(WebAppTest, ApiRejectsWrongContentTypeWith415) {
  http::HttpRequest request = JsonPost(kAdaJson);
  request.headers["content-type"] = "text/plain";

  const http::HttpResponse response = Call(std::move(request));

  EXPECT_EQ(response.status, 415);
  EXPECT_EQ(ErrorBody(response)["code"], "unsupported_media_type");
}

TEST_F(WebAppTest, ApiAcceptsJsonContentTypeWithParameters) {
  http::HttpRequest request = JsonPost(kAdaJson);
  request.headers["content-type"] = "Application/JSON; charset=utf-8";

  const http::HttpResponse response = Call(std::move(request));

  EXPECT_EQ(response.status, 201) << response.body;
}

TEST_F(WebAppTest, ApiRejectsTooLargeBodyWith413) {
  http::HttpRequest request = JsonPost("");
  request.is_body_too_large = true;

  const http::HttpResponse response = Call(std::move(request));

  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(ErrorBody(response)["code"], "payload_too_large");
}

TEST_F(WebAppTest, ApiRejectsInvalidJsonWith400) {
  for (const char* body : {"{not json", "[]", "\"text\"", ""}) {
    const http::HttpResponse response = Call(JsonPost(body));

    EXPECT_EQ(response.status, 400) << body;
    EXPECT_EQ(ErrorBody(response)["code"], "invalid_argument") << body;
  }
}

TEST_F(WebAppTest, ApiRejectsNonStringFieldWith400) {
  const http::HttpResponse response =
      Call(JsonPost(R"({"name": 1, "email": "ada@example.org", "password": "correct horse"})"));

  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorBody(response)["message"].get<std::string>().find("\"name\""), std::string::npos);
}

TEST_F(WebAppTest, ApiRejectsInvalidRegistrationWith400) {
  const http::HttpResponse response =
      Call(JsonPost(R"({"name": "Ada", "email": "not-an-address", "password": "correct horse"})"));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(ErrorBody(response)["code"], "invalid_argument");
  EXPECT_EQ(commits_.load(), 0);
}

TEST_F(WebAppTest, FormRegistrationRedirectsWith303) {
  const http::HttpResponse response = Call(FormPost(kAdaForm));

  EXPECT_EQ(response.status, 303) << response.body;
  EXPECT_EQ(HeaderOf(response, "Location"), "/registered?email=ada%40example.org");
  EXPECT_EQ(commits_.load(), 1);
}

TEST_F(WebAppTest, FormErrorRerendersFormWith400AndEscapedName) {
  const http::HttpResponse response =
      Call(FormPost("user_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&user_email=nope&user_password=secret-password"));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("&lt;script&gt;"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("<script>"), std::string::npos);
  EXPECT_EQ(response.body.find("secret-password"), std::string::npos);
  EXPECT_NE(response.body.find("class=\"error\""), std::string::npos);
}

TEST_F(WebAppTest, FormDuplicateEmailRerendersFormWith409) {
  ASSERT_TRUE(store_->CreateUser(db::NewUser{"Ada", "ada@example.org", "hash"}, std::vector<db::OutboxMessage>{}));

  const http::HttpResponse response = Call(FormPost(kAdaForm));

  EXPECT_EQ(response.status, 409);
  EXPECT_NE(response.body.find("already registered"), std::string::npos) << response.body;
}

TEST_F(WebAppTest, FormRejectsWrongContentTypeWith415) {
  http::HttpRequest request = FormPost(kAdaForm);
  request.headers["content-type"] = "multipart/form-data; boundary=x";

  const http::HttpResponse response = Call(std::move(request));

  EXPECT_EQ(response.status, 415);
}

TEST_F(WebAppTest, FormRejectsTooLargeBodyWith413) {
  http::HttpRequest request = FormPost("");
  request.is_body_too_large = true;

  const http::HttpResponse response = Call(std::move(request));

  EXPECT_EQ(response.status, 413);
}

TEST_F(WebAppTest, FormRejectsMalformedEscapeWith400) {
  const http::HttpResponse response = Call(FormPost("user_name=%zz"));

  EXPECT_EQ(response.status, 400);
}

TEST_F(WebAppTest, FullPoolAnswers503WithRetryAfter) {
  core::WorkerPool full_pool(1, 0);
  WebApp app(WebApp::Dependencies{*store_, *registration_, full_pool, *templates_, metrics_,
                                  [] { return true; }});
  std::optional<http::HttpResponse> answer;

  app.Handle(JsonPost(kAdaJson), [&answer](http::HttpResponse response) { answer = std::move(response); });

  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(HeaderOf(*answer, "Retry-After"), "1");
}

TEST_F(WebAppTest, RegisteredPageShowsEscapedEmail) {
  const http::HttpResponse response = Call(Request("GET", "/registered?email=%3Cb%3Eada%40example.org"));

  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("&lt;b&gt;ada@example.org"), std::string::npos) << response.body;
}

TEST_F(WebAppTest, UnknownPathIs404) {
  const http::HttpResponse page = Call(Request("GET", "/no/such/page"));
  const http::HttpResponse api = Call(Request("GET", "/api/v1/nothing"));

  EXPECT_EQ(page.status, 404);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(ErrorBody(api)["code"], "not_found");
}

TEST_F(WebAppTest, WrongMethodIs405WithAllowHeader) {
  const http::HttpResponse healthz = Call(Request("POST", "/healthz"));
  const http::HttpResponse users = Call(Request("GET", "/api/v1/users"));
  const http::HttpResponse reg = Call(Request("DELETE", "/register"));
  const http::HttpResponse root = Call(Request("POST", "/"));

  EXPECT_EQ(healthz.status, 405);
  EXPECT_EQ(HeaderOf(healthz, "Allow"), "GET");
  EXPECT_EQ(users.status, 405);
  EXPECT_EQ(HeaderOf(users, "Allow"), "POST");
  EXPECT_EQ(ErrorBody(users)["code"], "method_not_allowed");
  EXPECT_EQ(reg.status, 405);
  EXPECT_EQ(HeaderOf(reg, "Allow"), "GET, POST");
  EXPECT_EQ(root.status, 405);
  EXPECT_EQ(HeaderOf(root, "Allow"), "GET");
}

TEST_F(WebAppTest, EveryResponseCarriesTraceparent) {
  for (http::HttpRequest request :
       {Request("GET", "/healthz"), Request("GET", "/nowhere"), Request("PUT", "/readyz"),
        JsonPost("{"), FormPost(kAdaForm)}) {
    const std::string target = request.method + " " + request.target;

    const http::HttpResponse response = Call(std::move(request));

    const std::string traceparent = HeaderOf(response, "traceparent");
    EXPECT_FALSE(core::TraceIdOf(traceparent).empty()) << target << ": '" << traceparent << "'";
  }
}

TEST_F(WebAppTest, ValidIncomingTraceparentKeepsItsTraceId) {
  http::HttpRequest request = Request("GET", "/healthz");
  request.headers["traceparent"] = kIncomingTrace;

  const http::HttpResponse response = Call(std::move(request));

  const std::string traceparent = HeaderOf(response, "traceparent");
  EXPECT_EQ(core::TraceIdOf(traceparent), core::TraceIdOf(kIncomingTrace));
  EXPECT_NE(traceparent, kIncomingTrace);
}

TEST_F(WebAppTest, RegistrationCarriesTraceIntoOutbox) {
  http::HttpRequest request = JsonPost(kAdaJson);
  request.headers["traceparent"] = kIncomingTrace;

  const http::HttpResponse response = Call(std::move(request));

  ASSERT_EQ(response.status, 201);
  auto pending = store_->PendingOutbox(10);
  ASSERT_TRUE(pending);
  ASSERT_FALSE(pending->empty());
  for (const db::OutboxRow& row : *pending) {
    EXPECT_EQ(row.message.traceparent, HeaderOf(response, "traceparent")) << row.message.type;
    EXPECT_EQ(core::TraceIdOf(row.message.traceparent), core::TraceIdOf(kIncomingTrace));
  }
}

TEST_F(WebAppTest, MetricsCountRequestsByRouteAndStatus) {
  Call(Request("GET", "/healthz"));
  Call(Request("GET", "/random-scanner-path"));

  const http::HttpResponse response = Call(Request("GET", "/metrics"));

  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find(R"(inkwell_http_requests_total{route="/healthz",status="200"} 1)"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find(R"(inkwell_http_requests_total{route="other",status="404"} 1)"),
            std::string::npos)
      << response.body;
}

}  // namespace
}  // namespace inkwell::web
