#include "agent/report/provider_tree.h"

#include <algorithm>

#include "agent/report/traits.h"

namespace bwfloor::agent {
namespace {

constexpr uint64_t kKbpsPerMbps = 1000;

DeviceState stateOf(AgentKind kind, const HostView& host, const std::string& device) {
  return kind == AgentKind::kOvs ? ovsBridgeState(host, device) : nicState(host, device);
}

InventoryRecord inventoryFor(uint64_t total, const InventoryDefaults& defaults) {
  InventoryRecord record;
  record.total = static_cast<int64_t>(total);
  record.reserved = defaults.reserved.value_or(0);
  record.minUnit = defaults.minUnit.value_or(1);
  record.maxUnit = defaults.maxUnit.value_or(record.total);
  record.stepSize = defaults.stepSize.value_or(1);
  record.allocationRatio = defaults.allocationRatio.value_or(1.0);
  return record;
}

// Resolves one direction: a fixed total as configured, "auto" from the link speed (unset when the
// speed is unknown), unreported stays unset.
std::optional<uint64_t> resolve(const BandwidthTotal& total, const DeviceState& state) {
  switch (total.kind) {
    case BandwidthTotal::Kind::kUnreported:
      return std::nullopt;
    case BandwidthTotal::Kind::kKbps:
      return total.kbps;
    case BandwidthTotal::Kind::kAuto:
      if (!state.speedMbps) return std::nullopt;
      return std::min<uint64_t>(*state.speedMbps * kKbpsPerMbps, kMaxPlacementTotal);
  }
  return std::nullopt;
}

// Warnings about one direction: "auto" without a known speed, a total above the known speed.
void checkSpeed(AgentKind kind, const std::string& device, const char* direction,
                const BandwidthTotal& total, const DeviceState& state,
                std::vector<DeviceProblem>& problems) {
  const auto warn = [&](std::string message) {
    problems.push_back({DeviceProblem::Severity::kWarning, kind, device, std::move(message)});
  };
  if (total.kind == BandwidthTotal::Kind::kAuto && !state.speedMbps) {
    warn(std::string("link speed unknown: ") + direction + " total \"auto\" not reported");
  }
  if (total.kind == BandwidthTotal::Kind::kKbps && state.speedMbps &&
      total.kbps > *state.speedMbps * kKbpsPerMbps) {
    warn(std::string(direction) + " total " + std::to_string(total.kbps) +
         " kbit/s is above the link speed " + std::to_string(*state.speedMbps * kKbpsPerMbps) +
         " kbit/s");
  }
}

DesiredProvider deviceProvider(AgentKind kind, const std::string& hypervisor,
                               const std::string& physnet, const DeviceBandwidth& bw,
                               const ResolvedBandwidth& resolved,
                               const InventoryDefaults& defaults) {
  DesiredProvider provider;
  provider.uuid = deviceProviderUuid(kind, hypervisor, bw.device);
  provider.name = deviceProviderName(kind, hypervisor, bw.device);
  provider.device = bw.device;
  provider.traits.insert(physnetTrait(physnet));
  for (const auto& vnic : kindInfo(kind).vnicTypes) provider.traits.insert(vnicTypeTrait(vnic));
  if (resolved.egressKbps.value_or(0) > 0) {
    provider.inventories[kEgressClass] = inventoryFor(*resolved.egressKbps, defaults);
  }
  if (resolved.ingressKbps.value_or(0) > 0) {
    provider.inventories[kIngressClass] = inventoryFor(*resolved.ingressKbps, defaults);
  }
  return provider;
}

DesiredAgent& agentFor(ProviderTree& tree, AgentKind kind, const std::string& hypervisor) {
  auto root = std::find_if(tree.roots.begin(), tree.roots.end(),
                           [&](const DesiredRoot& r) { return r.hypervisor == hypervisor; });
  if (root == tree.roots.end()) {
    tree.roots.push_back(DesiredRoot{hypervisor, {}});
    root = std::prev(tree.roots.end());
  }
  auto agent = std::find_if(root->agents.begin(), root->agents.end(),
                            [&](const DesiredAgent& a) { return a.kind == kind; });
  if (agent != root->agents.end()) return *agent;
  DesiredAgent created;
  created.kind = kind;
  created.provider.uuid = agentProviderUuid(kind, hypervisor);
  created.provider.name = agentProviderName(kind, hypervisor);
  root->agents.push_back(std::move(created));
  return root->agents.back();
}

// The agent provider of each hypervisor with packet processing: inventories and vnic traits.
void addPacketProcessing(AgentKind kind, const PacketProcessing& pp, ProviderTree& tree) {
  for (const auto& total : pp.totals) {
    DesiredProvider& provider = agentFor(tree, kind, total.hypervisor).provider;
    const auto add = [&](const char* rc, const std::optional<uint64_t>& kpps) {
      if (kpps.value_or(0) > 0)
        provider.inventories[rc] = inventoryFor(*kpps, pp.inventoryDefaults);
    };
    add(kPacketRateClass, total.anyKpps);
    add(kPacketRateEgressClass, total.egressKpps);
    add(kPacketRateIngressClass, total.ingressKpps);
    for (const auto& vnic : kindInfo(kind).vnicTypes) {
      provider.traits.insert(vnicTypeTrait(vnic));
      tree.customTraits.insert(vnicTypeTrait(vnic));
    }
  }
}

void addKind(const AgentConfig& config, AgentKind kind, const HostView& host, ProviderTree& tree) {
  const DeviceSection& section = sectionOf(config, kind);
  addPacketProcessing(kind, section.packetProcessing, tree);
  // Every mapped device's hypervisor gets an agent provider (Neutron's default_rp_hypervisors).
  for (const auto& mapping : section.mappings) {
    agentFor(tree, kind, section.hypervisorFor(mapping.device));
    const DeviceState state = stateOf(kind, host, mapping.device);
    if (!state.present) {
      tree.missing[kind].push_back(mapping.device);
      tree.problems.push_back(
          {DeviceProblem::Severity::kError, kind, mapping.device,
           "configured device missing on the host (physnet=" + mapping.physnet + ")"});
    }
  }
  for (const auto& bw : section.bandwidths) {
    const std::string& hypervisor = section.hypervisorFor(bw.device);
    const DeviceState state = stateOf(kind, host, bw.device);
    const ResolvedBandwidth resolved{resolve(bw.egress, state), resolve(bw.ingress, state)};
    tree.bandwidths[kind][bw.device] = resolved;
    DesiredAgent& agent = agentFor(tree, kind, hypervisor);
    if (!state.present) {
      agent.held.insert(deviceProviderUuid(kind, hypervisor, bw.device));
      continue;
    }
    checkSpeed(kind, bw.device, "egress", bw.egress, state, tree.problems);
    checkSpeed(kind, bw.device, "ingress", bw.ingress, state, tree.problems);
    DesiredProvider provider = deviceProvider(kind, hypervisor, *section.physnetOf(bw.device), bw,
                                              resolved, section.inventoryDefaults);
    for (const auto& trait : provider.traits) tree.customTraits.insert(trait);
    agent.devices.push_back(std::move(provider));
  }
}

}  // namespace

const DesiredRoot* ProviderTree::findRoot(const std::string& hypervisor) const {
  const auto it = std::find_if(roots.begin(), roots.end(),
                               [&](const DesiredRoot& r) { return r.hypervisor == hypervisor; });
  return it != roots.end() ? &*it : nullptr;
}

ProviderTree buildProviderTree(const AgentConfig& config, const HostView& host) {
  ProviderTree tree;
  for (const AgentKind kind : kAgentKinds) {
    const DeviceSection& section = sectionOf(config, kind);
    if (section.enabled() || section.packetProcessing.enabled()) addKind(config, kind, host, tree);
  }
  std::sort(tree.roots.begin(), tree.roots.end(),
            [](const DesiredRoot& a, const DesiredRoot& b) { return a.hypervisor < b.hypervisor; });
  return tree;
}

std::string describeInventories(const Inventories& inventories) {
  if (inventories.empty()) return "none";
  std::string out;
  for (const auto& [rc, inv] : inventories) {
    if (!out.empty()) out += ' ';
    out += rc + "=" + std::to_string(inv.total);
    if (inv.reserved != 0) out += "(reserved " + std::to_string(inv.reserved) + ")";
  }
  return out;
}

std::string describeTraits(const std::set<std::string>& traits) {
  std::string out = "[";
  for (const auto& trait : traits) {
    if (out.size() > 1) out += ", ";
    out += trait;
  }
  return out + "]";
}

}  // namespace bwfloor::agent
