#pragma once
// The agent's heartbeat to bwfloor-server: POST {server}/v1/agents, once per configured agent
// type, every report_interval:
//   {"host": "devstack0", "agent_type": "Open vSwitch agent", "binary": "bwfloor-agent",
//    "configurations": {
//       "bridge_mappings": {"physnet0": "br-test"}         (SR-IOV: "device_mappings":
//                                                            {"physnet0": ["ens5"]})
//       "resource_provider_bandwidths": {"br-ex": {"egress": null, "ingress": 1}},
//       "resource_provider_inventory_defaults": {"allocation_ratio": 1.0, "min_unit": 1, ...},
//       "resource_provider_hypervisors": {"br-ex": "devstack0"},
//       "devices_missing": []},
//    "resources_synced": true}
// Bandwidths are the totals reported to placement: null for a direction not reported, an "auto"
// total resolved from the link speed (null while the speed is unknown).

#include <nlohmann/json.hpp>

#include "agent/config/agent_config.h"
#include "agent/report/agent_kind.h"
#include "agent/report/provider_tree.h"
#include "agent/report/rest_transport.h"

namespace bwfloor::agent {

inline constexpr const char* kAgentBinary = "bwfloor-agent";

nlohmann::json heartbeatBody(const AgentConfig& config, AgentKind kind, const ProviderTree& tree,
                             bool resourcesSynced);

class HeartbeatReporter {
 public:
  // Sends one heartbeat per enabled agent type. A 404 (a server without /v1/agents) is logged
  // once at info and otherwise ignored; other failures are logged at warn. Returns how many
  // heartbeats the server accepted.
  int report(RestTransport& server, const AgentConfig& config, const ProviderTree& tree,
             bool resourcesSynced);

 private:
  bool notFoundLogged_ = false;
};

}  // namespace bwfloor::agent
