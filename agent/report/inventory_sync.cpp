#include "agent/report/inventory_sync.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using ProviderMap = std::map<std::string, ProviderRecord>;  // by uuid

// One sync pass: the calls, their outcome, and the provider records read so far.
class Pass {
 public:
  Pass(PlacementClient& client, RootProviderPolicy policy)
      : client_(client), policy_(policy), log_(logger("agent")) {}

  bool aborted() const { return report_.status == SyncStatus::kUnavailable; }
  SyncReport& report() { return report_; }

  void ensureTraits(const std::set<std::string>& traits);
  // Syncs one hypervisor's desired agents; removes the subtrees of `staleKinds`. Returns the
  // stale kinds now gone from placement.
  std::set<AgentKind> syncRoot(const DesiredRoot* root, const std::string& hypervisor,
                               const std::set<AgentKind>& staleKinds);

 private:
  void fail(const std::string& what, const PlacementError& error);
  void refuse(const std::string& what);
  std::optional<std::string> resolveRoot(const std::string& hypervisor, bool create);
  void syncAgent(const DesiredAgent& agent, const std::string& rootUuid, ProviderMap& tree,
                 std::set<std::string>& toDelete);
  // Creates or fixes the provider; false when it failed (its children are then skipped).
  // `fresh` receives the generation of a provider just created (no traits, no inventories).
  bool ensureProvider(const DesiredProvider& desired, const std::string& parentUuid,
                      ProviderMap& tree, std::optional<int64_t>& fresh);
  void syncContents(const DesiredProvider& desired, std::optional<int64_t> fresh);
  bool syncTraits(const DesiredProvider& desired, std::optional<int64_t>& fresh);
  bool syncInventories(const DesiredProvider& desired, std::optional<int64_t>& fresh);
  void drainHeld(const std::string& uuid, const std::string& name);
  void deleteAll(const std::set<std::string>& uuids, const ProviderMap& tree);

  PlacementClient& client_;
  RootProviderPolicy policy_;
  std::shared_ptr<spdlog::logger> log_;
  SyncReport report_;
};

// Adds `uuid` and everything below it in `tree` to `out`.
void collectSubtree(const std::string& uuid, const ProviderMap& tree, std::set<std::string>& out) {
  if (!out.insert(uuid).second) return;
  for (const auto& [child, record] : tree) {
    if (record.parentUuid == uuid) collectSubtree(child, tree, out);
  }
}

int depthOf(const std::string& uuid, const ProviderMap& tree) {
  int depth = 0;
  for (auto it = tree.find(uuid); it != tree.end() && !it->second.parentUuid.empty() && depth < 64;
       it = tree.find(it->second.parentUuid)) {
    ++depth;
  }
  return depth;
}

void Pass::fail(const std::string& what, const PlacementError& error) {
  if (error.unavailable()) {
    report_.status = SyncStatus::kUnavailable;
    log_->warn("placement sync stopped: {}: {}", what, error.toString());
  } else {
    if (report_.status == SyncStatus::kSynced) report_.status = SyncStatus::kIncomplete;
    log_->error("placement refused: {}: {}", what, error.toString());
  }
  report_.errors.push_back(what + ": " + error.toString());
}

void Pass::refuse(const std::string& what) {
  if (report_.status == SyncStatus::kSynced) report_.status = SyncStatus::kIncomplete;
  report_.errors.push_back(what);
}

void Pass::ensureTraits(const std::set<std::string>& traits) {
  auto existing = client_.existingTraits(traits);
  if (!existing) return fail("list custom traits", existing.error());
  for (const auto& trait : traits) {
    if (existing->count(trait) != 0) continue;
    if (auto st = client_.createTrait(trait); !st) {
      fail("create trait " + trait, st.error());
      if (aborted()) return;
      continue;
    }
    ++report_.changes;
    log_->info("created trait name={}", trait);
  }
}

std::optional<std::string> Pass::resolveRoot(const std::string& hypervisor, bool create) {
  auto found = client_.findProviderByName(hypervisor);
  if (!found) {
    fail("find root provider " + hypervisor, found.error());
    return std::nullopt;
  }
  if (*found) return (*found)->uuid;
  if (!create) return std::nullopt;
  if (policy_ == RootProviderPolicy::kWait) {
    log_->warn("root provider name={} not in placement; waiting for it (root_provider = wait)",
               hypervisor);
    refuse("root provider " + hypervisor + " not found (root_provider = wait)");
    return std::nullopt;
  }
  auto created = client_.createProvider(hypervisor, "", "");
  if (!created) {
    fail("create root provider " + hypervisor, created.error());
    return std::nullopt;
  }
  ++report_.changes;
  log_->info("created root provider name={} uuid={}", hypervisor, created->uuid);
  return created->uuid;
}

