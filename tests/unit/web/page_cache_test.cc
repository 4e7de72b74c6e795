#include "web/page_cache.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/metrics.h"
#include "web/cache_listener.h"

namespace inkwell::web {
namespace {

// The value of one unlabelled series in the registry's exposition text, or -1
// if absent.
double MetricValue(const core::Metrics& metrics, const std::string& name) {
  const std::string text = metrics.Render();
  const std::string prefix = "\n" + name + " ";
  const auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

// Bytes an entry occupies: key plus page.
std::size_t SizeOf(const std::string& key, const std::string& html) {
  return key.size() + html.size();
}

void PutNow(PageCache& cache, const std::string& key, const std::string& html) {
  cache.Put(key, html, cache.Stamp());
}

TEST(PageCacheTest, MissThenHitAreCounted) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);

  const auto missed = cache.Get("page:about");
  PutNow(cache, "page:about", "<p>About</p>");
  const auto hit = cache.Get("page:about");

  EXPECT_EQ(missed, nullptr);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "<p>About</p>");
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_hits_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_misses_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_stores_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_entries"), 1);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_bytes"),
            static_cast<double>(SizeOf("page:about", "<p>About</p>")));
}

TEST(PageCacheTest, HitSharesThePageWithoutCopying) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:a", "body");

  const auto first = cache.Get("page:a");
  const auto second = cache.Get("page:a");

  EXPECT_EQ(first.get(), second.get());
}

TEST(PageCacheTest, PutReplacesAnEntryAndItsBytes) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);

  PutNow(cache, "page:a", "old body");
  PutNow(cache, "page:a", "new");

  EXPECT_EQ(*cache.Get("page:a"), "new");
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), SizeOf("page:a", "new"));
}

TEST(PageCacheTest, EvictsTheLeastRecentlyUsedToStayWithinTheBound) {
  core::Metrics metrics;
  // Room for exactly three entries of 10 bytes ("k1" + 8 bytes of page).
  PageCache cache(30, metrics);
  PutNow(cache, "k1", "11111111");
  PutNow(cache, "k2", "22222222");
  PutNow(cache, "k3", "33333333");
  ASSERT_NE(cache.Get("k1"),
            nullptr);  // k1 is now the most recently used; k2 the least

  PutNow(cache, "k4", "44444444");

  EXPECT_EQ(cache.Get("k2"), nullptr);
  EXPECT_NE(cache.Get("k1"), nullptr);
  EXPECT_NE(cache.Get("k3"), nullptr);
  EXPECT_NE(cache.Get("k4"), nullptr);
  EXPECT_EQ(cache.bytes(), 30u);
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_evictions_total"), 1);
}

TEST(PageCacheTest, LargeEntryEvictsAsManyAsItNeeds) {
  core::Metrics metrics;
  PageCache cache(30, metrics);
  PutNow(cache, "k1", "11111111");
  PutNow(cache, "k2", "22222222");
  PutNow(cache, "k3", "33333333");

  PutNow(cache, "k4", std::string(18, '4'));  // 20 bytes: k1 and k2 must go

  EXPECT_EQ(cache.Get("k1"), nullptr);
  EXPECT_EQ(cache.Get("k2"), nullptr);
  EXPECT_NE(cache.Get("k3"), nullptr);
  EXPECT_NE(cache.Get("k4"), nullptr);
  EXPECT_EQ(cache.bytes(), 30u);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_evictions_total"), 2);
}

TEST(PageCacheTest, EntryLargerThanTheBoundIsNotStoredAndEvictsNothing) {
  core::Metrics metrics;
  PageCache cache(30, metrics);
  PutNow(cache, "k1", "11111111");

  PutNow(cache, "big", std::string(28, 'x'));  // 31 bytes

  EXPECT_EQ(cache.Get("big"), nullptr);
  EXPECT_NE(cache.Get("k1"), nullptr);
  EXPECT_EQ(cache.bytes(), 10u);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_stores_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_evictions_total"), 0);
}

TEST(PageCacheTest, EntryOfExactlyTheBoundIsStored) {
  core::Metrics metrics;
  PageCache cache(30, metrics);

  PutNow(cache, "big", std::string(27, 'x'));

  EXPECT_NE(cache.Get("big"), nullptr);
  EXPECT_EQ(cache.bytes(), 30u);
}

TEST(PageCacheTest, InvalidateRemovesExactlyTheNamedKey) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:about", "a");
  PutNow(cache, "page:about-us", "b");

  cache.Invalidate("page:about");

  EXPECT_EQ(cache.Get("page:about"), nullptr);
  EXPECT_NE(cache.Get("page:about-us"), nullptr);
  EXPECT_EQ(cache.bytes(), SizeOf("page:about-us", "b"));
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_invalidations_total"), 1);
}

