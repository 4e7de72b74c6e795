#include "web/page_cache.h"

#include <atomic>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace inkwell::web {
namespace {

// What the gauges read. Shared with the gauge callbacks, so a scrape after the
// cache is gone reads the last values instead of freed memory (the registry may
// outlive the cache).
struct Sizes {
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::size_t> entries{0};
};

struct Entry {
  std::string key;
  std::shared_ptr<const std::string> html;
  std::size_t Bytes() const { return key.size() + html->size(); }
};

}  // namespace

struct PageCache::State {
  State(std::size_t max, core::Metrics& metrics)
      : max_bytes(max),
        hits(metrics.AddCounter("inkwell_page_cache_hits_total", "Page cache lookups that hit")),
        misses(metrics.AddCounter("inkwell_page_cache_misses_total",
                                  "Page cache lookups that missed (or found the cache disabled)")),
        stores(metrics.AddCounter("inkwell_page_cache_stores_total",
                                  "Rendered pages stored in the page cache")),
        evictions(metrics.AddCounter("inkwell_page_cache_evictions_total",
                                     "Least recently used pages evicted to stay within the bound")),
        invalidations(metrics.AddCounter("inkwell_page_cache_invalidations_total",
                                         "Invalidations applied (one per key or prefix, "
                                         "whether or not it matched)")) {}

  // Removes one entry; the caller holds the mutex.
  void Erase(std::list<Entry>::iterator entry) {
    bytes -= entry->Bytes();
    index.erase(std::string_view(entry->key));
    lru.erase(entry);
  }
  void EraseAll() {
    index.clear();
    lru.clear();
    bytes = 0;
  }
  // Any change that could make a render in flight stale; the caller holds the
  // mutex.
  void BumpGeneration() { generation.fetch_add(1, std::memory_order_acq_rel); }
  void PublishSizes() {
    sizes->bytes.store(bytes, std::memory_order_relaxed);
    sizes->entries.store(lru.size(), std::memory_order_relaxed);
  }

  const std::size_t max_bytes;
  core::Counter& hits;
  core::Counter& misses;
  core::Counter& stores;
  core::Counter& evictions;
  core::Counter& invalidations;
  std::shared_ptr<Sizes> sizes = std::make_shared<Sizes>();

  mutable std::mutex mutex;
  // Written only under the mutex; atomic so that Stamp() need not take it.
  std::atomic<std::uint64_t> generation{0};
  bool is_enabled = true;
  std::size_t bytes = 0;
  // Most recently used first. The index's keys view the entries' own keys: list
  // nodes never move.
  std::list<Entry> lru;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

PageCache::PageCache(std::size_t max_bytes, core::Metrics& metrics)
    : state_(std::make_unique<State>(max_bytes, metrics)) {
  metrics.AddGauge("inkwell_page_cache_bytes", "Bytes held by the page cache (keys + pages)",
                   [sizes = state_->sizes] {
                     return static_cast<double>(sizes->bytes.load(std::memory_order_relaxed));
                   });
  metrics.AddGauge("inkwell_page_cache_entries", "Pages held by the page cache",
                   [sizes = state_->sizes] {
                     return static_cast<double>(sizes->entries.load(std::memory_order_relaxed));
                   });
}

PageCache::~PageCache() = default;

std::uint64_t PageCache::Stamp() const {
  return state_->generation.load(std::memory_order_acquire);
}

std::shared_ptr<const std::string> PageCache::Get(const std::string& key) {
  State& state = *state_;
  std::shared_ptr<const std::string> html;
  {
    std::lock_guard lock(state.mutex);
    if (state.is_enabled) {
      if (auto found = state.index.find(std::string_view(key)); found != state.index.end()) {
        state.lru.splice(state.lru.begin(), state.lru, found->second);
        html = found->second->html;
      }
    }
  }
  (html ? state.hits : state.misses).Increment();
  return html;
}

void PageCache::Put(const std::string& key, std::string html, std::uint64_t stamp) {
  State& state = *state_;
  auto shared = std::make_shared<const std::string>(std::move(html));  // allocate outside the lock
  const std::size_t size = key.size() + shared->size();
  std::uint64_t evicted = 0;
  {
    std::lock_guard lock(state.mutex);
    // An invalidation since the stamp means the render may show the old
    // version.
    if (!state.is_enabled || stamp != state.generation.load(std::memory_order_relaxed)) return;
    if (auto found = state.index.find(std::string_view(key)); found != state.index.end()) {
      state.Erase(found->second);
    }
    if (size > state.max_bytes) {
      state.PublishSizes();
      return;
    }
    while (state.bytes + size > state.max_bytes) {
      state.Erase(std::prev(state.lru.end()));
      ++evicted;
    }
    state.lru.push_front(Entry{key, std::move(shared)});
    state.index.emplace(std::string_view(state.lru.front().key), state.lru.begin());
    state.bytes += size;
    state.PublishSizes();
  }
  state.stores.Increment();
  if (evicted > 0) state.evictions.Increment(evicted);
}

void PageCache::Invalidate(const std::string& key_or_prefix) {
  State& state = *state_;
  {
    std::lock_guard lock(state.mutex);
    state.BumpGeneration();
    if (!key_or_prefix.empty() && key_or_prefix.back() == '*') {
      const std::string_view prefix(key_or_prefix.data(), key_or_prefix.size() - 1);
      for (auto entry = state.lru.begin(); entry != state.lru.end();) {
        const auto next = std::next(entry);
        if (std::string_view(entry->key).substr(0, prefix.size()) == prefix) state.Erase(entry);
        entry = next;
      }
    } else if (auto found = state.index.find(std::string_view(key_or_prefix));
               found != state.index.end()) {
      state.Erase(found->second);
    }
    state.PublishSizes();
  }
  state.invalidations.Increment();
}

void PageCache::Clear() {
  State& state = *state_;
  std::list<Entry> dropped;  // pages are freed after the lock is released
  {
    std::lock_guard lock(state.mutex);
    state.BumpGeneration();
    dropped.swap(state.lru);
    state.EraseAll();
    state.PublishSizes();
  }
}

void PageCache::SetEnabled(bool is_enabled) {
  State& state = *state_;
  std::list<Entry> dropped;
  {
    std::lock_guard lock(state.mutex);
    // Either way the cache starts over: entries kept while disabled may have
    // missed invalidations.
    state.BumpGeneration();
    state.is_enabled = is_enabled;
    dropped.swap(state.lru);
    state.EraseAll();
    state.PublishSizes();
  }
}

bool PageCache::is_enabled() const {
  std::lock_guard lock(state_->mutex);
  return state_->is_enabled;
}

std::size_t PageCache::bytes() const {
  std::lock_guard lock(state_->mutex);
  return state_->bytes;
}

std::size_t PageCache::entries() const {
  std::lock_guard lock(state_->mutex);
  return state_->lru.size();
}

}  // namespace inkwell::web
