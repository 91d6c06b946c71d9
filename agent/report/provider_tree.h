#pragma once
// The desired provider tree (scenario.md), computed from the configuration and what the host has:
//
//   <hypervisor>                                 root, found by name (created or waited for)
//   └── <hypervisor>:<agent type>                uuid5(NS, hypervisor); no traits, no inventory,
//       │                                        except packet processing (below)
//       └── <hypervisor>:<agent type>:<device>   uuid5(NS, hypervisor:device); physnet and vnic
//                                                traits; NET_BW_EGR/IGR_KILOBIT_PER_SEC
//
// One agent provider per (agent type, hypervisor) of the mapped devices; one device provider per
// device of resource_provider_bandwidths. A direction gets an inventory only when its total is
// above zero (Neutron's "truthy" rule); its fields come from resource_provider_inventory_defaults,
// max_unit defaulting to the total. Pure: no I/O.
//
// Packet processing ([ovs] resource_provider_packet_processing_*, keyed by hypervisor): that
// hypervisor's Open vSwitch agent provider gets NET_PACKET_RATE_KILOPACKET_PER_SEC (without
// direction) or NET_PACKET_RATE_EGR_/IGR_KILOPACKET_PER_SEC (with), by the same truthy rule and
// with the packet-processing inventory defaults, plus the vnic-type traits (Neutron puts them
// there since Xena so that the packet-rate request group, which requires only the vnic trait,
// finds it). An agent provider without packet processing keeps no traits.
//
// A configured device the host does not have is an error state: it is listed in `problems` and
// `missing`, gets no new provider, and an existing provider of it is "held": not deleted (it may
// come back, and its allocations stay valid), and made unschedulable by InventorySync.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/discovery/host_discovery.h"
#include "agent/report/agent_kind.h"
#include "core/uuid.h"

namespace bwfloor::agent {

inline constexpr const char* kEgressClass = "NET_BW_EGR_KILOBIT_PER_SEC";
inline constexpr const char* kIngressClass = "NET_BW_IGR_KILOBIT_PER_SEC";
inline constexpr const char* kPacketRateClass = "NET_PACKET_RATE_KILOPACKET_PER_SEC";
inline constexpr const char* kPacketRateEgressClass = "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC";
inline constexpr const char* kPacketRateIngressClass = "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC";

// One inventory record with every field placement keeps.
struct InventoryRecord {
  int64_t total = 0;
  int64_t reserved = 0;
  int64_t minUnit = 1;
  int64_t maxUnit = 0;
  int64_t stepSize = 1;
  double allocationRatio = 1.0;
  bool operator==(const InventoryRecord&) const = default;
};
using Inventories = std::map<std::string, InventoryRecord>;  // by resource class

struct DesiredProvider {
  Uuid uuid;
  std::string name;
  std::string device;  // "" for an agent provider
  std::set<std::string> traits;
  Inventories inventories;
  bool operator==(const DesiredProvider&) const = default;
};

struct DesiredAgent {
  AgentKind kind = AgentKind::kOvs;
  DesiredProvider provider;
  std::vector<DesiredProvider> devices;  // configuration order
  std::set<Uuid> held;                   // device providers of missing devices: leave as they are
  bool operator==(const DesiredAgent&) const = default;
};

struct DesiredRoot {
  std::string hypervisor;  // the root provider's name
  std::vector<DesiredAgent> agents;
  bool operator==(const DesiredRoot&) const = default;
};

// A direction's total as it is reported (heartbeat): unset = not reported.
struct ResolvedBandwidth {
  std::optional<uint64_t> egressKbps;
  std::optional<uint64_t> ingressKbps;
  bool operator==(const ResolvedBandwidth&) const = default;
};

struct DeviceProblem {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  AgentKind kind = AgentKind::kOvs;
  std::string device;
  std::string message;  // key=value style, for logs
  bool operator==(const DeviceProblem&) const = default;
};

struct ProviderTree {
  std::vector<DesiredRoot> roots;       // sorted by hypervisor
  std::set<std::string> customTraits;   // every CUSTOM_ trait the tree uses
  std::vector<DeviceProblem> problems;  // missing devices (error), speed problems (warning)
  std::map<AgentKind, std::vector<std::string>> missing;  // mapped devices the host lacks
  std::map<AgentKind, std::map<std::string, ResolvedBandwidth>> bandwidths;  // for heartbeats

  const DesiredRoot* findRoot(const std::string& hypervisor) const;
  bool operator==(const ProviderTree&) const = default;
};

// The state of each device, for the tree: OVS bridges through ovsBridgeState(), NICs through
// nicState().
ProviderTree buildProviderTree(const AgentConfig& config, const HostView& host);

// "NET_BW_EGR_KILOBIT_PER_SEC=1500 NET_BW_IGR_KILOBIT_PER_SEC=1500", for logs.
std::string describeInventories(const Inventories& inventories);
// "[CUSTOM_A, CUSTOM_B]"
std::string describeTraits(const std::set<std::string>& traits);

}  // namespace bwfloor::agent
