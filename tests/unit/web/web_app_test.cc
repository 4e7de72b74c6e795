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

// A browser's CSRF cookie and the matching hidden field (43 base64url characters).
constexpr char kCsrf[] = "csrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsr";

http::HttpRequest FormPost(const std::string& body, const std::string& path = "/register") {
  http::HttpRequest request = Request("POST", path);
  request.headers["content-type"] = "application/x-www-form-urlencoded";
  request.headers["cookie"] = std::string("inkwell_csrf=") + kCsrf;
  request.body = body.empty() ? body : body + "&csrf_token=" + kCsrf;
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
    registration_.emplace(*store_, hasher_, [this] { ++commits_; }, "http://inkwell.test");
    app_.emplace(Dependencies(pool_));
  }

  WebApp::Dependencies Dependencies(core::WorkerPool& pool, core::Metrics* metrics = nullptr) {
    WebOptions options;
    options.public_url = "http://inkwell.test";
    options.rate_limit_per_minute = rate_limit_;
    options.static_dir = INKWELL_TEST_STATIC_DIR;
    return WebApp::Dependencies{*store_, *registration_, hasher_, pool, pool, *templates_,
                                metrics != nullptr ? *metrics : metrics_,
                                cache_, [this] { return is_broker_connected_.load(); },
                                [this] { ++writes_; }, options};
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
  PasswordHasher hasher_{PasswordHasher::Strength::kMinimum};
  std::atomic<int> commits_{0};
  std::atomic<int> writes_{0};
  unsigned rate_limit_ = 0;
  std::optional<Registration> registration_;
  core::Metrics metrics_;
  PageCache cache_{1 << 20, metrics_};
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
  ASSERT_TRUE(store_->CreateUser(db::NewUser{"Ada", "ada@example.org", "hash", "", 0}, std::vector<db::OutboxMessage>{}));

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
  ASSERT_TRUE(store_->CreateUser(db::NewUser{"Ada", "ada@example.org", "hash", "", 0}, std::vector<db::OutboxMessage>{}));

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
  WebApp app(Dependencies(full_pool));
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

TEST_F(WebAppTest, MetricsCountEveryRequestAndTimeEachRoute) {
  for (int i = 0; i < 3; ++i) Call(Request("GET", "/healthz"));
  Call(Request("GET", "/nope"));
  Call(Request("GET", "/nope"));

  const http::HttpResponse response = Call(Request("GET", "/metrics"));

  EXPECT_NE(response.body.find(R"(inkwell_http_requests_total{route="/healthz",status="200"} 3)"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find(R"(inkwell_http_requests_total{route="other",status="404"} 2)"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find(R"(inkwell_http_request_duration_seconds_count{route="/healthz"} 3)"),
            std::string::npos)
      << response.body;
}

TEST_F(WebAppTest, TwoInstancesOnOneThreadCountIntoTheirOwnMetrics) {
  core::Metrics other_metrics;
  std::optional<WebApp> other(std::in_place, Dependencies(pool_, &other_metrics));

  Call(Request("GET", "/healthz"));  // app_, then other, then app_ again, all on this thread
  other->Handle(Request("GET", "/healthz"), [](http::HttpResponse) {});
  Call(Request("GET", "/healthz"));
  const http::HttpResponse ours = Call(Request("GET", "/metrics"));
  other.reset();  // a third instance may reuse its address: the cache must not mistake it
  WebApp third(Dependencies(pool_));
  third.Handle(Request("GET", "/healthz"), [](http::HttpResponse) {});

  EXPECT_NE(ours.body.find(R"(inkwell_http_requests_total{route="/healthz",status="200"} 2)"),
            std::string::npos)
      << ours.body;
  EXPECT_NE(other_metrics.Render().find(R"(inkwell_http_requests_total{route="/healthz",status="200"} 1)"),
            std::string::npos)
      << other_metrics.Render();
  EXPECT_NE(metrics_.Render().find(R"(inkwell_http_requests_total{route="/healthz",status="200"} 3)"),
            std::string::npos)
      << metrics_.Render();
}

}  // namespace
}  // namespace inkwell::web

// ---------------------------------------------------------------- the CMS

namespace inkwell::web {
namespace {

class CmsTest : public WebAppTest {
 protected:
  // Registers through the API and returns the token of the confirmation link in the welcome mail.
  std::string RegisterAndGetConfirmToken(const std::string& email) {
    const http::HttpResponse created = Call(JsonPost(
        R"({"name": "Ada", "email": ")" + email + R"(", "password": "correct horse"})"));
    EXPECT_EQ(created.status, 201) << created.body;
    auto rows = store_->PendingOutbox(1000);
    EXPECT_TRUE(rows.has_value());
    for (const db::OutboxRow& row : *rows) {
      const Json body = Json::parse(row.message.body, nullptr, false);
      if (body.is_object() && body.value("to", "") == email && body.contains("data")) {
        const std::string url = body["data"].value("confirm_url", "");
        const size_t at = url.find("token=");
        if (at != std::string::npos) return url.substr(at + 6);
      }
    }
    ADD_FAILURE() << "no welcome mail with a confirmation link for " << email;
    return {};
  }

  http::HttpResponse Login(const std::string& email, const std::string& password) {
    http::HttpRequest request = Request("POST", "/api/v1/sessions");
    request.headers["content-type"] = "application/json";
    request.body = Json{{"email", email}, {"password", password}}.dump();
    return Call(std::move(request));
  }

  // A confirmed user's bearer token.
  std::string ConfirmedUserToken(const std::string& email) {
    const std::string token = RegisterAndGetConfirmToken(email);
    EXPECT_EQ(Call(Request("GET", "/confirm?token=" + token)).status, 200);
    const http::HttpResponse session = Login(email, "correct horse");
    EXPECT_EQ(session.status, 201) << session.body;
    return Json::parse(session.body).value("token", "");
  }

  http::HttpResponse Api(const std::string& method, const std::string& target, const std::string& bearer,
                         const Json& body = nullptr) {
    http::HttpRequest request = Request(method, target);
    if (!bearer.empty()) request.headers["authorization"] = "Bearer " + bearer;
    if (!body.is_null()) {
      request.headers["content-type"] = "application/json";
      request.body = body.dump();
    }
    return Call(std::move(request));
  }
};

TEST_F(CmsTest, FormWithoutOrWithWrongCsrfTokenIs403AndRegistersNobody) {
  http::HttpRequest missing = FormPost(kAdaForm);
  missing.body = kAdaForm;  // no csrf_token field
  http::HttpRequest wrong = FormPost(kAdaForm);
  wrong.headers["cookie"] = "inkwell_csrf=otherotherotherotherotherotherotherotherotr";

  EXPECT_EQ(Call(std::move(missing)).status, 403);
  EXPECT_EQ(Call(std::move(wrong)).status, 403);
  EXPECT_EQ(commits_.load(), 0);
}

TEST_F(CmsTest, LoginNeedsConfirmedAddressAndTheLinkWorksOnce) {
  const std::string token = RegisterAndGetConfirmToken("ada@example.org");

  const http::HttpResponse early = Login("ada@example.org", "correct horse");
  EXPECT_EQ(early.status, 403);
  EXPECT_EQ(ErrorBody(early).value("code", ""), "not_confirmed");

  EXPECT_EQ(Call(Request("GET", "/confirm?token=" + token)).status, 200);
  const http::HttpResponse again = Call(Request("GET", "/confirm?token=" + token));
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("already used"), std::string::npos) << again.body;
  EXPECT_EQ(Call(Request("GET", "/confirm?token=garbage")).status, 400);

  const http::HttpResponse session = Login("ada@example.org", "correct horse");
  ASSERT_EQ(session.status, 201) << session.body;
  const std::string bearer = Json::parse(session.body).value("token", "");
  EXPECT_EQ(bearer.size(), 43U);
  const http::HttpResponse me = Api("GET", "/api/v1/sessions/current", bearer);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(Json::parse(me.body)["user"].value("email", ""), "ada@example.org");

  EXPECT_EQ(Api("DELETE", "/api/v1/sessions/current", bearer).status, 204);
  EXPECT_EQ(Api("GET", "/api/v1/sessions/current", bearer).status, 401);
}

TEST_F(CmsTest, HeadOnTheConfirmationLinkDoesNotUseItUp) {
  const std::string token = RegisterAndGetConfirmToken("ada@example.org");

  EXPECT_EQ(Call(Request("HEAD", "/confirm?token=" + token)).status, 200);
  EXPECT_EQ(Login("ada@example.org", "correct horse").status, 403);
  EXPECT_EQ(Call(Request("GET", "/confirm?token=" + token)).status, 200);
  EXPECT_EQ(Login("ada@example.org", "correct horse").status, 201);
}

TEST_F(CmsTest, PagesWithAFormAreNeverStoredBySharedCaches) {
  const http::HttpResponse form = Call(Request("GET", "/login"));
  EXPECT_EQ(HeaderOf(form, "Cache-Control"), "private, no-store");
  EXPECT_NE(HeaderOf(form, "Set-Cookie").find("inkwell_csrf="), std::string::npos);
}

TEST_F(CmsTest, UnknownUserAndWrongPasswordGetTheSameAnswer) {
  ConfirmedUserToken("ada@example.org");

  const http::HttpResponse wrong = Login("ada@example.org", "not the password");
  const http::HttpResponse unknown = Login("nobody@example.org", "not the password");

  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
}

TEST_F(CmsTest, RateLimitAnswers429WithRetryAfter) {
  rate_limit_ = 2;
  app_.emplace(Dependencies(pool_));

  EXPECT_EQ(Login("a@example.org", "whatever1").status, 401);
  EXPECT_EQ(Login("a@example.org", "whatever1").status, 401);
  const http::HttpResponse limited = Login("a@example.org", "whatever1");

  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ErrorBody(limited).value("code", ""), "rate_limited");
  EXPECT_FALSE(HeaderOf(limited, "Retry-After").empty());
}

TEST_F(CmsTest, PageIsCachedForAnonymousVisitorsAndAnEditEvictsIt) {
  const std::string bearer = ConfirmedUserToken("ada@example.org");
  ASSERT_EQ(Api("POST", "/api/v1/pages", bearer,
                {{"title", "About"}, {"slug", "about"}, {"body", "# Hello\n\nFirst."}}).status, 201);
  cache_.SetEnabled(true);

  const http::HttpResponse first = Call(Request("GET", "/page/about"));
  const http::HttpResponse second = Call(Request("GET", "/page/about"));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(HeaderOf(first, "X-Inkwell-Cache"), "miss");
  EXPECT_EQ(HeaderOf(second, "X-Inkwell-Cache"), "hit");
  EXPECT_NE(second.body.find("<h1>Hello</h1>"), std::string::npos) << second.body;

  ASSERT_EQ(Api("PUT", "/api/v1/pages/about", bearer, {{"title", "About us"}}).status, 200);
  const http::HttpResponse edited = Call(Request("GET", "/page/about"));
  EXPECT_NE(edited.body.find("About us"), std::string::npos);
  EXPECT_EQ(HeaderOf(edited, "X-Inkwell-Cache"), "miss");

  ASSERT_EQ(Api("DELETE", "/api/v1/pages/about", bearer).status, 204);
  EXPECT_EQ(Call(Request("GET", "/page/about")).status, 404);
}

TEST_F(CmsTest, OnlyTheAuthorMayChangeAPost) {
  const std::string ada = ConfirmedUserToken("ada@example.org");
  const std::string bob = ConfirmedUserToken("bob@example.org");
  const http::HttpResponse created =
      Api("POST", "/api/v1/posts", ada, {{"title", "Hi"}, {"body", "text"}, {"published", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = "/api/v1/posts/" + std::to_string(Json::parse(created.body).value("id", 0));

  EXPECT_EQ(Api("PUT", path, bob, {{"title", "Mine now"}}).status, 403);
  EXPECT_EQ(Api("DELETE", path, bob).status, 403);
  EXPECT_EQ(Api("PUT", path, "", {{"title", "Anyone"}}).status, 401);
  EXPECT_EQ(Json::parse(Api("GET", path, "").body).value("title", ""), "Hi");
}

TEST_F(CmsTest, DraftIsInvisibleToOthers) {
  const std::string ada = ConfirmedUserToken("ada@example.org");
  const std::string bob = ConfirmedUserToken("bob@example.org");
  const http::HttpResponse created =
      Api("POST", "/api/v1/posts", ada, {{"title", "Draft"}, {"body", "soon"}, {"published", false}});
  ASSERT_EQ(created.status, 201);
  const std::string id = std::to_string(Json::parse(created.body).value("id", 0));

  EXPECT_EQ(Api("GET", "/api/v1/posts/" + id, ada).status, 200);
  EXPECT_EQ(Api("GET", "/api/v1/posts/" + id, bob).status, 404);
  EXPECT_EQ(Call(Request("GET", "/posts/" + id)).status, 404);
  EXPECT_EQ(Json::parse(Api("GET", "/api/v1/posts", "").body).value("total", -1), 0);
}

TEST_F(CmsTest, ScriptInAPostIsShownAsTextNeverAsMarkup) {
  const std::string ada = ConfirmedUserToken("ada@example.org");
  const http::HttpResponse created = Api(
      "POST", "/api/v1/posts", ada,
      {{"title", "<script>alert('t')</script>"}, {"body", "<script>alert('b')</script>\n\n[x](javascript:alert(1))"},
       {"published", true}});
  ASSERT_EQ(created.status, 201);
  const std::string id = std::to_string(Json::parse(created.body).value("id", 0));

  const http::HttpResponse page = Call(Request("GET", "/posts/" + id));

  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("javascript:"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert("), std::string::npos);
}

TEST_F(CmsTest, BadSlugsAreRefusedWithAClearMessage) {
  const std::string ada = ConfirmedUserToken("ada@example.org");
  for (const char* slug : {"Bad Slug", "a--b", "-a", "a/b", "ünï"}) {
    const http::HttpResponse response =
        Api("POST", "/api/v1/pages", ada, {{"title", "T"}, {"slug", slug}, {"body", "b"}});
    EXPECT_EQ(response.status, 400) << slug;
    EXPECT_NE(ErrorBody(response).value("message", "").find("slug"), std::string::npos);
  }
  EXPECT_EQ(Json::parse(Api("GET", "/api/v1/pages", "").body).value("total", -1), 0);
}

}  // namespace
}  // namespace inkwell::web
