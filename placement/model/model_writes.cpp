// PlacementModel's writes: each validates against the model plus its own staged changes, then
// commits through the store. Messages follow OpenStack Placement's where clients may match them.

#include <ctime>
#include <mutex>

#include "core/logging.h"
#include "core/uuid.h"
#include "placement/model/placement_model.h"
#include "placement/model/txn.h"

namespace bwfloor::placement {
namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

// Placement's texts: the inventory writes say only this; aggregates and traits say more.
const char* kGenerationConflict = "resource provider generation conflict";
const char* kGenerationChanged =
    "Resource provider's generation already changed. Please update the generation and try again.";

ApiError providerNotFound(const std::string& uuid) {
  return trappedNotFound("No resource provider with uuid " + uuid + " found");
}

void bump(Provider& p) {
  ++p.generation;
  p.updatedAt = now();
}

}  // namespace

ApiResult<Provider> PlacementModel::createProvider(const std::string& name,
                                                   std::optional<std::string> uuid,
                                                   std::optional<std::string> parentUuid) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider p;
  p.uuid = uuid ? *uuid : uuid4().toString();
  p.name = name;
  if (providers_.count(p.uuid)) {
    return conflict("Conflicting resource provider uuid: " + p.uuid + " already exists.",
                    "placement.duplicate_name");
  }
  if (providerByName_.count(name)) {
    return conflict("Conflicting resource provider name: " + name + " already exists.",
                    "placement.duplicate_name");
  }
  p.rootUuid = p.uuid;
  if (parentUuid) {
    const Provider* parent = txn.provider(*parentUuid);
    if (!parent) {  // Placement's ObjectActionError, as its handler words it
      return badRequest("Unable to create resource provider \"" + name + "\", " + p.uuid +
                        ": Object action create failed because: parent provider UUID does not "
                        "exist.");
    }
    p.parentUuid = *parentUuid;
    p.rootUuid = parent->rootUuid;
  }
  p.createdAt = p.updatedAt = now();
  txn.putProvider(p);
  RETURN_IF_ERROR(commit(txn));
  return p;
}

ApiResult<Provider> PlacementModel::updateProvider(const std::string& uuid, const std::string& name,
                                                   std::optional<std::string> parentUuid,
                                                   bool parentGiven, bool allowReparent) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (auto it = providerByName_.find(name); it != providerByName_.end() && it->second != uuid) {
    return conflict("Conflicting resource provider " + name + " already exists.",
                    "placement.duplicate_name");
  }
  // Placement's ObjectActionError on update, as its handler words it.
  auto cannotSave = [&](const std::string& reason) {
    return badRequest("Unable to save resource provider " + uuid +
                      ": Object action update failed because: " + reason);
  };
  p->name = name;
  std::string newParent = parentGiven ? parentUuid.value_or("") : p->parentUuid;
  if (newParent != p->parentUuid) {
    if (!allowReparent && !p->parentUuid.empty()) {
      return cannotSave(newParent.empty() ? "un-parenting a provider is not currently allowed."
                                          : "re-parenting a provider is not currently allowed.");
    }
    std::string newRoot = uuid;
    if (!newParent.empty()) {
      const Provider* parent = txn.provider(newParent);
      if (!parent) return cannotSave("parent provider UUID does not exist.");
      for (const Provider* a = parent; a;
           a = a->parentUuid.empty() ? nullptr : txn.provider(a->parentUuid)) {
        if (a->uuid == uuid) {
          return cannotSave("creating loop in the provider tree is not allowed.");
        }
      }
      newRoot = parent->rootUuid;
    }
    p->parentUuid = newParent;
    // The whole subtree moves with it.
    std::vector<std::string> todo{uuid};
    while (!todo.empty()) {
      std::string cur = todo.back();
      todo.pop_back();
      txn.stageProvider(cur)->rootUuid = newRoot;
      if (auto it = children_.find(cur); it != children_.end()) {
        todo.insert(todo.end(), it->second.begin(), it->second.end());
      }
    }
  }
  p = txn.stageProvider(uuid);
  p->updatedAt = now();
  Provider out = *p;
  RETURN_IF_ERROR(commit(txn));
  return out;
}

ApiStatus PlacementModel::deleteProvider(const std::string& uuid) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  if (!txn.provider(uuid)) return providerNotFound(uuid);
  if (txn.providerHasAllocations(uuid)) {
    return conflict(
        "Unable to delete resource provider " + uuid + ": Resource provider has allocations.",
        "placement.resource_provider.inuse");
  }
  if (auto it = children_.find(uuid); it != children_.end() && !it->second.empty()) {
    return conflict(
        "Unable to delete parent resource provider " + uuid + ": It has child resource providers.",
        "placement.resource_provider.cannot_delete_parent");
  }
  txn.eraseProvider(uuid);
  return commit(txn);
}

// ---------------------------------------------------------------------------------------------
// Inventories

