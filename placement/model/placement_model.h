#pragma once
// The authoritative in-memory Placement model. Reads take a shared lock and serve from memory;
// every write validates, persists through the Store in one transaction, then updates memory under
// an exclusive lock, so concurrent writers can never over-allocate and a failed write changes
// nothing. HTTP concerns (microversions, JSON) live in placement/api.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "placement/model/types.h"
#include "placement/store/store.h"

namespace bwfloor::placement {

// A trait or aggregate condition: any of `anyOf` must be present (required), or none of
// `anyOf` may be present (forbidden).
struct SetTerm {
  std::set<std::string> anyOf;
  bool forbidden = false;
};

// Orders the model's providers by uuid (the class index holds pointers to its own nodes).
struct ProviderByUuid {
  bool operator()(const Provider* a, const Provider* b) const { return a->uuid < b->uuid; }
};
using ProviderSet = std::set<const Provider*, ProviderByUuid>;

struct ProviderFilter {
  std::optional<std::string> name;
  std::optional<std::string> uuid;
  std::optional<std::string> inTree;
  std::vector<SetTerm> memberOf;  // AND of terms
  std::vector<SetTerm> traits;    // AND of terms
  ResourceAmounts resources;
};

// The desired allocations of one consumer (PUT /allocations/{c} or one entry of POST).
struct AllocationWrite {
  std::string consumerUuid;
  std::map<std::string, ResourceAmounts> allocations;  // provider -> amounts; empty = delete all
  std::optional<std::string> projectId;
  std::optional<std::string> userId;
  std::optional<std::string> consumerType;
  bool checkGeneration = false;                        // 1.28+
  std::optional<int64_t> consumerGeneration;           // null = "consumer must be new"
  std::map<std::string, int64_t> providerGenerations;  // optional per-provider checks (1.12+)
};

struct ReshapeInventory {
  std::string providerUuid;
  int64_t generation = 0;
  std::map<std::string, Inventory> inventories;
};

struct UsageQuery {
  std::string projectId;
  std::optional<std::string> userId;
  std::optional<std::string> consumerType;  // a type, "all", "unknown"; unset = no grouping
};

class PlacementModel {
 public:
  explicit PlacementModel(std::shared_ptr<Store> store);

  // Loads everything from the store; registers standard traits and resource classes.
  Status load();

  // --- replicas on a shared store (PostgreSQL) ---
  // Applies what other servers committed since this model last looked (reloads everything when
  // the log no longer reaches back that far). A follower thread calls it on NOTIFY and on a
  // timer; writes do the same under the database-wide write lock before they validate.
  Status catchUp();
  // When the model was last known to hold everything the database had (a catch-up or a write
  // that read the log); a store only this server writes is always current.
  std::chrono::steady_clock::time_point currentAsOf() const;
  // The change-log sequence number the model has applied up to.
  int64_t appliedSeq() const;

  // Called with the seconds each store write took (the server's commit-latency metric). Set it
  // before the first write.
  void setCommitObserver(std::function<void(double)> observer) {
    commitObserver_ = std::move(observer);
  }

  // Called with the names of providers a change deleted, this server's own writes and the other
  // replicas' alike, while the model's lock is held: it must not call back into the model or
  // block (PortsService::providersDeleted only queues). Set it before the first write.
  void setProvidersDeletedObserver(std::function<void(std::vector<std::string>)> observer) {
    providersDeletedObserver_ = std::move(observer);
  }