TEST(PageCacheTest, InvalidateWithStarRemovesEveryKeyWithThePrefix) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "home:1", "a");
  PutNow(cache, "home:2", "b");
  PutNow(cache, "page:home", "c");

  cache.Invalidate("home:*");

  EXPECT_EQ(cache.Get("home:1"), nullptr);
  EXPECT_EQ(cache.Get("home:2"), nullptr);
  EXPECT_NE(cache.Get("page:home"), nullptr);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), SizeOf("page:home", "c"));
}

TEST(PageCacheTest, InvalidateOfAnAbsentKeyChangesNoEntries) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:a", "a");

  cache.Invalidate("page:b");

  EXPECT_NE(cache.Get("page:a"), nullptr);
}

TEST(PageCacheTest, PutWithAStampTakenBeforeAnInvalidationStoresNothing) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  const std::uint64_t stamp = cache.Stamp();  // the render reads the old version ...

  cache.Invalidate("page:about");                 // ... the edit commits and invalidates ...
  cache.Put("page:about", "old version", stamp);  // ... and the render finishes

  EXPECT_EQ(cache.Get("page:about"), nullptr);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_stores_total"), 0);
}

TEST(PageCacheTest, AnyInvalidationMakesOlderStampsStale) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  const std::uint64_t stamp = cache.Stamp();

  cache.Invalidate("post:unrelated");
  cache.Put("page:about", "x", stamp);

  EXPECT_EQ(cache.Get("page:about"), nullptr);
}

TEST(PageCacheTest, ClearEmptiesAndMakesOlderStampsStale) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:a", "a");
  const std::uint64_t stamp = cache.Stamp();

  cache.Clear();
  cache.Put("page:b", "b", stamp);

  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.Get("page:a"), nullptr);
  EXPECT_EQ(cache.Get("page:b"), nullptr);
}

TEST(PageCacheTest, DisabledCacheMissesAndIgnoresPuts) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:a", "a");

  cache.SetEnabled(false);
  PutNow(cache, "page:b", "b");

  EXPECT_FALSE(cache.is_enabled());
  EXPECT_EQ(cache.Get("page:a"), nullptr);
  EXPECT_EQ(cache.Get("page:b"), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_misses_total"), 2);
}

TEST(PageCacheTest, ReenablingStartsEmptyAndMakesOlderStampsStale) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  PutNow(cache, "page:a", "a");
  cache.SetEnabled(false);
  const std::uint64_t stamp = cache.Stamp();

  cache.SetEnabled(true);
  cache.Put("page:b", "b", stamp);
  PutNow(cache, "page:c", "c");

  EXPECT_TRUE(cache.is_enabled());
  EXPECT_EQ(cache.Get("page:a"), nullptr);
  EXPECT_EQ(cache.Get("page:b"), nullptr);
  EXPECT_NE(cache.Get("page:c"), nullptr);
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(PageCacheTest, GaugesOutliveTheCache) {
  core::Metrics metrics;
  {
    PageCache cache(1024, metrics);
    PutNow(cache, "page:a", "a");
  }

  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_entries"),
            1);  // last value, no crash
}

