// Allocation writes (PUT/POST/DELETE allocations, reshaper): the capacity rules of Placement's
// objects/allocation.py, checked under the model's exclusive lock so that concurrent writers are
// serialised and can never over-allocate.

#include <ctime>
#include <mutex>
#include <set>

#include "placement/model/placement_model.h"
#include "placement/model/txn.h"

namespace bwfloor::placement {
namespace {

std::string genText(const std::optional<int64_t>& g) {
  return g ? std::to_string(*g) : std::string("None");
}

}  // namespace

// Stages one consumer's replacement; records every provider it touches (before or after) for
// the capacity check, and in `bumped` the ones whose generation Placement's replace_all()
// increments: the providers written to, or for a wipe (no allocations) the ones it held.
static ApiStatus stageWrite(PlacementModel::Txn& txn, const AllocationWrite& w,
                            const std::map<std::string, int>& classes,
                            std::set<std::string>& touched, std::set<std::string>& bumped) {
  const Consumer* existing = txn.consumer(w.consumerUuid);
  if (!w.allocations.empty()) {
    for (const auto& [rp, amounts] : w.allocations) bumped.insert(rp);
  } else if (existing) {
    for (const auto& [rp, amounts] : existing->allocations) bumped.insert(rp);
  }
  if (w.checkGeneration) {
    if (existing && (!w.consumerGeneration || *w.consumerGeneration != existing->generation)) {
      return conflict("consumer generation conflict - expected " +
                          std::to_string(existing->generation) + " but got " +
                          genText(w.consumerGeneration),
                      kConcurrentUpdate);
    }
    if (!existing && w.consumerGeneration) {
      return conflict("consumer generation conflict - expected null but got " +
                          std::to_string(*w.consumerGeneration),
                      kConcurrentUpdate);
    }
  }
  for (const auto& [rp, amounts] : w.allocations) {
    const Provider* p = txn.provider(rp);
    if (!p) {
      return badRequest("Allocation for resource provider '" + rp + "' that does not exist.");
    }
    for (const auto& [rc, amount] : amounts) {
      // The handler says which write it was (Placement words PUT and POST differently).
      if (!classes.count(rc)) return badRequest("No such resource class " + rc + ".");
      auto inv = p->inventories.find(rc);
      if (inv == p->inventories.end()) {
        return conflict("Unable to allocate inventory: Inventory for '" + rc +
                        "' on resource provider '" + rp + "' invalid.");
      }
      const Inventory& i = inv->second;
      if (amount < i.minUnit || amount > i.maxUnit || amount % i.stepSize != 0) {
        return conflict("Unable to allocate inventory: Unable to create allocation for '" + rc +
                        "' on resource provider '" + rp + "'. The requested amount would " +
                        "violate inventory constraints.");
      }
    }
    touched.insert(rp);
  }
  Consumer next = existing ? *existing : Consumer{};
  if (existing) {
    for (const auto& [rp, amounts] : existing->allocations) touched.insert(rp);
  }
  next.uuid = w.consumerUuid;
  if (w.projectId) next.projectId = *w.projectId;
  if (w.userId) next.userId = *w.userId;
  if (w.consumerType) next.consumerType = w.consumerType;
  next.allocations.clear();
  for (const auto& [rp, amounts] : w.allocations) {
    for (const auto& [rc, amount] : amounts) {
      if (amount != 0) next.allocations[rp][rc] = amount;
    }
  }
  int64_t t = static_cast<int64_t>(std::time(nullptr));
  if (next.allocations.empty()) {
    if (existing && !existing->allocations.empty()) {
      txn.eraseConsumer(w.consumerUuid);
    } else if (!existing && w.checkGeneration) {
      // Placement's ensure_consumer() creates the consumer before writing nothing: it stays at
      // generation 0 without allocations, so a later null consumer_generation is a conflict.
      next.generation = 0;
      next.createdAt = next.updatedAt = static_cast<int64_t>(std::time(nullptr));
      txn.putConsumer(std::move(next));
    }
    return ApiStatus::ok();
  }
  ++next.generation;
  if (!existing) next.createdAt = t;
  next.updatedAt = t;
  txn.putConsumer(std::move(next));
  return ApiStatus::ok();
}

// Capacity on every touched (provider, class): used + amount <= capacity, unless the write does
// not increase that usage (lets shrinking writes through on an over-committed provider).
static ApiStatus checkCapacity(PlacementModel::Txn& txn,
                               const std::unordered_map<std::string, ResourceAmounts>& usageBefore,
                               const std::set<std::string>& touched) {
  for (const auto& rp : touched) {
    const Provider* p = txn.provider(rp);
    if (!p) continue;
    for (const auto& [rc, inv] : p->inventories) {
      int64_t after = txn.usage(rp, rc);
      int64_t before = 0;
      if (auto it = usageBefore.find(rp); it != usageBefore.end()) {
        if (auto jt = it->second.find(rc); jt != it->second.end()) before = jt->second;
      }
      if (after > before &&
          static_cast<double>(after) >
              static_cast<double>(inv.total - inv.reserved) * inv.allocationRatio) {
        return conflict("Unable to allocate inventory: Unable to create allocation for '" + rc +
                        "' on resource provider '" + rp +
                        "'. The requested amount would exceed the capacity.");
      }
    }
  }
  return ApiStatus::ok();
}

ApiStatus PlacementModel::writeAllocations(const std::vector<AllocationWrite>& writes) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  std::set<std::string> touched;
  std::set<std::string> bumped;
  for (const auto& w : writes) {
    RETURN_IF_ERROR(stageWrite(txn, w, resourceClasses_, touched, bumped));
  }
  RETURN_IF_ERROR(checkCapacity(txn, usage_, touched));
  for (const auto& rp : bumped) {
    if (Provider* p = txn.stageProvider(rp)) ++p->generation;
  }
  return commit(txn);
}

