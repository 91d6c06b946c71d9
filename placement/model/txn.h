#pragma once
// A write transaction over PlacementModel: reads see its own staged changes first, and nothing
// reaches the model until commit() has persisted everything through the Store.

#include <map>
#include <optional>
#include <string>

#include "placement/model/placement_model.h"

namespace bwfloor::placement {

// What a consumer (null: none) holds of class rc on provider rp.
int64_t amountOn(const Consumer* c, const std::string& rp, const std::string& rc);

class PlacementModel::Txn {
 public:
  explicit Txn(PlacementModel& model) : model_(model) {}

  const Provider* provider(const std::string& uuid) const;
  // Copies the provider into the transaction (nullptr if it does not exist).
  Provider* stageProvider(const std::string& uuid);
  void putProvider(Provider provider);
  void eraseProvider(const std::string& uuid) { providers_[uuid] = std::nullopt; }

  const Consumer* consumer(const std::string& uuid) const;
  void putConsumer(Consumer consumer);
  void eraseConsumer(const std::string& uuid) { consumers_[uuid] = std::nullopt; }

  // Usage of rc on a provider as it will be after this transaction.
  int64_t usage(const std::string& providerUuid, const std::string& rc) const;
  bool providerHasAllocations(const std::string& providerUuid) const;

  StoreChanges& extra() { return extra_; }

 private:
  friend class PlacementModel;
  PlacementModel& model_;
  std::map<std::string, std::optional<Provider>> providers_;
  std::map<std::string, std::optional<Consumer>> consumers_;
  StoreChanges extra_;  // trait and resource-class changes
};

}  // namespace bwfloor::placement
