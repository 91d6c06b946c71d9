#pragma once
// Where placement's state lives durably. The model validates a request against memory, hands the
// whole change to the store as one transaction, and only then updates memory: a failed write
// changes nothing anywhere.

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