  // --- reads ---
  std::optional<Provider> getProvider(const std::string& uuid) const;
  std::vector<Provider> listProviders(const ProviderFilter& filter) const;
  // Returns a 400 ApiError if a filter names an unknown trait or resource class.
  ApiStatus validateFilter(const ProviderFilter& filter) const;
  // Usage of every inventoried class (0 when unused).
  ResourceAmounts providerUsage(const std::string& uuid) const;
  // consumer -> (amounts, consumer generation) for one provider.
  std::map<std::string, std::pair<ResourceAmounts, int64_t>> providerAllocations(
      const std::string& uuid) const;
  std::optional<Consumer> getConsumer(const std::string& uuid) const;
  size_t consumerCount() const;
  // Uuids of the consumers that hold allocations for `projectId`.
  std::vector<std::string> consumersOfProject(const std::string& projectId) const;
  // type -> (class -> amount, consumer count); keys are types when grouped, "" otherwise.
  std::map<std::string, std::pair<ResourceAmounts, int64_t>> usages(const UsageQuery& q) const;
  bool traitExists(const std::string& name) const;
  std::vector<std::string> listTraits(const std::function<bool(const std::string&)>& keep,
                                      std::optional<bool> associated) const;
  bool resourceClassExists(const std::string& name) const;
  std::vector<std::string> listResourceClasses() const;
  bool hasChildren(const std::string& uuid) const;
  // Runs fn under the shared lock (the candidates engine reads several maps consistently).
  void withReadLock(const std::function<void(const PlacementModel&)>& fn) const;

  // --- writes (each one transaction) ---
  ApiResult<Provider> createProvider(const std::string& name, std::optional<std::string> uuid,
                                     std::optional<std::string> parentUuid);
  ApiResult<Provider> updateProvider(const std::string& uuid, const std::string& name,
                                     std::optional<std::string> parentUuid, bool parentGiven,
                                     bool allowReparent);
  ApiStatus deleteProvider(const std::string& uuid);

  ApiResult<Provider> addInventory(const std::string& uuid, const std::string& rc,
                                   const Inventory& inv);
  ApiResult<Provider> setInventories(const std::string& uuid, int64_t generation,
                                     const std::map<std::string, Inventory>& inventories);
  ApiResult<Provider> setInventory(const std::string& uuid, int64_t generation,
                                   const std::string& rc, const Inventory& inv);
  ApiStatus deleteInventory(const std::string& uuid, const std::string& rc);
  ApiStatus deleteInventories(const std::string& uuid);

  ApiResult<Provider> setTraits(const std::string& uuid, int64_t generation,
                                const std::set<std::string>& traits);
  ApiStatus deleteProviderTraits(const std::string& uuid);
  // generation unset = 1.1-1.18 semantics (no check, no bump).
  ApiResult<Provider> setAggregates(const std::string& uuid, std::optional<int64_t> generation,
                                    const std::set<std::string>& aggregates);

  ApiStatus writeAllocations(const std::vector<AllocationWrite>& writes);
  ApiStatus deleteAllocations(const std::string& consumerUuid);
  ApiStatus reshape(const std::vector<ReshapeInventory>& inventories,
                    const std::vector<AllocationWrite>& allocations);

  // Returns true when created, false when it already existed.
  ApiResult<bool> createTrait(const std::string& name);
  ApiStatus deleteTrait(const std::string& name);
  ApiResult<bool> createResourceClass(const std::string& name, bool errorIfExists);
  ApiStatus renameResourceClass(const std::string& from, const std::string& to);
  ApiStatus deleteResourceClass(const std::string& name);

  // Read-only access for the candidates engine (call under withReadLock).
  const std::unordered_map<std::string, Provider>& providersUnlocked() const { return providers_; }
  const std::unordered_map<std::string, ResourceAmounts>& usageUnlocked() const { return usage_; }
  const std::unordered_map<std::string, std::set<std::string>>& childrenUnlocked() const {
    return children_;
  }
  // Providers that have an inventory of the class, in uuid order (pointers to the model's nodes:
  // the engine walks them without a lookup by uuid).
  const ProviderSet* providersWithClassUnlocked(const std::string& rc) const {
    auto it = providersByClass_.find(rc);
    return it == providersByClass_.end() ? nullptr : &it->second;
  }
  bool hasTreesUnlocked() const { return nestedProviders_ > 0; }
  // The id of a trait name in Provider::traitIds; kNoTraitId when no provider ever had it.
  static constexpr uint32_t kNoTraitId = UINT32_MAX;
  static constexpr uint32_t kNoClassId = UINT32_MAX;
  uint32_t traitIdUnlocked(const std::string& trait) const {
    auto it = traitIds_.find(trait);
    return it == traitIds_.end() ? kNoTraitId : it->second;
  }
  // The id of a resource class (Provider::classes); kNoClassId for an unknown name.
  uint32_t classIdUnlocked(const std::string& rc) const {
    auto it = resourceClasses_.find(rc);
    return it == resourceClasses_.end() ? kNoClassId : static_cast<uint32_t>(it->second);
  }

