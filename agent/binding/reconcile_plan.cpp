#include "agent/binding/reconcile_plan.h"

#include <algorithm>

namespace bwfloor::agent {
namespace {

std::optional<Kbps> positiveKbps(const std::optional<uint64_t>& kbps) {
  if (!kbps || *kbps == 0) return std::nullopt;
  return Kbps(*kbps);
}

bool sameDirection(const std::optional<dataplane::AppliedDirection>& dir, Kbps min,
                   const std::optional<Kbps>& max) {
  if (min.isZero()) return !dir.has_value();
  // Nothing to program in a direction the backend cannot enforce here.
  if (dir && dir->enforcement.state() == dataplane::Enforcement::State::kPlacementOnly) {
    return true;
  }
  return dir && dir->minKbps == min && dir->maxKbps == max && dir->enforcement.isEnforced();
}

// Whether what the kernel holds is already exactly `spec` (then nothing is programmed).
bool holds(const dataplane::AppliedQos& applied, const dataplane::QosSpec& spec) {
  return applied.port.mac == spec.port.mac && applied.port.device == spec.port.device &&
         sameDirection(applied.egress, spec.minEgress, spec.maxEgress) &&
         sameDirection(applied.ingress, spec.minIngress, spec.maxIngress);
}

std::string targetOf(const std::string& backend, const std::string& device,
                     const std::string& mac) {
  return backend + "|" + device + "|" + mac;
}

PortStep planPort(const bindings::Binding& binding, const AppliedState& applied,
                  const EnforcementPoints& points, const std::set<std::string>& backends) {
  PortStep step;
  step.binding = &binding;
  BindingStatus& status = step.status;
  status.portId = binding.portId;
  status.portName = binding.portName;
  status.serverId = binding.serverId;
  status.agentType = binding.agentType;
  status.device = binding.device;
  const auto minEgress = positiveKbps(binding.minEgressKbps);
  const auto minIngress = positiveKbps(binding.minIngressKbps);
  status.minEgress = minEgress.value_or(Kbps(0));
  status.minIngress = minIngress.value_or(Kbps(0));
  if (!minEgress && !minIngress) {
    setState(status, dataplane::Enforcement::placementOnly("no minimum requested"));
    return step;
  }
  // The device is the provider the allocation is on; a binding without one (an older server)
  // names it by agent type and device.
  auto point = points.end();
  if (!binding.allocation.empty()) {
    point = std::find_if(points.begin(), points.end(), [&](const auto& p) {
      return p.second.providerUuid == binding.allocation;
    });
    if (point == points.end()) {
      setState(status,
               dataplane::Enforcement::failed("the allocation's provider " + binding.allocation +
                                              " (" + status.agentType + ", " + status.device +
                                              ") is not a device this agent reports"));
      return step;
    }
  } else {
    point = points.find({status.agentType, status.device});
  }
  if (point == points.end()) {
    setState(status, dataplane::Enforcement::failed("device " + status.device + " of " +
                                                    status.agentType + " is not configured here"));
    return step;
  }
  if (point->second.backend.empty() || backends.count(point->second.backend) == 0) {
    setState(status, dataplane::Enforcement::placementOnly(point->second.whyNot));
    return step;
  }
  dataplane::QosSpec spec;
  spec.port.portId = status.portId;
  spec.port.mac = binding.macAddress;
  spec.port.device = point->second.uplink;
  spec.minEgress = status.minEgress;
  spec.minIngress = status.minIngress;
  spec.maxEgress = positiveKbps(binding.maxEgressKbps);
  spec.maxIngress = positiveKbps(binding.maxIngressKbps);
  status.uplink = spec.port.device;
  status.backend = point->second.backend;

  const auto current = applied.byPort.find(spec.port.portId);
  if (current != applied.byPort.end() && current->second.backend == status.backend) {
    // Read back, a direction the device cannot enforce is simply absent: it is what programming
    // it would give (placement-only, with the reason), not drift to repair at every observe.
    dataplane::AppliedQos found = current->second;
    if (!spec.minIngress.isZero() && !found.ingress && point->second.ingressTotal.isZero() &&
        !point->second.ingressWhyNot.empty()) {
      found.ingress = dataplane::AppliedDirection{
          Kbps(0), std::nullopt, dataplane::Enforcement::placementOnly(point->second.ingressWhyNot),
          ""};
    }
    if (holds(found, spec)) {
      setAppliedState(status, found);
      step.held = std::move(spec);
      return step;
    }
  }
  // Moved (another uplink or backend): taken away from where it was first.
  if (current != applied.byPort.end() && (current->second.backend != status.backend ||
                                          current->second.port.device != spec.port.device)) {
    step.moveFrom = current->second.backend;
  }
  step.program = std::move(spec);
  return step;
}

}  // namespace

const char* stateName(dataplane::Enforcement::State state) {
  switch (state) {
    case dataplane::Enforcement::State::kEnforced:
      return "enforced";
    case dataplane::Enforcement::State::kPlacementOnly:
      return "placement-only";
    case dataplane::Enforcement::State::kFailed:
      return "failed";
  }
  return "failed";
}

void setState(BindingStatus& status, const dataplane::Enforcement& e) {
  status.state = stateName(e.state());
  status.detail = e.reason();
  const BindingStatus::DirectionState each{status.state, status.detail};
  status.egress = status.minEgress.isZero() ? std::nullopt : std::optional(each);
  status.ingress = status.minIngress.isZero() ? std::nullopt : std::optional(each);
}

void setAppliedState(BindingStatus& status, const dataplane::AppliedQos& applied) {
  setState(status, applied.overall());
  const auto own = [](const std::optional<dataplane::AppliedDirection>& dir,
                      std::optional<BindingStatus::DirectionState>& out) {
    if (out && dir)
      out = BindingStatus::DirectionState{stateName(dir->enforcement.state()),
                                          dir->enforcement.reason()};
  };
  own(applied.egress, status.egress);
  own(applied.ingress, status.ingress);
}

Plan planReconcile(const bindings::HostBindings& desired, const AppliedState& applied,
                   const EnforcementPoints& points, const std::set<std::string>& backends) {
  Plan plan;
  std::map<std::string, std::string> wanted;  // port id -> backend it belongs on
  std::set<std::string> targets;              // backend|device|mac of every binding with one
  std::set<std::string> moving;               // taken off their old backend by their own step
  for (const auto& binding : desired.bindings) {
    PortStep step = planPort(binding, applied, points, backends);
    if (!step.status.backend.empty()) {
      wanted[step.status.portId] = step.status.backend;
      targets.insert(targetOf(step.status.backend, step.status.uplink, binding.macAddress));
    }
    if (step.moveFrom) moving.insert(step.status.portId);
    plan.ports.push_back(std::move(step));
  }
  for (const auto& [portId, held] : applied.byPort) {
    const auto want = wanted.find(portId);
    if (backends.count(held.backend) == 0) continue;  // nothing to remove it with
    if (moving.count(portId) != 0) continue;
    if (want == wanted.end() || want->second != held.backend) {
      plan.removals.emplace_back(held.backend, portId);
    }
  }
  for (const auto& entry : applied.untagged) {
    if (backends.count(entry.backend) == 0) continue;
    // A binding on the same device and MAC adopts it when it is programmed.
    if (targets.count(targetOf(entry.backend, entry.port.device, entry.port.mac)) != 0) continue;
    plan.clears.push_back(entry);
  }
  return plan;
}

BindingStatus programOutcome(const PortStep& step, const Result<dataplane::AppliedQos>& result) {
  BindingStatus status = step.status;
  const dataplane::QosSpec& spec = *step.program;
  if (!result && result.error().code() == ErrorCode::kNotFound && status.backend == "sriov") {
    setState(status, dataplane::Enforcement::placementOnly(
                         "waiting for a VF of " + spec.port.device + " with MAC " + spec.port.mac +
                         " (" + result.error().message() + ")"));
    return status;
  }
  if (!result) {
    // The errno goes into the status: operators read it from `port show` and `server create`.
    setState(status, dataplane::Enforcement::failed(result.error().toString()));
    return status;
  }
  setAppliedState(status, *result);
  return status;
}

}  // namespace bwfloor::agent
