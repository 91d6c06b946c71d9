#pragma once
// Internal to the candidates engine (placement/candidates/candidates.cpp): the per-group candidate
// lists, bucketed by anchor root, in flat arrays (a request can touch tens of thousands of
// providers; one allocation per anchor would dominate the search).

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "placement/model/types.h"

namespace bwfloor::placement::candidates {

// A hash map from a model pointer to a small value: open addressing, no allocation per entry.
template <typename V>
class PtrMap {
 public:
  V* find(const void* key) {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash(key);; i = (i + 1) & mask()) {
      if (slots_[i].first == key) return &slots_[i].second;
      if (!slots_[i].first) return nullptr;
    }
  }
  const V* find(const void* key) const { return const_cast<PtrMap*>(this)->find(key); }
  // Inserts (key, value) unless the key is there; returns the stored value and whether it is new.
  std::pair<V*, bool> insert(const void* key, V value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = hash(key);; i = (i + 1) & mask()) {
      if (slots_[i].first == key) return {&slots_[i].second, false};
      if (!slots_[i].first) {
        slots_[i] = {key, value};
        ++size_;
        return {&slots_[i].second, true};
      }
    }
  }
  size_t size() const { return size_; }
  void clear() {
    std::fill(slots_.begin(), slots_.end(), std::pair<const void*, V>{nullptr, V{}});
    size_ = 0;
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  size_t hash(const void* key) const {
    uint64_t h = (reinterpret_cast<uintptr_t>(key) >> 4) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h ^ (h >> 29)) & mask();
  }
  void grow() {
    std::vector<std::pair<const void*, V>> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, {nullptr, V{}});
    size_ = 0;
    for (const auto& [k, v] : old) {
      if (k) insert(k, v);
    }
  }
  std::vector<std::pair<const void*, V>> slots_;
  size_t size_ = 0;
};

// One (provider, class, amount) that a group entry takes, with what the final capacity check
// needs.
struct Alloc {
  const Provider* provider;
  int rc;  // index into CandidateSet::classes
  int64_t amount;
  int64_t used;
  const Inventory* inventory;
};

// One way to satisfy a group: allocs [allocBegin, allocEnd) and the providers its mapping names,
// mapped [mappedBegin, mappedEnd), in GroupCandidates' pools.
struct Entry {
  uint32_t allocBegin, allocEnd, mappedBegin, mappedEnd;
};

// Every way to satisfy one group, by anchor root (a sharing provider's entry is listed under each
// anchor it serves). Fill with open/allocs/mapped/close and add, then finish() once.
struct GroupCandidates {
  std::vector<Alloc> allocs;
  std::vector<const Provider*> mapped;
  std::vector<Entry> entries;
  std::vector<const Provider*> anchors;  // first-seen order, for a stable answer

  uint32_t open() {
    entries.push_back(
        {static_cast<uint32_t>(allocs.size()), 0, static_cast<uint32_t>(mapped.size()), 0});
    return static_cast<uint32_t>(entries.size() - 1);
  }
  void close(uint32_t e) {
    entries[e].allocEnd = static_cast<uint32_t>(allocs.size());
    entries[e].mappedEnd = static_cast<uint32_t>(mapped.size());
  }
  void add(const Provider* anchor, uint32_t e) {
    auto [seq, fresh] = seqOf_.insert(anchor, static_cast<uint32_t>(anchors.size()));
    if (fresh) anchors.push_back(anchor);
    listed_.emplace_back(*seq, e);
  }
  // Groups the listed entries by anchor, keeping their order within an anchor.
  void finish() {
    offsets_.assign(anchors.size() + 1, 0);
    for (const auto& [seq, e] : listed_) ++offsets_[seq + 1];
    for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
    byAnchor_.resize(listed_.size());
    std::vector<uint32_t> next(offsets_.begin(), offsets_.end() - 1);
    for (const auto& [seq, e] : listed_) byAnchor_[next[seq]++] = e;
    listed_.clear();
  }
  void clear() {
    allocs.clear();
    mapped.clear();
    entries.clear();
    anchors.clear();
    seqOf_.clear();
    listed_.clear();
  }
  // The anchor's entries (indexes into `entries`), or an empty range.
  std::pair<const uint32_t*, const uint32_t*> entriesOf(const Provider* anchor) const {
    const uint32_t* seq = seqOf_.find(anchor);
    if (!seq) return {nullptr, nullptr};
    return {byAnchor_.data() + offsets_[*seq], byAnchor_.data() + offsets_[*seq + 1]};
  }

 private:
  PtrMap<uint32_t> seqOf_;  // anchor -> index in anchors
  std::vector<std::pair<uint32_t, uint32_t>> listed_;
  std::vector<uint32_t> offsets_;
  std::vector<uint32_t> byAnchor_;
};

}  // namespace bwfloor::placement::candidates
