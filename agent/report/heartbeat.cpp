#include "agent/report/heartbeat.h"

#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using nlohmann::json;

json optionalNumber(const std::optional<uint64_t>& value) {
  return value ? json(*value) : json(nullptr);
}

json inventoryDefaultsJson(const InventoryDefaults& defaults) {
  json out = json::object();
  if (defaults.allocationRatio) out["allocation_ratio"] = *defaults.allocationRatio;
  if (defaults.minUnit) out["min_unit"] = *defaults.minUnit;
  if (defaults.maxUnit) out["max_unit"] = *defaults.maxUnit;
  if (defaults.reserved) out["reserved"] = *defaults.reserved;
  if (defaults.stepSize) out["step_size"] = *defaults.stepSize;
  return out;
}

json mappingsJson(AgentKind kind, const DeviceSection& section) {
  json out = json::object();
  for (const auto& m : section.mappings) {
    if (kind == AgentKind::kOvs) {
      out[m.physnet] = m.device;
    } else {
      if (!out.contains(m.physnet)) out[m.physnet] = json::array();
      out[m.physnet].push_back(m.device);
    }
  }
  return out;
}

// Neutron's OVS agent reports both packet-processing options (the unused one as {}), parsed.
json packetRatesJson(const PacketProcessing& pp, bool withDirection) {
  json out = json::object();
  if (pp.withDirection != withDirection) return out;
  for (const auto& t : pp.totals) {
    out[t.hypervisor] = withDirection ? json{{"egress", optionalNumber(t.egressKpps)},
                                             {"ingress", optionalNumber(t.ingressKpps)}}
                                      : json{{"any", optionalNumber(t.anyKpps)}};
  }
  return out;
}

}  // namespace

json heartbeatBody(const AgentConfig& config, AgentKind kind, const ProviderTree& tree,
                   bool resourcesSynced) {
  const DeviceSection& section = sectionOf(config, kind);
  json bandwidths = json::object();
  if (const auto it = tree.bandwidths.find(kind); it != tree.bandwidths.end()) {
    for (const auto& [device, bw] : it->second) {
      bandwidths[device] = {{"egress", optionalNumber(bw.egressKbps)},
                            {"ingress", optionalNumber(bw.ingressKbps)}};
    }
  }
  json hypervisors = json::object();
  for (const auto& m : section.mappings) hypervisors[m.device] = section.hypervisorFor(m.device);
  json missing = json::array();
  if (const auto it = tree.missing.find(kind); it != tree.missing.end()) {
    for (const auto& device : it->second) missing.push_back(device);
  }
  json configurations = {
      {kindInfo(kind).mappingsKey, mappingsJson(kind, section)},
      {"resource_provider_bandwidths", bandwidths},
      {"resource_provider_inventory_defaults", inventoryDefaultsJson(section.inventoryDefaults)},
      {"resource_provider_hypervisors", hypervisors},
      {"devices_missing", missing},
  };
  if (kind == AgentKind::kOvs) {
    const PacketProcessing& pp = section.packetProcessing;
    configurations[kPacketRateWithoutDirection] = packetRatesJson(pp, false);
    configurations[kPacketRateWithDirection] = packetRatesJson(pp, true);
    configurations["resource_provider_packet_processing_inventory_defaults"] =
        inventoryDefaultsJson(pp.inventoryDefaults);
  }
  return {{"host", config.host},
          {"agent_type", kindInfo(kind).agentType},
          {"binary", kAgentBinary},
          {"configurations", configurations},
          {"resources_synced", resourcesSynced}};
}

int HeartbeatReporter::report(RestTransport& server, const AgentConfig& config,
                              const ProviderTree& tree, bool resourcesSynced) {
  auto log = logger("agent");
  int accepted = 0;
  for (const AgentKind kind : kAgentKinds) {
    const DeviceSection& section = sectionOf(config, kind);
    if (!section.enabled() && !section.packetProcessing.enabled()) continue;
    const std::string body = heartbeatBody(config, kind, tree, resourcesSynced).dump();
    log->debug("heartbeat: POST /v1/agents {}", body);
    auto resp = server.send("POST", "/v1/agents", body);
    if (!resp) {
      log->warn("heartbeat to {} failed: {}", config.serverEndpoint, resp.error().toString());
      continue;
    }
    if (resp->status == 404) {
      if (!notFoundLogged_) {
        log->info("heartbeat: {} has no /v1/agents (an older bwfloor-server); not reporting",
                  config.serverEndpoint);
        notFoundLogged_ = true;
      }
      continue;
    }
    if (resp->status / 100 != 2) {
      log->warn("heartbeat to {} refused: HTTP {} {}", config.serverEndpoint, resp->status,
                resp->body.substr(0, 200));
      continue;
    }
    ++accepted;
  }
  return accepted;
}

}  // namespace bwfloor::agent
