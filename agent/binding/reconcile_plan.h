#pragma once
// The binding loop's decisions as a value: from the desired bindings, what the backends hold (read
// back from the kernel), the enforcement points and the backends that exist, a Plan of what to
// program, remove and clear, and each port's status where it is already known. Pure: no I/O, no
// clock. BindingLoop is fetch -> plan -> apply -> report around it.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/binding/enforcement_points.h"
#include "bindings/host_bindings.h"
#include "core/units.h"
#include "dataplane/api/qos_backend.h"

namespace bwfloor::agent {

// One bound port as the agent last saw it: what was asked and what holds.
struct BindingStatus {
  std::string portId;
  std::string portName;
  std::string serverId;
  std::string agentType;
  std::string device;   // the provider's device (bridge, PF)
  std::string uplink;   // where it is enforced ("" when nowhere)
  std::string backend;  // "" when nowhere
  Kbps minEgress{0};
  Kbps minIngress{0};
  std::string state;  // enforced, placement-only, failed: the worst of the directions
  std::string detail;
  // Per direction with a minimum (nullopt without one): an egress can be enforced while the
  // ingress is placement-only, and operators must see both.
  struct DirectionState {
    std::string state;
    std::string detail;
    bool operator==(const DirectionState&) const = default;
  };
  std::optional<DirectionState> egress;
  std::optional<DirectionState> ingress;
  // Minimum packet rates (kpps, 0 = none) and their states: always placement-only, since no
  // backend has a packet-rate mechanism (Neutron's neither). Set by the plan for every binding;
  // the bandwidth outcome never touches them.
  uint64_t minEgressKpps = 0;
  uint64_t minIngressKpps = 0;
  uint64_t minAnyKpps = 0;
  std::optional<DirectionState> packetRateEgress;
  std::optional<DirectionState> packetRateIngress;
  std::optional<DirectionState> packetRateAny;
  bool operator==(const BindingStatus&) const = default;
};

// The packet-rate part of a binding's status (above); the detail names the agent provider the
// rate is claimed on.
void setPacketRateStates(BindingStatus& status, const bindings::Binding& binding);

// What to do for one desired binding.
struct PortStep {
  const bindings::Binding* binding = nullptr;  // into the desired set the plan was made from
  // Without `program`, final; with it, the base the program's outcome completes.
  BindingStatus status;
  std::optional<dataplane::QosSpec> program;  // on status.backend
  // Without `program`: the spec the kernel already holds as wanted (the agent remembers it, to
  // tell drift from a changed binding when it must be programmed again).
  std::optional<dataplane::QosSpec> held;
  // The backend the port is on now, when it moves to another backend or uplink: removed first.
  std::optional<std::string> moveFrom;
};

struct Plan {
  std::vector<PortStep> ports;  // desired order
  // Port ids to take off their backend (applied, and no desired binding wants them there).
  std::vector<std::pair<std::string, std::string>> removals;  // (backend, port id)
  // Entries without a port id (a VF after a restart) that no binding claims: cleared.
  std::vector<dataplane::AppliedQos> clears;
};

// What the backends hold, as the loop last read or programmed it.
struct AppliedState {
  std::map<std::string, dataplane::AppliedQos> byPort;  // tagged with a port id
  std::vector<dataplane::AppliedQos> untagged;
};

// `reprogramAll`: program every port with a backend even where the kernel holds its spec (after
// the enforcement points changed, e.g. a device total: programming applies the new totals).
Plan planReconcile(const bindings::HostBindings& desired, const AppliedState& applied,
                   const EnforcementPoints& points, const std::set<std::string>& backends,
                   bool reprogramAll = false);

// A device's total lowered below the minimums bound on it (SIGHUP with a smaller
// resource_provider_bandwidths): each enforced direction on it becomes "over-committed", with
// the sum and the total in its detail, and so does the port's overall state unless a direction
// failed. Returns one line per over-committed device and direction, for the log.
std::vector<std::string> markOverCommitted(std::vector<BindingStatus>& statuses,
                                           const EnforcementPoints& points);

// The status a programmed port ends with: the backend's answer, or its error. An SR-IOV port whose
// VF has no MAC yet (the VM is not plugged) waits as placement-only: it has not failed.
BindingStatus programOutcome(const PortStep& step, const Result<dataplane::AppliedQos>& result);

// Enforcement state -> status state and detail, the same for every direction with a minimum.
void setState(BindingStatus& status, const dataplane::Enforcement& enforcement);
// What a backend holds -> the overall state and each direction's own.
void setAppliedState(BindingStatus& status, const dataplane::AppliedQos& applied);
// "enforced", "placement-only", "failed".
const char* stateName(dataplane::Enforcement::State state);

}  // namespace bwfloor::agent
