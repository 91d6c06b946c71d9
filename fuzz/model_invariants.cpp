#include "fuzz/model_invariants.h"

#include <map>
#include <set>
#include <sstream>

namespace bwfloor::fuzz {
namespace {

using placement::PlacementModel;
using placement::Provider;
using placement::ResourceAmounts;

int64_t amountOf(const UsageMap& usage, const std::string& rp, const std::string& rc) {
  auto it = usage.find(rp);
  if (it == usage.end()) return 0;
  auto jt = it->second.find(rc);
  return jt == it->second.end() ? 0 : jt->second;
}

std::string where(const std::string& rp, const std::string& rc) {
  return "provider " + rp + " class " + rc;
}

// The derived fields of one node and its place in the tree (under the read lock).
std::string checkNode(const PlacementModel& m, const std::string& uuid, const Provider& p) {
  const auto& providers = m.providersUnlocked();
  const auto& usage = m.usageUnlocked();
  if (p.uuid != uuid) return "provider keyed " + uuid + " has uuid " + p.uuid;
  if (!p.parentUuid.empty()) {
    auto parent = providers.find(p.parentUuid);
    if (parent == providers.end()) return "provider " + uuid + ": parent " + p.parentUuid + " gone";
    if (parent->second.rootUuid != p.rootUuid) {
      return "provider " + uuid + ": root " + p.rootUuid + ", its parent's " +
             parent->second.rootUuid;
    }
  } else if (p.rootUuid != uuid) {
    return "root provider " + uuid + " names root " + p.rootUuid;
  }
  auto root = providers.find(p.rootUuid);
  if (root == providers.end() || p.root != &root->second) {
    return "provider " + uuid + ": `root` is not the model's node of " + p.rootUuid;
  }
  auto used = usage.find(uuid);
  const ResourceAmounts* expected = used == usage.end() ? nullptr : &used->second;
  if (p.usage != expected) return "provider " + uuid + ": `usage` is not the model's usage";
  if (p.classes.size() != p.inventories.size()) {
    return "provider " + uuid + ": `classes` has " + std::to_string(p.classes.size()) +
           " entries for " + std::to_string(p.inventories.size()) + " inventories";
  }
  size_t i = 0;
  for (const auto& [rc, inv] : p.inventories) {
    const Provider::ClassState& c = p.classes[i++];
    const int64_t u = amountOf(usage, uuid, rc);
    if (c.id != m.classIdUnlocked(rc) || !(c.inventory == inv) || c.used != u) {
      return where(uuid, rc) + ": `classes` says id " + std::to_string(c.id) + " used " +
             std::to_string(c.used) + ", the model id " + std::to_string(m.classIdUnlocked(rc)) +
             " used " + std::to_string(u) + (c.inventory == inv ? "" : " (inventory differs)");
    }
    const placement::ProviderSet* index = m.providersWithClassUnlocked(rc);
    if (index == nullptr || index->count(&p) == 0) {
      return where(uuid, rc) + ": missing from the class index";
    }
  }
  return "";
}

// Usage and capacity of one node (under the read lock).
std::string checkUsage(const PlacementModel& m, const std::string& uuid, const Provider& p,
                       const UsageMap& before) {
  auto used = m.usageUnlocked().find(uuid);
  if (used == m.usageUnlocked().end()) return "";
  for (const auto& [rc, n] : used->second) {
    if (n < 0) return where(uuid, rc) + ": usage " + std::to_string(n);
    if (n == 0) continue;
    auto inv = p.inventories.find(rc);
    if (inv == p.inventories.end()) {
      return where(uuid, rc) + ": usage " + std::to_string(n) + " without an inventory";
    }
    const placement::Inventory& i = inv->second;
    const double capacity = static_cast<double>(i.total - i.reserved) * i.allocationRatio;
    const int64_t was = amountOf(before, uuid, rc);
    if (n > was && static_cast<double>(n) > capacity) {
      std::ostringstream out;
      out << where(uuid, rc) << ": usage went from " << was << " to " << n << ", above capacity ("
          << i.total << " - " << i.reserved << ") * " << i.allocationRatio << " = " << capacity;
      return out.str();
    }
  }
  return "";
}

std::string checkClassIndex(const PlacementModel& m, const std::vector<std::string>& classes) {
  for (const auto& rc : classes) {
    const placement::ProviderSet* index = m.providersWithClassUnlocked(rc);
    if (index == nullptr) continue;
    for (const Provider* node : *index) {  // a stale pointer is ASan's use-after-free here
      auto it = m.providersUnlocked().find(node->uuid);
      if (it == m.providersUnlocked().end() || &it->second != node ||
          node->inventories.count(rc) == 0) {
        return "class index of " + rc + " holds provider " + node->uuid +
               " that is gone or has no such inventory";
      }
    }
  }
  return "";
}

std::string checkAgainstStore(const PlacementModel& model, placement::MemoryStore& store,
                              const std::map<std::string, placement::Consumer>& consumers) {
  auto snap = store.load();
  if (!snap) return "MemoryStore::load failed: " + snap.error().message();
  std::string out;
  model.withReadLock([&](const PlacementModel& m) {
    const auto& providers = m.providersUnlocked();
    if (snap->providers.size() != providers.size()) {
      out = "the store holds " + std::to_string(snap->providers.size()) + " providers, memory " +
            std::to_string(providers.size());
      return;
    }
    for (const Provider& s : snap->providers) {
      auto it = providers.find(s.uuid);
      if (it == providers.end()) {
        out = "provider " + s.uuid + " is in the store only";
        return;
      }
      const Provider& p = it->second;
      if (s.name != p.name || s.generation != p.generation || s.parentUuid != p.parentUuid ||
          s.rootUuid != p.rootUuid || s.inventories != p.inventories || s.traits != p.traits ||
          s.aggregates != p.aggregates) {
        out = "provider " + s.uuid + " differs between the store (generation " +
              std::to_string(s.generation) + ") and memory (generation " +
              std::to_string(p.generation) + ")";
        return;
      }
    }
  });
  if (!out.empty()) return out;
  if (snap->consumers.size() != consumers.size()) {
    return "the store holds " + std::to_string(snap->consumers.size()) + " consumers, memory " +
           std::to_string(consumers.size());
  }
  for (const placement::Consumer& s : snap->consumers) {
    auto it = consumers.find(s.uuid);
    if (it == consumers.end()) return "consumer " + s.uuid + " is in the store only";
    if (s.allocations != it->second.allocations || s.generation != it->second.generation) {
      return "consumer " + s.uuid + " differs between the store and memory";
    }
  }
  return "";
}

}  // namespace

UsageMap usageSnapshot(const PlacementModel& model) {
  UsageMap out;
  model.withReadLock([&](const PlacementModel& m) { out = m.usageUnlocked(); });
  return out;
}

std::string checkPlacement(const PlacementModel& model, placement::MemoryStore& store,
                           const UsageMap& before) {
  const std::vector<std::string> classes = model.listResourceClasses();
  std::string out;
  std::vector<std::string> uuids;
  UsageMap usage;
  model.withReadLock([&](const PlacementModel& m) {
    for (const auto& [uuid, p] : m.providersUnlocked()) {
      uuids.push_back(uuid);
      if (out.empty()) out = checkNode(m, uuid, p);
      if (out.empty()) out = checkUsage(m, uuid, p, before);
    }
    if (out.empty()) out = checkClassIndex(m, classes);
    usage = m.usageUnlocked();
    for (const auto& [rp, amounts] : usage) {
      if (out.empty() && !m.providersUnlocked().count(rp)) {
        for (const auto& [rc, n] : amounts) {
          if (n != 0) out = where(rp, rc) + ": usage " + std::to_string(n) + " on a gone provider";
        }
      }
    }
  });
  if (!out.empty()) return out;
  // Usage = the sum of the allocations (read per provider, each under its own lock).
  std::map<std::string, placement::Consumer> consumers;
  for (const auto& uuid : uuids) {
    ResourceAmounts sum;
    for (const auto& [consumer, entry] : model.providerAllocations(uuid)) {
      for (const auto& [rc, n] : entry.first) sum[rc] += n;
      placement::Consumer& c = consumers[consumer];
      c.uuid = consumer;
      c.generation = entry.second;
      c.allocations[uuid] = entry.first;
    }
    for (const auto& [rc, n] : sum) {
      if (amountOf(usage, uuid, rc) != n) {
        return where(uuid, rc) + ": usage " + std::to_string(amountOf(usage, uuid, rc)) +
               ", allocations sum to " + std::to_string(n);
      }
    }
    if (auto it = usage.find(uuid); it != usage.end()) {
      for (const auto& [rc, n] : it->second) {
        if (n != 0 && !sum.count(rc)) {
          return where(uuid, rc) + ": usage " + std::to_string(n) + " but no allocation";
        }
      }
    }
  }
  return checkAgainstStore(model, store, consumers);
}

std::string checkPorts(const ports::PortsService& service, ports::MemoryJsonStore& docs) {
  // Computed when shown, or runtime-only (heartbeats are not persisted, by design).
  auto strip = [](nlohmann::json doc) {
    for (const char* key :
         {"resource_request", "resource_request_groups", "alive", "heartbeat_at"}) {
      doc.erase(key);
    }
    return doc;
  };
  for (ports::Kind k : ports::kAllKinds) {
    const std::string kind(ports::toString(k));
    auto stored = docs.loadKind(kind);
    if (!stored)
      return std::string("MemoryJsonStore::loadKind failed: ") + stored.error().message();
    std::map<std::string, nlohmann::json> byId;
    for (auto& [id, doc] : *stored) byId[id] = strip(doc);
    const nlohmann::json served = service.list(k);
    if (served.size() != byId.size()) {
      return "/v1 " + kind + ": the store holds " + std::to_string(byId.size()) +
             ", the service serves " + std::to_string(served.size());
    }
    for (const auto& doc : served) {
      const std::string id = doc.value("id", "");
      auto it = byId.find(id);
      if (it == byId.end()) return "/v1 " + kind + " " + id + " is not stored";
      if (it->second != strip(doc)) {
        return "/v1 " + kind + " " + id + " differs: stored " +
               it->second.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
               ", served " +
               strip(doc).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    }
  }
  return "";
}

}  // namespace bwfloor::fuzz