ApiStatus PlacementModel::deleteAllocations(const std::string& consumerUuid) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  const Consumer* c = txn.consumer(consumerUuid);
  if (!c || c->allocations.empty()) {  // an allocation-less consumer (above) stays as it is
    return notFound("No allocations for consumer '" + consumerUuid + "'");
  }
  // Placement's delete_all() leaves the providers' generations alone (only writes bump them).
  txn.eraseConsumer(consumerUuid);
  return commit(txn);
}

ApiStatus PlacementModel::reshape(const std::vector<ReshapeInventory>& inventories,
                                  const std::vector<AllocationWrite>& allocations) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  // 1. Check generations, then stage the union of old and new inventories so that allocations
  //    can move between classes and providers in the same transaction.
  std::map<std::string, std::map<std::string, Inventory>> finalInventories;
  for (const auto& ri : inventories) {
    Provider* p = txn.stageProvider(ri.providerUuid);
    if (!p) {
      return ApiError{Errc::kInvalid, "Resource provider '" + ri.providerUuid + "' not found.",
                      "placement.resource_provider.not_found"};
    }
    if (p->generation != ri.generation) {
      return conflict("resource provider generation conflict for provider " + ri.providerUuid +
                          ": actual: " + std::to_string(p->generation) +
                          ", given: " + std::to_string(ri.generation),
                      kConcurrentUpdate);
    }
    for (const auto& [rc, inv] : ri.inventories) {
      if (!resourceClasses_.count(rc)) return badRequest("Unknown resource class " + rc);
      p->inventories[rc] = inv;
    }
    finalInventories[ri.providerUuid] = ri.inventories;
    ++p->generation;  // Placement's first step sets the union inventory
  }
  // 2. Replace allocations against the interim inventory.
  std::set<std::string> touched;
  std::set<std::string> bumped;
  for (const auto& w : allocations) {
    RETURN_IF_ERROR(stageWrite(txn, w, resourceClasses_, touched, bumped));
  }
  // 3. Final inventories; a class that still has allocations cannot go away.
  for (auto& [rp, invs] : finalInventories) {
    Provider* p = txn.stageProvider(rp);
    for (const auto& [rc, inv] : p->inventories) {
      if (!invs.count(rc) && txn.usage(rp, rc) > 0) {
        return conflict(
            "update conflict: Inventory for '" + rc + "' on resource provider '" + rp + "' in use.",
            "placement.inventory.inuse");
      }
    }
    p->inventories = invs;
    touched.insert(rp);
  }
  RETURN_IF_ERROR(checkCapacity(txn, usage_, touched));
  // Each of Placement's steps bumps what it writes: the allocations' providers once, and every
  // provider with inventories a second time for the final inventory.
  for (const auto& rp : bumped) {
    if (Provider* p = txn.stageProvider(rp)) ++p->generation;
  }
  for (const auto& [rp, invs] : finalInventories) ++txn.stageProvider(rp)->generation;
  return commit(txn);
}

}  // namespace bwfloor::placement
