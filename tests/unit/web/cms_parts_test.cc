#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "web/auth.h"
#include "web/content.h"
#include "web/markdown.h"
#include "web/rate_limiter.h"

namespace inkwell::web {
namespace {

TEST(SecretToken, Is43Base64UrlCharactersAndDiffersEachTime) {
  const std::string a = NewSecretToken();
  const std::string b = NewSecretToken();
  EXPECT_TRUE(LooksLikeToken(a)) << a;
  EXPECT_NE(a, b);
  EXPECT_FALSE(LooksLikeToken(a + "x"));
  EXPECT_FALSE(LooksLikeToken(std::string(43, '=')));
}

TEST(SecretToken, HashIsSha256Hex) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretEquals, ComparesWholeValues) {
  EXPECT_TRUE(SecretEquals("same", "same"));
  EXPECT_FALSE(SecretEquals("same", "sane"));
  EXPECT_FALSE(SecretEquals("same", "same!"));
}

TEST(Cookies, ParsesPairsAndSkipsJunk) {
  const auto cookies = ParseCookies(" a=1; =x; junk; b=\"two\" ;a=3");
  EXPECT_EQ(cookies.at("a"), "1");
  EXPECT_EQ(cookies.at("b"), "two");
  EXPECT_EQ(cookies.size(), 2U);
}

TEST(Cookies, HeaderIsHttpOnlyLaxAndSecureOnRequest) {
  const std::string plain = CookieHeader("s", "v", std::chrono::seconds(60), false);
  EXPECT_NE(plain.find("HttpOnly"), std::string::npos);
  EXPECT_NE(plain.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(plain.find("Secure"), std::string::npos);
  EXPECT_NE(CookieHeader("s", "v", std::chrono::seconds(60), true).find("; Secure"), std::string::npos);
}

TEST(Bearer, ReadsTheTokenCaseInsensitively) {
  http::HttpRequest request;
  request.headers["authorization"] = "bearer  tok ";
  EXPECT_EQ(BearerToken(request), "tok");
  request.headers["authorization"] = "Basic abc";
  EXPECT_EQ(BearerToken(request), "");
}

TEST(RateLimiter, AllowsTheBurstThenAsksToWait) {
  RateLimiter limiter(3);
  const auto now = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("k", now).count(), 0);
  EXPECT_EQ(limiter.Acquire("k", now).count(), 20);  // one token per 20 s at 3/min
  EXPECT_EQ(limiter.Acquire("other", now).count(), 0);
  EXPECT_EQ(limiter.Acquire("k", now + std::chrono::seconds(21)).count(), 0);
}

TEST(RateLimiter, ZeroDisablesIt) {
  RateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Acquire("k").count(), 0);
}

TEST(RateLimiter, FullTableForgetsTheOldestInsteadOfRefusingNewcomers) {
  RateLimiter limiter(1, 10);
  const auto start = RateLimiter::Clock::now();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(limiter.Acquire("k" + std::to_string(i), start + std::chrono::milliseconds(i)).count(), 0);
  }
  const auto later = start + std::chrono::seconds(1);
  // The table is full and nobody has refilled: a newcomer is still served...
  EXPECT_EQ(limiter.Acquire("newcomer", later).count(), 0);
  // ...the most recent keys are still limited, the oldest were forgotten.
  EXPECT_GT(limiter.Acquire("k9", later).count(), 0);
  EXPECT_EQ(limiter.Acquire("k0", later).count(), 0);
}

TEST(Markdown, RendersCommonMarkAndDropsRawHtmlAndScriptLinks) {
  const std::string html =
      RenderMarkdown("# Title\n\n- one\n- two\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))");
  EXPECT_NE(html.find("<h1>Title</h1>"), std::string::npos) << html;
  EXPECT_NE(html.find("<li>one</li>"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_EQ(html.find("javascript:"), std::string::npos) << html;
}

TEST(Markdown, RawHtmlIsShownAsTextNotDropped) {
  const std::string html = RenderMarkdown("<script>alert(1)</script>\n\nSay <b>hi</b>.");
  EXPECT_NE(html.find("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"), std::string::npos) << html;
  EXPECT_NE(html.find("Say &lt;b&gt;hi&lt;/b&gt;."), std::string::npos) << html;
  EXPECT_EQ(html.find("raw HTML omitted"), std::string::npos);
}

TEST(Markdown, InvalidUtf8IsReplaced) {
  const std::string html = RenderMarkdown("bad \xff byte");
  EXPECT_NE(html.find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(Markdown, ExcerptIsPlainTextAndBounded) {
  EXPECT_EQ(PlainExcerpt("# Head\n\nSome *em* text", 100), "Head. Some em text");
  EXPECT_EQ(PlainExcerpt("# Why?\n\nBecause", 100), "Why? Because");
  const std::string cut = PlainExcerpt(std::string(50, 'a'), 10);
  EXPECT_EQ(cut, std::string(10, 'a') + "…");
}

TEST(Slug, AcceptsOnlyLowerCaseWordsJoinedBySingleHyphens) {
  for (const char* good : {"a", "about-us", "2026-plans", "x1"}) EXPECT_TRUE(IsValidSlug(good)) << good;
  for (const char* bad : {"", "-a", "a-", "a--b", "A", "a b", "a/b", "..", "ü"}) {
    EXPECT_FALSE(IsValidSlug(bad)) << bad;
  }
  EXPECT_FALSE(IsValidSlug(std::string(101, 'a')));
  EXPECT_TRUE(IsValidSlug(std::string(100, 'a')));
}

TEST(Validation, TitlesAreOneLineAndBodiesBounded) {
  EXPECT_TRUE(ValidatePost({"Title", "body\nwith lines", true}));
  EXPECT_FALSE(ValidatePost({"Two\nlines", "b", true}));
  EXPECT_FALSE(ValidatePost({"  ", "b", true}));
  EXPECT_FALSE(ValidatePost({"t", std::string(kMaxBodyBytes + 1, 'x'), true}));
  EXPECT_FALSE(ValidatePost({"t", "nul\x01", true}));
  EXPECT_FALSE(ValidateComment(""));
  EXPECT_FALSE(ValidateComment(std::string(kMaxCommentCharacters + 1, 'c')));
  EXPECT_TRUE(ValidateComment("fine, thanks"));
}

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(Rfc3339(1764326461123), "2025-11-28T10:41:01.123Z");
  EXPECT_EQ(HumanDate(1764326461123), "28 Nov 2025");
}

}  // namespace
}  // namespace inkwell::web