TEST(PageCacheTest, ConcurrentUseKeepsTheByteCountExactAndWithinTheBound) {
  core::Metrics metrics;
  constexpr std::size_t kMaxBytes = 2000;
  PageCache cache(kMaxBytes, metrics);
  constexpr int kKeys = 40;
  const auto key_of = [](int i) { return (i % 2 == 0 ? "home:" : "page:") + std::to_string(i); };
  const auto html_of = [](int i) { return std::string(20 + (i * 7) % 90, 'a' + i % 26); };
  std::atomic<bool> is_done{false};
  std::atomic<std::size_t> largest_seen{0};
  std::thread watcher([&] {
    while (!is_done) {
      const std::size_t bytes = cache.bytes();
      if (bytes > largest_seen) largest_seen = bytes;
    }
  });
  std::vector<std::thread> workers;
  for (int worker = 0; worker < 4; ++worker) {
    workers.emplace_back([&, worker] {
      for (int n = 0; n < 5000; ++n) {
        const int i = (n * 13 + worker * 7) % kKeys;
        switch ((n + worker) % 7) {
          case 0: cache.Invalidate(key_of(i)); break;
          case 1: cache.Invalidate(worker % 2 == 0 ? "home:*" : "page:1*"); break;
          default: {
            const std::uint64_t stamp = cache.Stamp();
            if (auto hit = cache.Get(key_of(i)); hit != nullptr) {
              ASSERT_EQ(*hit, html_of(i));
            } else {
              cache.Put(key_of(i), html_of(i), stamp);
            }
          }
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  is_done = true;
  watcher.join();

  std::size_t stored_bytes = 0;
  std::size_t stored_entries = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (auto hit = cache.Get(key_of(i)); hit != nullptr) {
      stored_bytes += SizeOf(key_of(i), *hit);
      ++stored_entries;
    }
  }
  EXPECT_EQ(cache.bytes(), stored_bytes);
  EXPECT_EQ(cache.entries(), stored_entries);
  EXPECT_LE(largest_seen.load(), kMaxBytes);
  EXPECT_LE(cache.bytes(), kMaxBytes);
  EXPECT_EQ(MetricValue(metrics, "inkwell_page_cache_bytes"), static_cast<double>(stored_bytes));
}

class ApplyInvalidationTest : public ::testing::Test {
 protected:
  ApplyInvalidationTest() : cache_(4096, metrics_) {
    PutNow(cache_, "page:about", "a");
    PutNow(cache_, "home:1", "h1");
    PutNow(cache_, "home:2", "h2");
  }
  // Rejected: kInvalidArgument, no entry removed, no stamp made stale.
  void ExpectRejected(const std::string& body) {
    SCOPED_TRACE(body.substr(0, 80));
    const std::uint64_t stamp = cache_.Stamp();

    const auto applied = ApplyInvalidation(body, cache_);

    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_FALSE(applied.error().message.empty());
    EXPECT_EQ(cache_.entries(), 3u);
    EXPECT_EQ(cache_.Stamp(), stamp);
  }

  core::Metrics metrics_;
  PageCache cache_;
};

TEST_F(ApplyInvalidationTest, EvictsExactKeysAndPrefixes) {
  const auto applied = ApplyInvalidation(R"({"keys": ["page:about", "home:*"]})", cache_);

  ASSERT_TRUE(applied);
  EXPECT_EQ(cache_.entries(), 0u);
}

TEST_F(ApplyInvalidationTest, AcceptsAnEmptyListAndUnknownFields) {
  EXPECT_TRUE(ApplyInvalidation(R"({"keys": []})", cache_));
  EXPECT_TRUE(ApplyInvalidation(R"({"keys": ["page:other"], "reason": "edit"})", cache_));
  EXPECT_EQ(cache_.entries(), 3u);
}

TEST_F(ApplyInvalidationTest, AcceptsTheLimits) {
  std::string body = R"({"keys": [")" + std::string(512, 'k') + "\"";
  for (int i = 1; i < 1000; ++i) body += R"(, "page:x")";
  body += "]}";

  EXPECT_TRUE(ApplyInvalidation(body, cache_));
}

TEST_F(ApplyInvalidationTest, RejectsWhatIsNotJson) {
  ExpectRejected("");
  ExpectRejected("keys: page:about");
  ExpectRejected(R"({"keys": ["page:about"])");
}

TEST_F(ApplyInvalidationTest, RejectsWhatIsNotAnObject) {
  ExpectRejected(R"(["page:about"])");
  ExpectRejected(R"("page:about")");
  ExpectRejected("null");
}

TEST_F(ApplyInvalidationTest, RejectsMissingKeys) {
  ExpectRejected("{}");
  ExpectRejected(R"({"key": ["page:about"]})");
}

TEST_F(ApplyInvalidationTest, RejectsKeysThatAreNotAnArray) {
  ExpectRejected(R"({"keys": "page:about"})");
  ExpectRejected(R"({"keys": {"page:about": true}})");
  ExpectRejected(R"({"keys": null})");
}

TEST_F(ApplyInvalidationTest, RejectsAnyKeyThatIsNotAString) {
  ExpectRejected(R"({"keys": ["page:about", 1]})");
  ExpectRejected(R"({"keys": ["page:about", null]})");
  ExpectRejected(R"({"keys": ["page:about", ["home:*"]]})");
}

TEST_F(ApplyInvalidationTest, RejectsAnEmptyOrOverlongKey) {
  ExpectRejected(R"({"keys": ["page:about", ""]})");
  ExpectRejected(R"({"keys": ["page:about", ")" + std::string(513, 'k') + "\"]}");
}

TEST_F(ApplyInvalidationTest, RejectsMoreThanAThousandKeys) {
  std::string body = R"({"keys": ["page:about")";
  for (int i = 1; i < 1001; ++i) body += R"(, "page:x")";
  body += "]}";

  ExpectRejected(body);
}

TEST(CacheListenerTest, CacheIsDisabledUntilTheListenerIsConsuming) {
  core::Metrics metrics;
  PageCache cache(1024, metrics);
  auto unreachable = amqp::BrokerUrl::Parse("amqp://guest:guest@127.0.0.1:1/");
  ASSERT_TRUE(unreachable);

  CacheListener listener(*unreachable, CacheListenerOptions{}, cache, metrics);
  listener.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  PutNow(cache, "page:a", "a");

  EXPECT_FALSE(listener.is_connected());
  EXPECT_FALSE(cache.is_enabled());
  EXPECT_EQ(cache.Get("page:a"), nullptr);
  listener.Stop();  // returns promptly while backing off
}

}  // namespace
}  // namespace inkwell::web
