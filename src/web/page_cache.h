#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.h"

namespace inkwell::web {

// Rendered pages in memory: key -> HTML, bounded in bytes (keys + bodies), the least recently
// used entry evicted first. Thread-safe (one mutex; every operation is O(1) or, for a prefix
// invalidation, O(entries)).
//
// Keys name what was rendered: "page:<slug>", "post:<id>", "home:<n>". An invalidation names a
// key exactly, or a prefix when it ends in '*' ("home:*").
//
// The race between a render and an edit: take Stamp() BEFORE reading what will be rendered and
// hand it to Put; Put stores nothing if any invalidation, Clear or disable happened since, so a
// render that read the old version can never be stored after the edit's invalidation.
class PageCache {
 public:
  // Metrics: inkwell_page_cache_{hits,misses,stores,evictions,invalidations}_total,
  // inkwell_page_cache_bytes, inkwell_page_cache_entries.
  PageCache(std::size_t max_bytes, core::Metrics& metrics);
  ~PageCache();
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

  std::uint64_t Stamp() const;
  // nullptr on a miss (and always while disabled). Counts the hit or miss.
  std::shared_ptr<const std::string> Get(const std::string& key);
  // Ignored while disabled, if the stamp is stale, or if the entry alone exceeds max_bytes.
  void Put(const std::string& key, std::string html, std::uint64_t stamp);
  void Invalidate(const std::string& key_or_prefix);
  void Clear();
  // While disabled (no broker connection: invalidations may be missed) Get misses and Put is
  // ignored; disabling clears, enabling starts empty. A new cache is enabled; a CacheListener
  // disables it when constructed and enables it once it is consuming.
  void SetEnabled(bool is_enabled);
  bool is_enabled() const;

  std::size_t bytes() const;
  std::size_t entries() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace inkwell::web