  // A staged write (placement/model/txn.h); public so that write helpers can take it.
  class Txn;

 private:
  friend class Txn;

  // The exclusive lock of a write and, on a shared store, the database-wide write lock, which it
  // gives back unused when the write fails validation.
  class WriteLock {
   public:
    WriteLock(std::unique_lock<std::shared_mutex> lock, Store* store)
        : lock_(std::move(lock)), store_(store) {}
    WriteLock(WriteLock&& other) noexcept
        : lock_(std::move(other.lock_)), store_(std::exchange(other.store_, nullptr)) {}
    WriteLock& operator=(WriteLock&&) = delete;
    ~WriteLock() {
      if (store_ != nullptr) store_->abortWrite();
    }

   private:
    std::unique_lock<std::shared_mutex> lock_;
    Store* store_;
  };
  // Every write starts here: on a shared store it first applies what others committed.
  ApiResult<WriteLock> lockForWrite();
  // Applies a committed change (this server's or another's) to memory.
  void applyChangesUnlocked(StoreChanges changes);
  void applyOthersUnlocked(OthersChanges others);
  // Forgets everything, then loads the snapshot (start-up and a replica too far behind).
  void resetUnlocked();
  void loadSnapshotUnlocked(StoreSnapshot snap);
  Status reload();

  // The four derived indexes are rebuilt incrementally at commit.
  void indexProvider(const Provider* before, const Provider* after);
  // The class index of a provider node of providers_ (after it is stored, before it changes).
  void indexClasses(const Provider& node, bool add);
  void indexConsumer(const Consumer* before, const Consumer* after);
  // A provider node changed (or its usage did): a new revision.
  static void stamp(Provider& node);
  // The derived fields of a provider node: trait ids and filter, root node (once every node of
  // the write is in place).
  void derive(Provider& node);
  // Provider::classes from the node's inventories and usage.
  void deriveClasses(Provider& node);
  void usageChanged(const std::string& uuid);
  ApiStatus commit(Txn& txn);

  std::shared_ptr<Store> store_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Provider> providers_;
  std::unordered_map<std::string, std::string> providerByName_;
  std::unordered_map<std::string, std::set<std::string>> children_;
  std::unordered_map<std::string, ResourceAmounts> usage_;
  std::unordered_map<std::string, std::set<std::string>> providerConsumers_;
  std::unordered_map<std::string, Consumer> consumers_;
  std::set<std::string> standardTraits_;
  std::set<std::string> customTraits_;
  std::map<std::string, int> resourceClasses_;  // name -> id
  std::map<std::string, int> traitUse_;         // trait -> number of providers having it
  std::unordered_map<std::string, ProviderSet> providersByClass_;
  std::unordered_map<std::string, uint32_t> traitIds_;  // every trait a provider ever had
  int64_t nestedProviders_ = 0;  // providers with a parent: Placement's "has_trees"
  int64_t appliedSeq_ = 0;       // the last change-log entry in memory (shared stores)
  CurrentAsOf currentAsOf_;
  std::function<void(double)> commitObserver_;
  std::function<void(std::vector<std::string>)> providersDeletedObserver_;
};

// "CUSTOM_" + [A-Z0-9_]+, at most 255 characters.
bool isCustomName(const std::string& name);

}  // namespace bwfloor::placement
