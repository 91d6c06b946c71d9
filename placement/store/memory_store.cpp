#include <algorithm>

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

}  // namespace bwfloor::placement
