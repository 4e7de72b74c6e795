// Fuzz target: what the web service reads from strangers. Markdown from writers must never
// render to markup that runs script; excerpts stay valid UTF-8 and bounded; cookie, bearer and
// cache-invalidation parsers must never crash, and a refused invalidation leaves the cache alone.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/utf8.h"
#include "web/auth.h"
#include "web/cache_listener.h"
#include "web/content.h"
#include "web/markdown.h"
#include "web/page_cache.h"

namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace inkwell;  // NOLINT(google-build-using-namespace): a test driver
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::string html = Lower(web::RenderMarkdown(text));
  for (const char* forbidden : {"<script", "<iframe", "<object", "<embed", "<style", "<img src=\"javascript:",
                                "href=\"javascript:", "href=\"vbscript:", "href=\"data:"}) {
    if (html.find(forbidden) != std::string::npos) std::abort();
  }
  const std::string excerpt = web::PlainExcerpt(text, 40);
  if (!core::IsValidUtf8(excerpt) || core::Utf8Length(excerpt) > 41) std::abort();

  (void)web::ParseCookies(text);
  (void)web::IsValidSlug(text);
  (void)web::ValidatePost({std::string(text), std::string(text), true});
  (void)web::ValidateComment(text);
  http::HttpRequest request;
  request.headers["authorization"] = std::string(text);
  (void)web::BearerToken(request);

  static core::Metrics metrics;
  static web::PageCache cache(1 << 16, metrics);
  cache.SetEnabled(true);
  cache.Put("page:kept", "<p>kept</p>", cache.Stamp());
  if (!web::ApplyInvalidation(std::string(text), cache) && !cache.Get("page:kept")) std::abort();
  return 0;
}
