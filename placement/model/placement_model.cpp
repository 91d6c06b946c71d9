#include "placement/model/placement_model.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>

#include "core/logging.h"
#include "placement/model/standard_names.h"
#include "placement/model/txn.h"

namespace bwfloor::placement {

const char* errcName(Errc errc) {
  switch (errc) {
    case Errc::kInvalid:
      return "invalid";
    case Errc::kUnauthenticated:
      return "unauthenticated";
    case Errc::kForbidden:
      return "forbidden";
    case Errc::kNotFound:
      return "not-found";
    case Errc::kMethodNotAllowed:
      return "method-not-allowed";
    case Errc::kNotAcceptable:
      return "not-acceptable";
    case Errc::kConflict:
      return "conflict";
    case Errc::kUnsupportedMediaType:
      return "unsupported-media-type";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kInternal:
      return "internal";
  }
  return "?";
}

bool isCustomName(const std::string& name) {
  if (name.size() <= 7 || name.size() > 255 || name.rfind("CUSTOM_", 0) != 0) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

uint64_t traitBloomBit(const std::string& trait) {
  return uint64_t{1} << (std::hash<std::string>{}(trait) % 64);
}

void PlacementModel::stamp(Provider& node) {
  // Process-wide, so that no two models (tests run several) ever share a revision.
  static std::atomic<uint64_t> revisions{0};
  node.revision = ++revisions;
}

void PlacementModel::derive(Provider& node) {
  node.traitBloom = 0;
  node.traitIds.clear();
  for (const auto& t : node.traits) {
    node.traitBloom |= traitBloomBit(t);
    node.traitIds.push_back(
        traitIds_.try_emplace(t, static_cast<uint32_t>(traitIds_.size())).first->second);
  }
  std::sort(node.traitIds.begin(), node.traitIds.end());
  auto root = providers_.find(node.rootUuid);
  node.root = root == providers_.end() ? nullptr : &root->second;
  auto used = usage_.find(node.uuid);
  node.usage = used == usage_.end() ? nullptr : &used->second;
  deriveClasses(node);
}

void PlacementModel::deriveClasses(Provider& node) {
  node.classes.clear();
  for (const auto& [rc, inv] : node.inventories) {
    int64_t used = 0;
    if (node.usage) {
      if (auto it = node.usage->find(rc); it != node.usage->end()) used = it->second;
    }
    node.classes.push_back({classIdUnlocked(rc), used, inv});
  }
}

void PlacementModel::usageChanged(const std::string& uuid) {
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return;
  stamp(it->second);
  it->second.usage = &usage_[uuid];  // usage_'s nodes stay put until the provider goes
  deriveClasses(it->second);
}

PlacementModel::PlacementModel(std::shared_ptr<Store> store) : store_(std::move(store)) {
  standardTraits_.insert(standardTraits().begin(), standardTraits().end());
  resetUnlocked();
}

void PlacementModel::resetUnlocked() {
  providers_.clear();
  providerByName_.clear();
  children_.clear();
  usage_.clear();
  providerConsumers_.clear();
  consumers_.clear();
  customTraits_.clear();
  traitUse_.clear();
  providersByClass_.clear();
  nestedProviders_ = 0;
  resourceClasses_.clear();
  const auto& classes = standardResourceClasses();
  for (size_t i = 0; i < classes.size(); ++i) resourceClasses_[classes[i]] = static_cast<int>(i);
}

Status PlacementModel::load() {
  const auto asOf = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(StoreSnapshot snap, store_->load());
  std::unique_lock lock(mutex_);
  loadSnapshotUnlocked(std::move(snap));
  currentAsOf_.mark(asOf);
  logger("placement")
      ->info("loaded providers={} consumers={} custom_traits={} resource_classes={} seq={}",
             providers_.size(), consumers_.size(), customTraits_.size(), resourceClasses_.size(),
             appliedSeq_);
  return Status::ok();
}

void PlacementModel::loadSnapshotUnlocked(StoreSnapshot snap) {
  resetUnlocked();
  for (auto& [name, id] : snap.customResourceClasses) resourceClasses_[name] = id;
  customTraits_.insert(snap.customTraits.begin(), snap.customTraits.end());
  for (auto& p : snap.providers) {
    stamp(p);
    indexProvider(nullptr, &p);
    std::string uuid = p.uuid;
    indexClasses(providers_.emplace(uuid, std::move(p)).first->second, true);
  }
  for (auto& [uuid, p] : providers_) derive(p);
  for (auto& c : snap.consumers) {
    indexConsumer(nullptr, &c);
    std::string uuid = c.uuid;
    consumers_.emplace(uuid, std::move(c));
  }
  appliedSeq_ = snap.seq;
}

Status PlacementModel::reload() {
  const auto asOf = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(StoreSnapshot snap, store_->load());
  std::unique_lock lock(mutex_);
  logger("placement")
      ->warn(
          "this replica is too far behind the change log (at seq {}, the log starts after"
          " it): reloading everything at seq {}",
          appliedSeq_, snap.seq);
  loadSnapshotUnlocked(std::move(snap));
  currentAsOf_.mark(asOf);
  return Status::ok();
}

std::chrono::steady_clock::time_point PlacementModel::currentAsOf() const {
  if (!store_->shared()) return std::chrono::steady_clock::now();
  return currentAsOf_.get();
}

int64_t PlacementModel::appliedSeq() const {
  std::shared_lock lock(mutex_);
  return appliedSeq_;
}

Status PlacementModel::catchUp() {
  if (!store_->shared()) return Status::ok();
  const auto asOf = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(OthersChanges others, store_->changesAfter(appliedSeq()));
  if (others.reloadNeeded) return reload();
  std::unique_lock lock(mutex_);
  applyOthersUnlocked(std::move(others));
  currentAsOf_.mark(asOf);
  return Status::ok();
}

void PlacementModel::applyOthersUnlocked(OthersChanges others) {
  for (auto& [seq, changes] : others.changes) {
    if (seq <= appliedSeq_) continue;  // this server's own, or applied by a write meanwhile
    applyChangesUnlocked(std::move(changes));
    appliedSeq_ = seq;
  }
}

ApiResult<PlacementModel::WriteLock> PlacementModel::lockForWrite() {
  std::unique_lock lock(mutex_);
  if (!store_->shared()) return WriteLock(std::move(lock), nullptr);
  for (int attempt = 0;; ++attempt) {
    const auto asOf = std::chrono::steady_clock::now();
    auto others = store_->beginWrite(appliedSeq_);
    if (!others) {
      logger("placement")->error("store write lock failed: {}", others.error().toString());
      return unavailable("Placement store unavailable, nothing changed: " +
                         others.error().message());
    }
    if (others->reloadNeeded && attempt < 2) {
      store_->abortWrite();
      lock.unlock();
      if (Status st = reload(); !st) {
        return unavailable("Placement store unavailable, nothing changed: " + st.error().message());
      }
      lock.lock();
      continue;
    }
    applyOthersUnlocked(std::move(*others));
    currentAsOf_.mark(asOf);
    return WriteLock(std::move(lock), store_.get());
  }
}

void PlacementModel::indexProvider(const Provider* before, const Provider* after) {
  if (before) {
    // Only if the name is still this provider's: a write may move a name between providers.
    if (auto it = providerByName_.find(before->name);
        it != providerByName_.end() && it->second == before->uuid) {
      providerByName_.erase(it);
    }
    if (!before->parentUuid.empty()) children_[before->parentUuid].erase(before->uuid);
    for (const auto& t : before->traits) --traitUse_[t];
    if (!before->parentUuid.empty()) --nestedProviders_;
  }
  if (after) {
    providerByName_[after->name] = after->uuid;
    if (!after->parentUuid.empty()) children_[after->parentUuid].insert(after->uuid);
    for (const auto& t : after->traits) ++traitUse_[t];
    if (!after->parentUuid.empty()) ++nestedProviders_;
  } else if (before) {
    children_.erase(before->uuid);
    usage_.erase(before->uuid);
  }
}

void PlacementModel::indexClasses(const Provider& node, bool add) {
  for (const auto& [rc, inv] : node.inventories) {
    if (add) {
      providersByClass_[rc].insert(&node);
    } else if (auto it = providersByClass_.find(rc); it != providersByClass_.end()) {
      it->second.erase(&node);
      if (it->second.empty()) providersByClass_.erase(it);
    }
  }
}

void PlacementModel::indexConsumer(const Consumer* before, const Consumer* after) {
  if (before) {
    for (const auto& [rp, amounts] : before->allocations) {
      auto& used = usage_[rp];
      for (const auto& [rc, n] : amounts) used[rc] -= n;
      providerConsumers_[rp].erase(before->uuid);
      usageChanged(rp);
    }
  }
  if (after) {
    for (const auto& [rp, amounts] : after->allocations) {
      auto& used = usage_[rp];
      for (const auto& [rc, n] : amounts) used[rc] += n;
      providerConsumers_[rp].insert(after->uuid);
      usageChanged(rp);
    }
  }
}

ApiStatus PlacementModel::commit(Txn& txn) {
  StoreChanges changes = std::move(txn.extra_);
  // Parents before children on upsert, children before parents on delete: depth order.
  auto depth = [&](const std::string& uuid) {
    int d = 0;
    for (const Provider* p = txn.provider(uuid); p && !p->parentUuid.empty();
         p = txn.provider(p->parentUuid)) {
      ++d;
    }
    return d;
  };
  std::vector<std::pair<int, std::string>> upserts;
  std::vector<std::pair<int, std::string>> deletes;
  for (const auto& [uuid, staged] : txn.providers_) {
    if (staged) {
      upserts.emplace_back(depth(uuid), uuid);
    } else if (providers_.count(uuid)) {
      const Provider& old = providers_.at(uuid);
      int d = 0;
      for (const Provider* p = &old; !p->parentUuid.empty() && providers_.count(p->parentUuid);
           p = &providers_.at(p->parentUuid)) {
        ++d;
      }
      deletes.emplace_back(-d, uuid);
    }
  }
  std::sort(upserts.begin(), upserts.end());
  std::sort(deletes.begin(), deletes.end());
  for (const auto& [d, uuid] : upserts) changes.upsertProviders.push_back(*txn.providers_[uuid]);
  for (const auto& [d, uuid] : deletes) changes.deleteProviders.push_back(uuid);
  for (const auto& [uuid, staged] : txn.consumers_) {
    if (staged) {
      changes.upsertConsumers.push_back(*staged);
    } else if (consumers_.count(uuid)) {
      changes.deleteConsumers.push_back(uuid);
    }
  }
  if (changes.empty()) return ApiStatus::ok();
  // What this write was validated against, for a shared store to check again in SQL.
  for (const auto& p : changes.upsertProviders) {
    if (auto it = providers_.find(p.uuid); it != providers_.end()) {
      changes.providerGenerations[p.uuid] = it->second.generation;
    }
  }
  for (const auto& uuid : changes.deleteProviders) {
    changes.providerGenerations[uuid] = providers_.at(uuid).generation;
  }
  std::set<std::pair<std::string, std::string>> grows;
  for (const auto& c : changes.upsertConsumers) {
    auto before = consumers_.find(c.uuid);
    if (before != consumers_.end()) changes.consumerGenerations[c.uuid] = before->second.generation;
    for (const auto& [rp, amounts] : c.allocations) {
      for (const auto& [rc, n] : amounts) {
        if (n > amountOn(before == consumers_.end() ? nullptr : &before->second, rp, rc)) {
          grows.emplace(rp, rc);
        }
      }
    }
  }
  for (const auto& uuid : changes.deleteConsumers) {
    changes.consumerGenerations[uuid] = consumers_.at(uuid).generation;
  }
  changes.usageGrows.assign(grows.begin(), grows.end());
  const auto started = std::chrono::steady_clock::now();
  Status st = store_->apply(changes);
  if (commitObserver_) {
    commitObserver_(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!st) {
    if (st.error().code() == ErrorCode::kConflict) {
      logger("placement")
          ->error("store refused a write, nothing changed: {}", st.error().message());
      return conflict(st.error().message(), kConcurrentUpdate);
    }
    logger("placement")->error("store write failed, nothing changed: {}", st.error().toString());
    return ApiError{Errc::kUnavailable, "Placement store write failed: " + st.error().message(),
                    "placement.undefined_code"};
  }
  if (store_->shared()) appliedSeq_ = store_->committedSeq();
  applyChangesUnlocked(std::move(changes));
  return ApiStatus::ok();
}

void PlacementModel::applyChangesUnlocked(StoreChanges changes) {
  // Names first: the provider nodes derived below look their classes' ids up (a renamed class
  // keeps its id under the new name).
  for (const auto& t : changes.addTraits) customTraits_.insert(t);
  for (const auto& t : changes.deleteTraits) customTraits_.erase(t);
  for (const auto& name : changes.deleteResourceClasses) resourceClasses_.erase(name);
  for (const auto& [name, id] : changes.addResourceClasses) resourceClasses_[name] = id;
  std::vector<std::string> deletedNames;
  for (const auto& uuid : changes.deleteProviders) {
    auto it = providers_.find(uuid);
    if (it == providers_.end()) continue;
    deletedNames.push_back(it->second.name);
    indexProvider(&it->second, nullptr);
    indexClasses(it->second, false);
    providers_.erase(it);
  }
  if (!deletedNames.empty() && providersDeletedObserver_) {
    providersDeletedObserver_(std::move(deletedNames));
  }
  std::vector<Provider*> written;
  for (auto& p : changes.upsertProviders) {
    auto it = providers_.find(p.uuid);
    const Provider* before = it == providers_.end() ? nullptr : &it->second;
    indexProvider(before, &p);
    if (before) indexClasses(*before, false);
    std::string uuid = p.uuid;
    Provider& node = providers_[uuid];
    node = std::move(p);
    stamp(node);
    indexClasses(node, true);
    written.push_back(&node);
  }
  for (Provider* node : written) derive(*node);  // a new root may come after its children
  for (const auto& uuid : changes.deleteConsumers) {
    auto it = consumers_.find(uuid);
    if (it == consumers_.end()) continue;
    indexConsumer(&it->second, nullptr);
    consumers_.erase(it);
  }
  for (auto& c : changes.upsertConsumers) {
    auto it = consumers_.find(c.uuid);
    indexConsumer(it == consumers_.end() ? nullptr : &it->second, &c);
    std::string uuid = c.uuid;
    consumers_[uuid] = std::move(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Reads

std::optional<Provider> PlacementModel::getProvider(const std::string& uuid) const {
  std::shared_lock lock(mutex_);
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return std::nullopt;
  return it->second;
}

bool PlacementModel::hasChildren(const std::string& uuid) const {
  std::shared_lock lock(mutex_);
  auto it = children_.find(uuid);
  return it != children_.end() && !it->second.empty();
}

namespace {
bool matchesTerm(const std::set<std::string>& have, const SetTerm& term) {
  bool any = std::any_of(term.anyOf.begin(), term.anyOf.end(),
                         [&](const std::string& x) { return have.count(x) > 0; });
  return term.forbidden ? !any : any;
}
}  // namespace

ApiStatus PlacementModel::validateFilter(const ProviderFilter& filter) const {
  std::shared_lock lock(mutex_);
  for (const auto& term : filter.traits) {
    for (const auto& t : term.anyOf) {
      if (!standardTraits_.count(t) && !customTraits_.count(t)) {
        return badRequest("Invalid trait(s) in \"required\" parameter: No such trait(s): " + t +
                          ".");
      }
    }
  }
  for (const auto& [rc, amount] : filter.resources) {
    if (!resourceClasses_.count(rc)) {
      return badRequest("Invalid resource class in resources parameter: No such resource class " +
                        rc + ".");
    }
  }
  return ApiStatus::ok();
}

std::vector<Provider> PlacementModel::listProviders(const ProviderFilter& filter) const {
  std::shared_lock lock(mutex_);
  std::string treeRoot;
  if (filter.inTree) {
    auto it = providers_.find(*filter.inTree);
    if (it == providers_.end()) return {};
    treeRoot = it->second.rootUuid;
  }
  auto fits = [&](const Provider& p) {
    auto used = usage_.find(p.uuid);
    for (const auto& [rc, amount] : filter.resources) {
      auto inv = p.inventories.find(rc);
      if (inv == p.inventories.end()) return false;
      const Inventory& i = inv->second;
      int64_t u = 0;
      if (used != usage_.end()) {
        if (auto jt = used->second.find(rc); jt != used->second.end()) u = jt->second;
      }
      if (u + amount > i.capacity() || amount < i.minUnit || amount > i.maxUnit ||
          amount % i.stepSize != 0) {
        return false;
      }
    }
    return true;
  };
  std::vector<Provider> out;
  for (const auto& entry : providers_) {
    const Provider& p = entry.second;  // a plain reference: clang 15 cannot capture a binding
    if (filter.name && p.name != *filter.name) continue;
    if (filter.uuid && p.uuid != *filter.uuid) continue;
    if (filter.inTree && p.rootUuid != treeRoot) continue;
    bool ok = std::all_of(filter.memberOf.begin(), filter.memberOf.end(),
                          [&](const SetTerm& t) { return matchesTerm(p.aggregates, t); }) &&
              std::all_of(filter.traits.begin(), filter.traits.end(),
                          [&](const SetTerm& t) { return matchesTerm(p.traits, t); }) &&
              fits(p);
    if (ok) out.push_back(p);
  }
  // Stable, readable order: by creation, then uuid.
  std::sort(out.begin(), out.end(), [](const Provider& a, const Provider& b) {
    return std::tie(a.createdAt, a.uuid) < std::tie(b.createdAt, b.uuid);
  });
  return out;
}

ResourceAmounts PlacementModel::providerUsage(const std::string& uuid) const {
  std::shared_lock lock(mutex_);
  ResourceAmounts out;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return out;
  auto used = usage_.find(uuid);
  for (const auto& [rc, inv] : it->second.inventories) {
    int64_t u = 0;
    if (used != usage_.end()) {
      if (auto jt = used->second.find(rc); jt != used->second.end()) u = jt->second;
    }
    out[rc] = u;
  }
  return out;
}

std::map<std::string, std::pair<ResourceAmounts, int64_t>> PlacementModel::providerAllocations(
    const std::string& uuid) const {
  std::shared_lock lock(mutex_);
  std::map<std::string, std::pair<ResourceAmounts, int64_t>> out;
  auto it = providerConsumers_.find(uuid);
  if (it == providerConsumers_.end()) return out;
  for (const auto& c : it->second) {
    const Consumer& consumer = consumers_.at(c);
    out[c] = {consumer.allocations.at(uuid), consumer.generation};
  }
  return out;
}

std::optional<Consumer> PlacementModel::getConsumer(const std::string& uuid) const {
  std::shared_lock lock(mutex_);
  auto it = consumers_.find(uuid);
  if (it == consumers_.end()) return std::nullopt;
  return it->second;
}

size_t PlacementModel::consumerCount() const {
  std::shared_lock lock(mutex_);
  return consumers_.size();
}

std::vector<std::string> PlacementModel::consumersOfProject(const std::string& projectId) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [uuid, consumer] : consumers_) {
    if (consumer.projectId == projectId && !consumer.allocations.empty()) out.push_back(uuid);
  }
  return out;
}

std::map<std::string, std::pair<ResourceAmounts, int64_t>> PlacementModel::usages(
    const UsageQuery& q) const {
  std::shared_lock lock(mutex_);
  std::map<std::string, std::pair<ResourceAmounts, int64_t>> out;
  for (const auto& [uuid, c] : consumers_) {
    if (c.projectId != q.projectId || c.allocations.empty()) continue;
    if (q.userId && c.userId != *q.userId) continue;
    std::string type = c.consumerType.value_or("unknown");
    std::string key;
    if (q.consumerType) {
      if (*q.consumerType == "all" || *q.consumerType == "unknown") {
        if (*q.consumerType == "unknown" && c.consumerType) continue;
        key = *q.consumerType;
      } else {
        if (type != *q.consumerType) continue;
        key = type;
      }
    } else {
      key = type;
    }
    auto& [amounts, count] = out[key];
    for (const auto& [rp, byClass] : c.allocations) {
      for (const auto& [rc, n] : byClass) amounts[rc] += n;
    }
    ++count;
  }
  return out;
}

bool PlacementModel::traitExists(const std::string& name) const {
  std::shared_lock lock(mutex_);
  return standardTraits_.count(name) || customTraits_.count(name);
}

std::vector<std::string> PlacementModel::listTraits(
    const std::function<bool(const std::string&)>& keep, std::optional<bool> associated) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto consider = [&](const std::string& t) {
    if (!keep(t)) return;
    if (associated) {
      auto it = traitUse_.find(t);
      bool used = it != traitUse_.end() && it->second > 0;
      if (used != *associated) return;
    }
    out.push_back(t);
  };
  for (const auto& t : standardTraits_) consider(t);
  for (const auto& t : customTraits_) consider(t);
  std::sort(out.begin(), out.end());
  return out;
}

bool PlacementModel::resourceClassExists(const std::string& name) const {
  std::shared_lock lock(mutex_);
  return resourceClasses_.count(name) > 0;
}

std::vector<std::string> PlacementModel::listResourceClasses() const {
  std::shared_lock lock(mutex_);
  std::vector<std::pair<int, std::string>> byId;
  for (const auto& [name, id] : resourceClasses_) byId.emplace_back(id, name);
  std::sort(byId.begin(), byId.end());
  std::vector<std::string> out;
  for (auto& [id, name] : byId) out.push_back(std::move(name));
  return out;
}

void PlacementModel::withReadLock(const std::function<void(const PlacementModel&)>& fn) const {
  std::shared_lock lock(mutex_);
  fn(*this);
}

}  // namespace bwfloor::placement
