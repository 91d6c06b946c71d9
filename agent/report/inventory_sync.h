#pragma once
// Makes placement hold the desired provider tree, changing only what differs.
//
// One pass:
//   1. custom traits the tree uses that placement lacks: PUT /traits/NAME;
//   2. per hypervisor: find the root provider by name (create it, or wait for it: policy); read
//      the tree (GET ?in_tree=root);
//   3. parents before children: create missing agent / device providers (POST with Neutron's uuid),
//      fix a wrong name or parent (PUT, re-parenting needs 1.37); then set traits and inventories
//      where they differ (whole-set PUTs carrying the generation just read);
//   4. children before parents: delete providers that are no longer desired - device providers
//      under our agent providers that the configuration dropped, and agent providers (with their
//      subtree) of agent types or hypervisors this process reported before and no longer does.
//      Providers of devices missing on the host are held: never deleted, and their inventories
//      are made unschedulable (reserved = total) until the device returns.
// A generation conflict (409 placement.concurrent_update) re-reads that provider and retries, up
// to kMaxConflictRetries times. Placement down or failing (no answer, 5xx) stops the pass at once
// (kUnavailable). Any other refusal is logged, reported, and the pass goes on with the rest
// (kIncomplete), skipping only what depends on the failed step. The caller retries both with
// backoff, from the then-current desired tree, so no update is ever dropped.
// Each change is logged at info on the "agent" logger; each call at debug by PlacementClient.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/report/placement_client.h"
#include "agent/report/provider_tree.h"

namespace bwfloor::agent {

inline constexpr int kMaxConflictRetries = 10;

enum class SyncStatus {
  kSynced,       // placement holds the desired tree
  kIncomplete,   // something was refused (logged in errors); retry later
  kUnavailable,  // placement unreachable or failing; retry with backoff
};

struct SyncReport {
  SyncStatus status = SyncStatus::kSynced;
  int changes = 0;                  // writes that changed placement
  std::vector<std::string> errors;  // one line per failure
  bool synced() const { return status == SyncStatus::kSynced; }
};

const char* syncStatusName(SyncStatus status);

class InventorySync {
 public:
  // One pass (see above). Remembers which (hypervisor, agent type) pairs it has reported, so a
  // later pass can remove their providers when the configuration drops them.
  SyncReport sync(PlacementClient& client, const ProviderTree& desired, RootProviderPolicy policy);

  // (hypervisor, agent type) pairs reported by this process and not yet removed.
  const std::map<std::string, std::set<AgentKind>>& managed() const { return managed_; }

 private:
  std::map<std::string, std::set<AgentKind>> managed_;
};

}  // namespace bwfloor::agent
