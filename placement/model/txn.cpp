#include "placement/model/txn.h"

namespace bwfloor::placement {

const Provider* PlacementModel::Txn::provider(const std::string& uuid) const {
  if (auto it = providers_.find(uuid); it != providers_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  auto it = model_.providers_.find(uuid);
  return it == model_.providers_.end() ? nullptr : &it->second;
}

Provider* PlacementModel::Txn::stageProvider(const std::string& uuid) {
  if (auto it = providers_.find(uuid); it != providers_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  auto it = model_.providers_.find(uuid);
  if (it == model_.providers_.end()) return nullptr;
  return &*(providers_[uuid] = it->second);
}

void PlacementModel::Txn::putProvider(Provider provider) {
  std::string uuid = provider.uuid;
  providers_[uuid] = std::move(provider);
}

const Consumer* PlacementModel::Txn::consumer(const std::string& uuid) const {
  if (auto it = consumers_.find(uuid); it != consumers_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  auto it = model_.consumers_.find(uuid);
  return it == model_.consumers_.end() ? nullptr : &it->second;
}

void PlacementModel::Txn::putConsumer(Consumer consumer) {
  std::string uuid = consumer.uuid;
  consumers_[uuid] = std::move(consumer);
}

int64_t amountOn(const Consumer* c, const std::string& rp, const std::string& rc) {
  if (c == nullptr) return 0;
  auto it = c->allocations.find(rp);
  if (it == c->allocations.end()) return 0;
  auto jt = it->second.find(rc);
  return jt == it->second.end() ? 0 : jt->second;
}

int64_t PlacementModel::Txn::usage(const std::string& providerUuid, const std::string& rc) const {
  int64_t used = 0;
  if (auto it = model_.usage_.find(providerUuid); it != model_.usage_.end()) {
    if (auto jt = it->second.find(rc); jt != it->second.end()) used = jt->second;
  }
  for (const auto& [uuid, staged] : consumers_) {
    auto before = model_.consumers_.find(uuid);
    if (before != model_.consumers_.end()) used -= amountOn(&before->second, providerUuid, rc);
    used += amountOn(staged ? &*staged : nullptr, providerUuid, rc);
  }
  return used;
}

bool PlacementModel::Txn::providerHasAllocations(const std::string& providerUuid) const {
  auto has = [&](const Consumer* c) { return c && c->allocations.count(providerUuid) > 0; };
  for (const auto& [uuid, staged] : consumers_) {
    if (has(staged ? &*staged : nullptr)) return true;
  }
  auto it = model_.providerConsumers_.find(providerUuid);
  if (it == model_.providerConsumers_.end()) return false;
  for (const auto& consumerUuid : it->second) {
    if (!consumers_.count(consumerUuid)) return true;  // untouched by this txn, still allocated
  }
  return false;
}

}  // namespace bwfloor::placement
