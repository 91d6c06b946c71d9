#include "agent/binding/reconcile_plan.h"

#include <algorithm>
#include <tuple>

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

// A backend holds a minimum above the device's total at the total (over-committed).
Kbps heldMinimum(Kbps min, Kbps total) { return total.isZero() ? min : std::min(min, total); }

// Whether what the kernel holds is already exactly `spec` (then nothing is programmed).
bool holds(const dataplane::AppliedQos& applied, const dataplane::QosSpec& spec,
           const EnforcementPoint& point) {
  return applied.port.mac == spec.port.mac && applied.port.device == spec.port.device &&
         sameDirection(applied.egress, heldMinimum(spec.minEgress, point.egressTotal),
                       spec.maxEgress) &&
         sameDirection(applied.ingress, heldMinimum(spec.minIngress, point.ingressTotal),
                       spec.maxIngress);
}

std::string targetOf(const std::string& backend, const std::string& device,
                     const std::string& mac) {
  return backend + "|" + device + "|" + mac;
}

PortStep planPort(const bindings::Binding& binding, const AppliedState& applied,
                  const EnforcementPoints& points, const std::set<std::string>& backends,
                  bool reprogramAll) {
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
  setPacketRateStates(status, binding);
  if (!minEgress && !minIngress) {
    const bool packetRate =
        status.packetRateEgress || status.packetRateIngress || status.packetRateAny;
    setState(status, dataplane::Enforcement::placementOnly(
                         packetRate ? "no minimum bandwidth requested; the minimum packet rate is "
                                      "placement-only"
                                    : "no minimum requested"));
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
  if (!reprogramAll && current != applied.byPort.end() &&
      current->second.backend == status.backend) {
    // Read back, a direction the device cannot enforce is simply absent: it is what programming
    // it would give (placement-only, with the reason), not drift to repair at every observe.
    dataplane::AppliedQos found = current->second;
    if (!spec.minIngress.isZero() && !found.ingress && point->second.ingressTotal.isZero() &&
        !point->second.ingressWhyNot.empty()) {
      found.ingress = dataplane::AppliedDirection{
          Kbps(0), std::nullopt, dataplane::Enforcement::placementOnly(point->second.ingressWhyNot),
          ""};
    }
    if (holds(found, spec, point->second)) {
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

void setPacketRateStates(BindingStatus& status, const bindings::Binding& binding) {
  const std::string where = binding.packetRateAllocation.empty()
                                ? "placement"
                                : "placement on agent provider " + binding.packetRateAllocation;
  const BindingStatus::DirectionState placementOnly{
      "placement-only", "no data plane mechanism for a minimum packet rate; claimed in " + where};
  const auto set = [&](uint64_t kpps, uint64_t& min,
                       std::optional<BindingStatus::DirectionState>& state) {
    min = kpps;
    state = kpps == 0 ? std::nullopt : std::optional(placementOnly);
  };
  set(binding.minEgressKpps, status.minEgressKpps, status.packetRateEgress);
  set(binding.minIngressKpps, status.minIngressKpps, status.packetRateIngress);
  set(binding.minAnyKpps, status.minAnyKpps, status.packetRateAny);
}

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
                   const EnforcementPoints& points, const std::set<std::string>& backends,
                   bool reprogramAll) {
  Plan plan;
  std::map<std::string, std::string> wanted;  // port id -> backend it belongs on
  std::set<std::string> targets;              // backend|device|mac of every binding with one
  std::set<std::string> moving;               // taken off their old backend by their own step
  for (const auto& binding : desired.bindings) {
    PortStep step = planPort(binding, applied, points, backends, reprogramAll);
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

std::vector<std::string> markOverCommitted(std::vector<BindingStatus>& statuses,
                                           const EnforcementPoints& points) {
  using Direction = dataplane::Direction;
  struct Load {
    Kbps total{0};
    uint64_t sum = 0;
  };
  // (uplink, backend, direction) -> the device's total and the minimums enforced on it.
  std::map<std::tuple<std::string, std::string, Direction>, Load> loads;
  const auto key = [](const BindingStatus& s, Direction d) {
    return std::tuple{s.uplink, s.backend, d};
  };
  const auto stateOf = [](BindingStatus& s,
                          Direction d) -> std::optional<BindingStatus::DirectionState>& {
    return d == Direction::kEgress ? s.egress : s.ingress;
  };
  for (BindingStatus& s : statuses) {
    if (s.backend.empty()) continue;
    const EnforcementPoint* point = findPoint(points, s.uplink, s.backend);
    if (point == nullptr) continue;
    for (Direction d : {Direction::kEgress, Direction::kIngress}) {
      const auto& state = stateOf(s, d);
      if (!state || state->state != "enforced") continue;
      Load& load = loads[key(s, d)];
      load.total = d == Direction::kEgress ? point->egressTotal : point->ingressTotal;
      load.sum += (d == Direction::kEgress ? s.minEgress : s.minIngress).kbps();
    }
  }
  std::vector<std::string> lines;
  for (const auto& [k, load] : loads) {
    if (load.total.isZero() || load.sum <= load.total.kbps()) continue;
    lines.push_back(std::get<0>(k) + " " + dataplane::directionName(std::get<2>(k)) +
                    ": minimums " + std::to_string(load.sum) + " kbit/s above its total " +
                    std::to_string(load.total.kbps()) + " kbit/s");
  }
  for (BindingStatus& s : statuses) {
    for (Direction d : {Direction::kEgress, Direction::kIngress}) {
      auto& state = stateOf(s, d);
      if (!state || state->state != "enforced") continue;
      const auto it = loads.find(key(s, d));
      if (it == loads.end() || it->second.total.isZero() ||
          it->second.sum <= it->second.total.kbps()) {
        continue;
      }
      const std::string detail = "the minimums on " + s.uplink + " " + dataplane::directionName(d) +
                                 " add up to " + std::to_string(it->second.sum) +
                                 " kbit/s, above its total " +
                                 std::to_string(it->second.total.kbps()) + " kbit/s";
      state = BindingStatus::DirectionState{"over-committed", detail};
      if (s.state != "failed") {
        s.state = "over-committed";
        s.detail = detail;
      }
    }
  }
  return lines;
}

}  // namespace bwfloor::agent