ApiResult<Provider> PlacementModel::addInventory(const std::string& uuid, const std::string& rc,
                                                 const Inventory& inv) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (!resourceClasses_.count(rc)) {
    return badRequest("Unable to create inventory for resource provider " + uuid +
                      ": No such resource class " + rc + ".");
  }
  if (p->inventories.count(rc)) {
    return conflict("Update conflict: Inventory for resource class " + rc +
                        " already exists on resource provider " + uuid + ".",
                    kConcurrentUpdate);
  }
  p->inventories[rc] = inv;
  bump(*p);
  Provider out = *p;
  RETURN_IF_ERROR(commit(txn));
  return out;
}

namespace {

// As Placement does: a total lowered below what is allocated is accepted (the allocations stay),
// and logged, since nothing new fits there until usage falls below the new capacity.
void warnOverCapacity(const Provider& p, const std::string& rc, const Inventory& inv,
                      int64_t used) {
  if (used <= inv.capacity()) return;
  logger("placement")
      ->warn("resource provider {} ({}) is now over-capacity for {}: {} used, capacity {}", p.name,
             p.uuid, rc, used, inv.capacity());
}

}  // namespace

ApiResult<Provider> PlacementModel::setInventories(
    const std::string& uuid, int64_t generation,
    const std::map<std::string, Inventory>& inventories) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (p->generation != generation) return conflict(kGenerationConflict, kConcurrentUpdate);
  for (const auto& [rc, inv] : inventories) {
    if (!resourceClasses_.count(rc)) {
      return badRequest("Unknown resource class in inventory for resource provider " + uuid +
                        ": No such resource class " + rc + ".");
    }
  }
  for (const auto& [rc, inv] : p->inventories) {
    if (!inventories.count(rc) && txn.usage(uuid, rc) > 0) {
      return conflict(
          "update conflict: Inventory for '" + rc + "' on resource provider '" + uuid + "' in use.",
          "placement.inventory.inuse");
    }
  }
  p->inventories = inventories;
  bump(*p);
  Provider out = *p;
  std::vector<std::pair<std::string, int64_t>> used;
  for (const auto& [rc, inv] : inventories) used.emplace_back(rc, txn.usage(uuid, rc));
  RETURN_IF_ERROR(commit(txn));
  for (const auto& [rc, n] : used) warnOverCapacity(out, rc, out.inventories.at(rc), n);
  return out;
}

ApiResult<Provider> PlacementModel::setInventory(const std::string& uuid, int64_t generation,
                                                 const std::string& rc, const Inventory& inv) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (!resourceClasses_.count(rc)) return trappedNotFound("No such resource class " + rc + ".");
  if (p->generation != generation) return conflict(kGenerationConflict, kConcurrentUpdate);
  if (!p->inventories.count(rc)) {
    return badRequest("No inventory record with resource class for resource provider " + uuid +
                      ": No inventory of class " + rc + " found.");
  }
  p->inventories[rc] = inv;
  bump(*p);
  Provider out = *p;
  const int64_t used = txn.usage(uuid, rc);
  RETURN_IF_ERROR(commit(txn));
  warnOverCapacity(out, rc, inv, used);
  return out;
}

ApiStatus PlacementModel::deleteInventory(const std::string& uuid, const std::string& rc) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (!p->inventories.count(rc)) {
    const std::string missing = "No inventory of class " + rc + " found for delete";
    return notFound(missing + ": " + missing);
  }
  if (txn.usage(uuid, rc) > 0) {
    return conflict("Unable to delete inventory of class " + rc + ": Inventory for '" + rc +
                        "' on resource provider '" + uuid + "' in use.",
                    kConcurrentUpdate);
  }
  p->inventories.erase(rc);
  bump(*p);
  return commit(txn);
}

ApiStatus PlacementModel::deleteInventories(const std::string& uuid) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  for (const auto& [rc, inv] : p->inventories) {
    if (txn.usage(uuid, rc) > 0) {
      return conflict("Inventory for '" + rc + "' on resource provider '" + uuid + "' in use.",
                      "placement.inventory.inuse");
    }
  }
  p->inventories.clear();
  bump(*p);
  return commit(txn);
}

// ---------------------------------------------------------------------------------------------
// Traits and aggregates on a provider

ApiResult<Provider> PlacementModel::setTraits(const std::string& uuid, int64_t generation,
                                              const std::set<std::string>& traits) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  std::string unknown;
  for (const auto& t : traits) {
    if (!standardTraits_.count(t) && !customTraits_.count(t)) {
      unknown += (unknown.empty() ? "" : ", ") + t;
    }
  }
  // Placement checks the generation first: a stale writer learns that before anything else.
  if (p->generation != generation) return conflict(kGenerationChanged, kConcurrentUpdate);
  if (!unknown.empty()) return badRequest("No such trait " + unknown);
  if (p->traits != traits) {
    p->traits = traits;
    bump(*p);
  }
  Provider out = *p;
  RETURN_IF_ERROR(commit(txn));
  return out;
}

