#include <algorithm>
#include <unordered_map>

#include "placement/store/store.h"

namespace bwfloor::placement {
namespace {

template <typename Row>
void upsert(std::vector<Row>& rows, const Row& row) {
  auto it =
      std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.uuid == row.uuid; });
  if (it == rows.end()) {
    rows.push_back(row);
  } else {
    *it = row;
  }
}

template <typename Row>
void erase(std::vector<Row>& rows, const std::string& uuid) {
  std::erase_if(rows, [&](const Row& r) { return r.uuid == uuid; });
}

}  // namespace

Status MemoryStore::apply(const StoreChanges& changes) {
  if (failNext_) {
    failNext_ = false;
    return makeError(ErrorCode::kUnavailable, "memory store: failure injected for test");
  }
  for (const auto& p : changes.upsertProviders) upsert(snapshot_.providers, p);
  for (const auto& u : changes.deleteProviders) erase(snapshot_.providers, u);
  for (const auto& c : changes.upsertConsumers) upsert(snapshot_.consumers, c);
  for (const auto& u : changes.deleteConsumers) erase(snapshot_.consumers, u);
  for (const auto& t : changes.addTraits) snapshot_.customTraits.push_back(t);
  for (const auto& t : changes.deleteTraits) std::erase(snapshot_.customTraits, t);
  for (const auto& rc : changes.addResourceClasses) snapshot_.customResourceClasses.push_back(rc);
  for (const auto& name : changes.deleteResourceClasses) {
    std::erase_if(snapshot_.customResourceClasses,
                  [&](const auto& rc) { return rc.first == name; });
  }
  return Status::ok();
}

void sortParentsFirst(std::vector<Provider>& providers) {
  std::unordered_map<std::string, const Provider*> byUuid;
  byUuid.reserve(providers.size());
  for (const auto& p : providers) byUuid.emplace(p.uuid, &p);
  std::unordered_map<std::string, int> depth;
  depth.reserve(providers.size());
  for (const auto& p : providers) {
    int d = 0;  // bounded: a damaged parent chain must not loop
    for (const Provider* q = &p; !q->parentUuid.empty() && d <= static_cast<int>(providers.size());
         ++d) {
      auto it = byUuid.find(q->parentUuid);
      if (it == byUuid.end()) break;
      q = it->second;
    }
    depth.emplace(p.uuid, d);
  }
  std::stable_sort(providers.begin(), providers.end(), [&](const Provider& a, const Provider& b) {
    return depth.at(a.uuid) < depth.at(b.uuid);
  });
}

}  // namespace bwfloor::placement