std::set<AgentKind> Pass::syncRoot(const DesiredRoot* root, const std::string& hypervisor,
                                   const std::set<AgentKind>& staleKinds) {
  std::set<AgentKind> removed;
  const size_t errorsBefore = report_.errors.size();
  const auto rootUuid = resolveRoot(hypervisor, root != nullptr);
  if (!rootUuid) {
    // No root: nothing of ours can be under it; stale kinds are gone unless the lookup failed.
    if (root == nullptr && report_.errors.size() == errorsBefore) removed = staleKinds;
    return removed;
  }
  auto listed = client_.listTree(*rootUuid);
  if (!listed) {
    fail("read the provider tree of " + hypervisor, listed.error());
    return removed;
  }
  ProviderMap tree;
  for (auto& record : *listed) tree.emplace(record.uuid, std::move(record));

  std::set<std::string> toDelete;
  if (root != nullptr) {
    for (const auto& agent : root->agents) {
      syncAgent(agent, *rootUuid, tree, toDelete);
      if (aborted()) return removed;
    }
  }
  for (const AgentKind kind : staleKinds) {
    const std::string uuid = agentProviderUuid(kind, hypervisor).toString();
    if (tree.count(uuid) != 0) collectSubtree(uuid, tree, toDelete);
  }
  const size_t errorsBeforeDelete = report_.errors.size();
  deleteAll(toDelete, tree);
  if (report_.errors.size() == errorsBeforeDelete && !aborted()) removed = staleKinds;
  return removed;
}

void Pass::syncAgent(const DesiredAgent& agent, const std::string& rootUuid, ProviderMap& tree,
                     std::set<std::string>& toDelete) {
  std::optional<int64_t> fresh;
  if (!ensureProvider(agent.provider, rootUuid, tree, fresh)) return;
  syncContents(agent.provider, fresh);
  const std::string agentUuid = agent.provider.uuid.toString();
  std::set<std::string> keep;
  for (const auto& device : agent.devices) {
    keep.insert(device.uuid.toString());
    if (aborted()) return;
    std::optional<int64_t> freshDevice;
    if (ensureProvider(device, agentUuid, tree, freshDevice)) syncContents(device, freshDevice);
  }
  for (const auto& uuid : agent.held) {
    keep.insert(uuid.toString());
    if (auto it = tree.find(uuid.toString()); it != tree.end() && !aborted()) {
      drainHeld(it->first, it->second.name);
    }
  }
  for (const auto& [uuid, record] : tree) {
    if (record.parentUuid == agentUuid && keep.count(uuid) == 0) {
      collectSubtree(uuid, tree, toDelete);
    }
  }
}

bool Pass::ensureProvider(const DesiredProvider& desired, const std::string& parentUuid,
                          ProviderMap& tree, std::optional<int64_t>& fresh) {
  const std::string uuid = desired.uuid.toString();
  std::optional<ProviderRecord> existing;
  if (auto it = tree.find(uuid); it != tree.end()) {
    existing = it->second;
  } else {
    // Not in this tree: absent, or under another root (then re-parented below).
    auto found = client_.getProvider(uuid);
    if (!found) {
      fail("read provider " + desired.name, found.error());
      return false;
    }
    existing = *found;
  }
  if (!existing) {
    auto created = client_.createProvider(desired.name, uuid, parentUuid);
    if (!created) {
      fail("create provider " + desired.name, created.error());
      return false;
    }
    ++report_.changes;
    log_->info("created provider name=\"{}\" uuid={} parent={}", desired.name, uuid, parentUuid);
    fresh = created->generation;
    tree[uuid] = *created;
    return true;
  }
  if (existing->name != desired.name || existing->parentUuid != parentUuid) {
    auto updated = client_.updateProvider(uuid, desired.name, parentUuid);
    if (!updated) {
      fail("update provider " + desired.name, updated.error());
      return false;
    }
    ++report_.changes;
    log_->info(R"x(updated provider uuid={} name="{}" (was "{}") parent={} (was {}))x", uuid,
               desired.name, existing->name, parentUuid,
               existing->parentUuid.empty() ? "none" : existing->parentUuid);
    tree[uuid] = *updated;
  }
  return true;
}

void Pass::syncContents(const DesiredProvider& desired, std::optional<int64_t> fresh) {
  if (!syncTraits(desired, fresh) || aborted()) return;
  syncInventories(desired, fresh);
}

bool Pass::syncTraits(const DesiredProvider& desired, std::optional<int64_t>& fresh) {
  const std::string uuid = desired.uuid.toString();
  std::optional<Generational<std::set<std::string>>> current;
  if (fresh) current = Generational<std::set<std::string>>{*fresh, {}};
  for (int attempt = 1; attempt <= kMaxConflictRetries; ++attempt) {
    if (!current) {
      auto read = client_.getTraits(uuid);
      if (!read) {
        fail("read traits of " + desired.name, read.error());
        return false;
      }
      current = std::move(*read);
    }
    if (current->value == desired.traits) return true;
    auto put = client_.putTraits(uuid, current->generation, desired.traits);
    if (put) {
      ++report_.changes;
      log_->info("set traits provider=\"{}\" traits={} (was {})", desired.name,
                 describeTraits(desired.traits), describeTraits(current->value));
      if (fresh) fresh = *put;
      return true;
    }
    if (!put.error().concurrentUpdate()) {
      fail("set traits of " + desired.name, put.error());
      return false;
    }
    log_->info("generation conflict on provider=\"{}\" (traits, attempt {}); re-reading",
               desired.name, attempt);
    current.reset();
    fresh.reset();
  }
  refuse("set traits of " + desired.name + ": generation conflict " +
         std::to_string(kMaxConflictRetries) + " times");
  return false;
}

