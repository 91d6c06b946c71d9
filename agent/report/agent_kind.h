#pragma once
// The two Neutron agent types whose providers bwfloor-agent reports, with what Neutron's
// mechanism drivers associate with them: the provider-name infix, the uuid5 namespace and the
// vnic types whose traits go on the device providers.

#include <array>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "core/uuid.h"

namespace bwfloor::agent {

enum class AgentKind { kOvs, kSriov };

inline constexpr std::array<AgentKind, 2> kAgentKinds{AgentKind::kOvs, AgentKind::kSriov};

struct AgentKindInfo {
  const char* agentType;               // "Open vSwitch agent" / "NIC Switch agent"
  Uuid uuidNamespace;                  // the mechanism driver's resource_provider_uuid5_namespace
  const char* section;                 // "ovs" / "sriov_nic"
  const char* mappingsKey;             // heartbeat key: "bridge_mappings" / "device_mappings"
  std::vector<std::string> vnicTypes;  // "normal", "direct", ...
};

const AgentKindInfo& kindInfo(AgentKind kind);
const DeviceSection& sectionOf(const AgentConfig& config, AgentKind kind);

// Neutron's provider names and uuids.
std::string agentProviderName(AgentKind kind, const std::string& hypervisor);
std::string deviceProviderName(AgentKind kind, const std::string& hypervisor,
                               const std::string& device);
Uuid agentProviderUuid(AgentKind kind, const std::string& hypervisor);
Uuid deviceProviderUuid(AgentKind kind, const std::string& hypervisor, const std::string& device);

}  // namespace bwfloor::agent
