#pragma once
// Where placement's state lives durably. The model validates a request against memory, hands the
// whole change to the store as one transaction, and only then updates memory: a failed write
// changes nothing anywhere.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "placement/model/types.h"

namespace bwfloor::placement {

// One request's changes. Providers and consumers are written whole (with their inventories,
// traits, aggregates / allocations), which keeps stores simple and writes small.
struct StoreChanges {
  std::vector<Provider> upsertProviders;  // parents before children
  std::vector<std::string> deleteProviders;
  std::vector<Consumer> upsertConsumers;
  std::vector<std::string> deleteConsumers;
  std::vector<std::string> addTraits;  // custom traits
  std::vector<std::string> deleteTraits;
  std::vector<std::pair<std::string, int>> addResourceClasses;  // custom: name, id
  std::vector<std::string> deleteResourceClasses;

  // What the writer validated against, for a store that other servers write too to check again
  // in its own transaction: the generation each upserted or deleted provider and consumer had
  // (absent = it must not exist yet), and the (provider, class) pairs whose usage grows.
  std::map<std::string, int64_t> providerGenerations;
  std::map<std::string, int64_t> consumerGenerations;
  std::vector<std::pair<std::string, std::string>> usageGrows;

  bool empty() const {
    return upsertProviders.empty() && deleteProviders.empty() && upsertConsumers.empty() &&
           deleteConsumers.empty() && addTraits.empty() && deleteTraits.empty() &&
           addResourceClasses.empty() && deleteResourceClasses.empty();
  }
};

struct StoreSnapshot {
  std::vector<Provider> providers;
  std::vector<Consumer> consumers;
  std::vector<std::string> customTraits;
  std::vector<std::pair<std::string, int>> customResourceClasses;
  int64_t seq = 0;  // a shared store: the change log's head the snapshot is consistent with
};

// What other servers committed to a shared store (PostgreSQL) after a given sequence number.
struct OthersChanges {
  std::vector<std::pair<int64_t, StoreChanges>> changes;  // (seq, changes) in order
  // The log no longer reaches back that far: reload everything.
  bool reloadNeeded = false;
  int64_t head = 0;  // the last sequence number read
};

// When a replica last knew it held everything the database had: the start of its last read of
// the change log that left nothing unapplied. Only moves forward; read without a lock.
class CurrentAsOf {
 public:
  void mark(std::chrono::steady_clock::time_point asOf) {
    const int64_t ns = asOf.time_since_epoch().count();
    int64_t seen = ns_.load();
    while (seen < ns && !ns_.compare_exchange_weak(seen, ns)) {
    }
  }
  std::chrono::steady_clock::time_point get() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns_.load()));
  }

 private:
  std::atomic<int64_t> ns_{0};
};

// Orders a snapshot's providers parents before children (as StoreChanges orders upserts and the
// model loads them), keeping the given order within a depth.
void sortParentsFirst(std::vector<Provider>& providers);

class Store {
 public:
  virtual ~Store() = default;
  virtual Result<StoreSnapshot> load() = 0;
  // All or nothing.
  virtual Status apply(const StoreChanges& changes) = 0;

  // --- Several servers on one database (PostgreSQL; see placement/store/pg_change_log.h). A
  // store only this server writes keeps the defaults. ---
  virtual bool shared() const { return false; }
  // Opens a write: takes the database-wide write lock and returns what other servers committed
  // after `seq`, which the caller applies before it validates. apply() or abortWrite() ends it.
  virtual Result<OthersChanges> beginWrite(int64_t seq) { return OthersChanges{{}, false, seq}; }
  virtual void abortWrite() {}
  // The sequence number of the last successful apply().
  virtual int64_t committedSeq() const { return 0; }
  // What others committed after `seq`, read without the write lock (a follower's catch-up).
  virtual Result<OthersChanges> changesAfter(int64_t seq) { return OthersChanges{{}, false, seq}; }
};

// An in-memory store: for unit tests and benchmarks of the logic above storage.
class MemoryStore : public Store {
 public:
  Result<StoreSnapshot> load() override { return snapshot_; }
  Status apply(const StoreChanges& changes) override;
  // Makes the next apply() fail, to test that a failed write changes nothing.
  void failNextApplyForTest() { failNext_ = true; }

 private:
  StoreSnapshot snapshot_;
  bool failNext_ = false;
};

}  // namespace bwfloor::placement