bool Pass::syncInventories(const DesiredProvider& desired, std::optional<int64_t>& fresh) {
  const std::string uuid = desired.uuid.toString();
  std::optional<Generational<Inventories>> current;
  if (fresh) current = Generational<Inventories>{*fresh, {}};
  for (int attempt = 1; attempt <= kMaxConflictRetries; ++attempt) {
    if (!current) {
      auto read = client_.getInventories(uuid);
      if (!read) {
        fail("read inventories of " + desired.name, read.error());
        return false;
      }
      current = std::move(*read);
    }
    if (current->value == desired.inventories) return true;
    auto put = client_.putInventories(uuid, current->generation, desired.inventories);
    if (put) {
      ++report_.changes;
      log_->info("set inventories provider=\"{}\" {} (was {})", desired.name,
                 describeInventories(desired.inventories), describeInventories(current->value));
      if (fresh) fresh = *put;
      return true;
    }
    if (!put.error().concurrentUpdate()) {
      fail("set inventories of " + desired.name, put.error());
      return false;
    }
    log_->info("generation conflict on provider=\"{}\" (inventories, attempt {}); re-reading",
               desired.name, attempt);
    current.reset();
    fresh.reset();
  }
  refuse("set inventories of " + desired.name + ": generation conflict " +
         std::to_string(kMaxConflictRetries) + " times");
  return false;
}

// A configured device the host lacks keeps its provider (its allocations stay valid) but takes
// no new ones: every inventory gets reserved = total until the device returns, when the desired
// tree brings the configured values back. Otherwise the scheduler would bind ports to a NIC
// that is not there and report them ACTIVE.
void Pass::drainHeld(const std::string& uuid, const std::string& name) {
  for (int attempt = 1; attempt <= kMaxConflictRetries; ++attempt) {
    auto read = client_.getInventories(uuid);
    if (!read) return fail("read inventories of " + name, read.error());
    Inventories drained = read->value;
    for (auto& [rc, inventory] : drained) inventory.reserved = inventory.total;
    if (drained == read->value) return;
    auto put = client_.putInventories(uuid, read->generation, drained);
    if (put) {
      ++report_.changes;
      log_->warn("device missing: provider=\"{}\" made unschedulable {} (was {}) until it returns",
                 name, describeInventories(drained), describeInventories(read->value));
      return;
    }
    if (!put.error().concurrentUpdate()) return fail("drain inventories of " + name, put.error());
  }
  refuse("drain inventories of " + name + ": generation conflict " +
         std::to_string(kMaxConflictRetries) + " times");
}

void Pass::deleteAll(const std::set<std::string>& uuids, const ProviderMap& tree) {
  std::vector<std::string> order(uuids.begin(), uuids.end());
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    return depthOf(a, tree) > depthOf(b, tree);  // children first
  });
  for (const auto& uuid : order) {
    const auto it = tree.find(uuid);
    const std::string name = it != tree.end() ? it->second.name : uuid;
    if (auto st = client_.deleteProvider(uuid); !st) {
      fail("delete provider " + name, st.error());
      if (aborted()) return;
      continue;
    }
    ++report_.changes;
    log_->info("deleted provider name=\"{}\" uuid={} (no longer configured)", name, uuid);
  }
}

}  // namespace

const char* syncStatusName(SyncStatus status) {
  switch (status) {
    case SyncStatus::kSynced:
      return "synced";
    case SyncStatus::kIncomplete:
      return "incomplete";
    case SyncStatus::kUnavailable:
      return "placement unavailable";
  }
  return "?";
}

SyncReport InventorySync::sync(PlacementClient& client, const ProviderTree& desired,
                               RootProviderPolicy policy) {
  Pass pass(client, policy);
  // Record what is desired first: a pass that fails half-way must still clean it up later.
  std::map<std::string, std::set<AgentKind>> stale = managed_;
  for (const auto& root : desired.roots) {
    for (const auto& agent : root.agents) {
      managed_[root.hypervisor].insert(agent.kind);
      stale[root.hypervisor].erase(agent.kind);
    }
  }
  pass.ensureTraits(desired.customTraits);
  std::set<std::string> hypervisors;
  for (const auto& root : desired.roots) hypervisors.insert(root.hypervisor);
  for (const auto& [hypervisor, kinds] : stale) {
    if (!kinds.empty()) hypervisors.insert(hypervisor);
  }
  for (const auto& hypervisor : hypervisors) {
    if (pass.aborted()) break;
    const std::set<AgentKind>& staleKinds = stale[hypervisor];
    const std::set<AgentKind> removed =
        pass.syncRoot(desired.findRoot(hypervisor), hypervisor, staleKinds);
    for (const AgentKind kind : removed) managed_[hypervisor].erase(kind);
    if (managed_[hypervisor].empty()) managed_.erase(hypervisor);
  }
  return pass.report();
}

}  // namespace bwfloor::agent
