#include "agent/report/agent_kind.h"

namespace bwfloor::agent {

const AgentKindInfo& kindInfo(AgentKind kind) {
  // The 2018 scenario's vnic types: Open vSwitch serves normal and direct (hardware offload),
  // the NIC switch direct, direct-physical and macvtap.
  static const AgentKindInfo kOvs{
      "Open vSwitch agent", kOvsAgentNamespace, "ovs", "bridge_mappings", {"normal", "direct"}};
  static const AgentKindInfo kSriov{"NIC Switch agent",
                                    kSriovAgentNamespace,
                                    "sriov_nic",
                                    "device_mappings",
                                    {"direct", "direct-physical", "macvtap"}};
  return kind == AgentKind::kOvs ? kOvs : kSriov;
}

const DeviceSection& sectionOf(const AgentConfig& config, AgentKind kind) {
  return kind == AgentKind::kOvs ? config.ovs : config.sriov;
}

std::string agentProviderName(AgentKind kind, const std::string& hypervisor) {
  return hypervisor + ":" + kindInfo(kind).agentType;
}

std::string deviceProviderName(AgentKind kind, const std::string& hypervisor,
                               const std::string& device) {
  return agentProviderName(kind, hypervisor) + ":" + device;
}

Uuid agentProviderUuid(AgentKind kind, const std::string& hypervisor) {
  return uuid5(kindInfo(kind).uuidNamespace, hypervisor);
}

Uuid deviceProviderUuid(AgentKind kind, const std::string& hypervisor, const std::string& device) {
  return uuid5(kindInfo(kind).uuidNamespace, hypervisor + ":" + device);
}

}  // namespace bwfloor::agent