ApiStatus PlacementModel::deleteProviderTraits(const std::string& uuid) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (!p->traits.empty()) {
    p->traits.clear();
    bump(*p);
  }
  return commit(txn);
}

ApiResult<Provider> PlacementModel::setAggregates(const std::string& uuid,
                                                  std::optional<int64_t> generation,
                                                  const std::set<std::string>& aggregates) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Txn txn(*this);
  Provider* p = txn.stageProvider(uuid);
  if (!p) return providerNotFound(uuid);
  if (generation) {
    if (p->generation != *generation) return conflict(kGenerationChanged, kConcurrentUpdate);
    bump(*p);
  }
  p->aggregates = aggregates;
  p->updatedAt = now();
  Provider out = *p;
  RETURN_IF_ERROR(commit(txn));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Traits and resource classes

ApiResult<bool> PlacementModel::createTrait(const std::string& name) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (!isCustomName(name)) {
    return badRequest(
        "The trait is invalid. A valid trait must be no longer than 255 characters, start with "
        "the prefix \"CUSTOM_\" and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"");
  }
  if (standardTraits_.count(name) || customTraits_.count(name)) return false;
  Txn txn(*this);
  txn.extra().addTraits.push_back(name);
  RETURN_IF_ERROR(commit(txn));
  return true;
}

ApiStatus PlacementModel::deleteTrait(const std::string& name) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (standardTraits_.count(name)) return badRequest("Cannot delete standard trait " + name + ".");
  if (!customTraits_.count(name)) return notFound("No such trait(s): " + name + ".");
  if (auto it = traitUse_.find(name); it != traitUse_.end() && it->second > 0) {
    return conflict("The trait " + name + " is in use by a resource provider.");
  }
  Txn txn(*this);
  txn.extra().deleteTraits.push_back(name);
  return commit(txn);
}

namespace {
bool classInUse(const std::unordered_map<std::string, Provider>& providers, const std::string& rc) {
  for (const auto& [uuid, p] : providers) {
    if (p.inventories.count(rc)) return true;
  }
  return false;
}
}  // namespace

ApiResult<bool> PlacementModel::createResourceClass(const std::string& name, bool errorIfExists) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (!isCustomName(name)) {
    return badRequest(
        "The resource class name must start with CUSTOM_ and contain only A-Z, 0-9 "
        "and _ (at most 255 characters): " +
        name);
  }
  if (resourceClasses_.count(name)) {
    if (errorIfExists) return conflict("Conflicting resource class already exists: " + name);
    return false;
  }
  int id = 10000;
  for (const auto& [n, i] : resourceClasses_) id = std::max(id, i + 1);
  Txn txn(*this);
  txn.extra().addResourceClasses.emplace_back(name, id);
  RETURN_IF_ERROR(commit(txn));
  return true;
}

ApiStatus PlacementModel::renameResourceClass(const std::string& from, const std::string& to) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  auto it = resourceClasses_.find(from);
  if (it == resourceClasses_.end()) return trappedNotFound("No such resource class " + from + ".");
  if (!isCustomName(from)) return badRequest("Cannot update standard resource class " + from);
  if (!isCustomName(to)) return badRequest("Invalid resource class name: " + to);
  if (resourceClasses_.count(to)) {
    return conflict("Resource class already exists: " + to);
  }
  Txn txn(*this);
  for (const auto& [uuid, p] : providers_) {
    if (!p.inventories.count(from)) continue;
    Provider* staged = txn.stageProvider(uuid);
    staged->inventories[to] = staged->inventories[from];
    staged->inventories.erase(from);
  }
  for (const auto& [uuid, c] : consumers_) {
    bool uses = false;
    Consumer copy = c;
    for (auto& [rp, amounts] : copy.allocations) {
      if (auto jt = amounts.find(from); jt != amounts.end()) {
        amounts[to] = jt->second;
        amounts.erase(from);
        uses = true;
      }
    }
    if (uses) txn.putConsumer(std::move(copy));
  }
  txn.extra().deleteResourceClasses.push_back(from);
  txn.extra().addResourceClasses.emplace_back(to, it->second);
  return commit(txn);
}

ApiStatus PlacementModel::deleteResourceClass(const std::string& name) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (!resourceClasses_.count(name)) return trappedNotFound("No such resource class " + name + ".");
  if (!isCustomName(name)) {
    return badRequest("Error in delete resource class: Cannot delete standard resource class " +
                      name + ".");
  }
  if (classInUse(providers_, name)) {
    return conflict("Error in delete resource class: Cannot delete resource class " + name +
                    ". Class is in use in inventory.");
  }
  Txn txn(*this);
  txn.extra().deleteResourceClasses.push_back(name);
  return commit(txn);
}

}  // namespace bwfloor::placement
