#pragma once
// The bindings contract between bwfloor-server and its agents, as one set of types with one
// (de)serializer that both link:
//
//   GET /v1/hosts/{host}/bindings      -> HostBindings   {"revision": N, "bindings": [Binding...]}
//   PUT /v1/ports/{id}/binding_status  <- StatusReport   {"state", "detail", "host", "backend"}
//
// Parsing is the edge: a document from the other side becomes typed values here or an error that
// names the field, the expected type and the value; nothing downstream reads JSON.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bwfloor::bindings {

// A port's binding state, as the server keeps it and the agent reports it.
enum class BindingState {
  kUnbound,        // no server
  kPending,        // bound, the agent has not reported yet
  kEnforced,       // the minimum holds in the data plane
  kPlacementOnly,  // claimed in placement; this data plane cannot enforce it (the reason says why)
  kFailed,         // the agent tried and could not (the detail says why)
  kRemoved,        // the agent took the guarantee away
  // Programmed, but the minimums on its device and direction add up to more than the device's
  // total (lowered below its allocations): the kernel cannot give them all.
  kOverCommitted,
};

std::string_view stateName(BindingState state);
std::optional<BindingState> parseState(std::string_view text);
// What an agent may report (enforced, placement-only, failed, removed, over-committed).
bool reportable(BindingState state);

// One direction's own state, where it differs in kind from the other (enforced egress,
// placement-only ingress on an OVS userspace datapath).
struct DirectionStatus {
  BindingState state = BindingState::kPending;
  std::string detail;
  bool operator==(const DirectionStatus&) const = default;
};

// A port's minimum packet rate, per direction it asks for ("any" = Neutron's direction-less
// rule). No data plane has a packet-rate mechanism, so an agent reports each as placement-only:
// the rate is claimed on the agent provider and nothing else holds it.
struct PacketRateStatus {
  std::optional<DirectionStatus> egress;
  std::optional<DirectionStatus> ingress;
  std::optional<DirectionStatus> any;
  bool empty() const { return !egress && !ingress && !any; }
  bool operator==(const PacketRateStatus&) const = default;
};

struct BindingStatus {
  // The worst of the bandwidth directions; placement-only when the port asks for packet rate
  // only. The packet rate's own states are in packetRate and do not lower it.
  BindingState state = BindingState::kPending;
  std::string detail;
  std::string host;                       // the reporting agent's host
  std::string backend;                    // htb, ovs, sriov; "" when nowhere
  std::optional<DirectionStatus> egress;  // absent: no minimum that way, or an older agent
  std::optional<DirectionStatus> ingress;
  PacketRateStatus packetRate;  // JSON "packet_rate": {"egress"|"ingress"|"any": {...}}
  bool operator==(const BindingStatus&) const = default;
};

// One bound port, as its host's agent needs it.
struct Binding {
  std::string portId;
  std::string portName;
  std::string macAddress;
  std::string vnicType;
  std::string serverId;
  std::string allocation;  // the device provider's uuid (minted by the agent)
  std::string device;      // that provider's device (bridge, PF)
  std::string agentType;   // "Open vSwitch agent", "NIC Switch agent"
  uint64_t minEgressKbps = 0;
  uint64_t minIngressKbps = 0;
  std::optional<uint64_t> maxEgressKbps;
  std::optional<uint64_t> maxIngressKbps;
  // Minimum packet rates (kpps; 0 = none) and the agent provider they are claimed on. Placement
  // only: the agent enforces nothing for them and reports them placement-only.
  std::string packetRateAllocation;
  uint64_t minEgressKpps = 0;
  uint64_t minIngressKpps = 0;
  uint64_t minAnyKpps = 0;
  BindingStatus status;  // what the server last heard, so the agent reports only differences
  bool operator==(const Binding&) const = default;
};

struct HostBindings {
  std::string host;
  uint64_t revision = 0;
  std::vector<Binding> bindings;
  // Counts deletions of this host's resource providers in placement (an operator's, seen by the
  // server): when it changes, the agent syncs placement at once instead of at its next resync.
  uint64_t providersDeleted = 0;
  bool operator==(const HostBindings&) const = default;
};

// The body of PUT /v1/ports/{id}/binding_status.
using StatusReport = BindingStatus;

nlohmann::json toJson(const BindingStatus& status);
nlohmann::json toJson(const Binding& binding);
nlohmann::json toJson(const HostBindings& bindings);

// Errors are kInvalidArgument naming the field ("bindings[2].min_egress_kbps: expected an integer
// from 0 to 2147483647, got \"x\"").
Result<HostBindings> parseHostBindings(const nlohmann::json& doc);
// A status in any state (as the server stores it); errors name the field.
Result<BindingStatus> parseBindingStatus(const nlohmann::json& doc);
// A report must carry a reportable state; detail, host and backend are optional strings.
Result<StatusReport> parseStatusReport(const nlohmann::json& doc);

}  // namespace bwfloor::bindings
