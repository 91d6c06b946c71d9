#include "agent/config/agent_config.h"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <set>

#include "agent/report/traits.h"
#include "core/logging.h"
#include "http/client.h"

namespace bwfloor::agent {
namespace {

constexpr const char* kAgent = "agent";
constexpr const char* kPlacement = "placement";
constexpr const char* kOvs = "ovs";
constexpr const char* kSriov = "sriov_nic";

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Lazily asks for the machine's names, once.
class NameSource {
 public:
  explicit NameSource(const std::function<Result<HostNames>()>& fetch) : fetch_(fetch) {}
  Result<HostNames> get() {
    if (!names_) {
      ASSIGN_OR_RETURN(names_, fetch_());
    }
    return *names_;
  }

 private:
  const std::function<Result<HostNames>()>& fetch_;
  std::optional<HostNames> names_;
};

Result<std::chrono::seconds> positiveSeconds(const IniFile& ini, const char* section,
                                             const char* key, std::chrono::seconds fallback) {
  ASSIGN_OR_RETURN(const int64_t seconds, ini.getInt(section, key, fallback.count(), 1, 86400));
  return std::chrono::seconds(seconds);
}

// Reads one device section ([ovs] or [sriov_nic]) except the default hypervisor.
Result<DeviceSection> parseDeviceSection(const IniFile& ini, const char* section,
                                         const char* mappingsKey, bool uniquePhysnets) {
  DeviceSection out;
  auto mappings = parsePhysnetMappings(ini.getList(section, mappingsKey), uniquePhysnets);
  if (!mappings) return ini.errorAt(section, mappingsKey, mappings.error().message());
  out.mappings = std::move(*mappings);

  constexpr const char* kBw = "resource_provider_bandwidths";
  auto bandwidths = parseBandwidths(ini.getList(section, kBw));
  if (!bandwidths) return ini.errorAt(section, kBw, bandwidths.error().message());
  out.bandwidths = std::move(*bandwidths);
  for (const auto& bw : out.bandwidths) {
    if (out.physnetOf(bw.device) == nullptr) {
      return ini.errorAt(
          section, kBw,
          "device \"" + bw.device + "\" is missing from [" + section + "] " + mappingsKey);
    }
  }

  constexpr const char* kDefaults = "resource_provider_inventory_defaults";
  if (ini.has(section, kDefaults)) {
    auto defaults = parseInventoryDefaults(ini.getList(section, kDefaults));
    if (!defaults) return ini.errorAt(section, kDefaults, defaults.error().message());
    out.inventoryDefaults = *defaults;
  }

  constexpr const char* kHyps = "resource_provider_hypervisors";
  auto hypervisors = parseHypervisors(ini.getList(section, kHyps));
  if (!hypervisors) return ini.errorAt(section, kHyps, hypervisors.error().message());
  for (const auto& [device, hypervisor] : *hypervisors) {
    if (out.physnetOf(device) == nullptr) {
      return ini.errorAt(
          section, kHyps,
          "device \"" + device + "\" is missing from [" + section + "] " + mappingsKey);
    }
  }
  out.hypervisors = std::move(*hypervisors);
  return out;
}

// [ovs] packet processing. Read unconditionally, so that every key counts as known.
Status parsePacketProcessing(const IniFile& ini, const std::string& host, PacketProcessing& out) {
  // Neutron tests the lists: an option set to nothing is not set.
  const std::vector<std::string> withoutItems = ini.getList(kOvs, kPacketRateWithoutDirection);
  const std::vector<std::string> withItems = ini.getList(kOvs, kPacketRateWithDirection);
  auto anyTotals = parsePacketRates(withoutItems, false, host);
  if (!anyTotals) {
    return ini.errorAt(kOvs, kPacketRateWithoutDirection, anyTotals.error().message());
  }
  auto directed = parsePacketRates(withItems, true, host);
  if (!directed) return ini.errorAt(kOvs, kPacketRateWithDirection, directed.error().message());
  const bool with = !withItems.empty();
  if (!withoutItems.empty() && with) {
    return ini.errorAt(kOvs, kPacketRateWithDirection, packetRateOptionsExclusiveText());
  }
  out.withDirection = with;
  out.totals = with ? std::move(*directed) : std::move(*anyTotals);
  constexpr const char* kDefaults = "resource_provider_packet_processing_inventory_defaults";
  if (ini.has(kOvs, kDefaults)) {
    auto defaults = parseInventoryDefaults(ini.getList(kOvs, kDefaults));
    if (!defaults) return ini.errorAt(kOvs, kDefaults, defaults.error().message());
    out.inventoryDefaults = *defaults;
  }
  return {};
}

Status resolveDefaultHypervisor(const IniFile& ini, const char* section, const AgentConfig& config,
                                bool hostFromFile, NameSource& names, DeviceSection& out) {
  constexpr const char* kKey = "resource_provider_default_hypervisor";
  if (auto entry = ini.get(section, kKey)) {
    if (auto st = validateHypervisorName(entry->value); !st) {
      return ini.errorAt(section, kKey, st.error().message());
    }
    out.defaultHypervisor = entry->value;
    return {};
  }
  if (hostFromFile || !out.enabled()) {
    out.defaultHypervisor = config.host;
    return {};
  }
  ASSIGN_OR_RETURN(const HostNames machine, names.get());
  out.defaultHypervisor = machine.hypervisor;
  return {};
}

// Two physnets whose traits collide (physnet0 / Physnet0) would be one physnet to the scheduler.
Status checkPhysnetTraits(const IniFile& ini, const AgentConfig& config) {
  std::map<std::string, std::string> byTrait;
  const auto check = [&](const DeviceSection& section, const char* name,
                         const char* key) -> Status {
    for (const auto& m : section.mappings) {
      auto [it, inserted] = byTrait.emplace(physnetTrait(m.physnet), m.physnet);
      if (!inserted && it->second != m.physnet) {
        return ini.errorAt(name, key,
                           "physnets \"" + it->second + "\" and \"" + m.physnet +
                               "\" both normalise to trait " + it->first);
      }
    }
    return {};
  };
  RETURN_IF_ERROR(check(config.ovs, kOvs, "bridge_mappings"));
  return check(config.sriov, kSriov, "physical_device_mappings");
}

Status parseAgentSection(const IniFile& ini, NameSource& names, AgentConfig& config,
                         bool& hostFromFile) {
  config.host = ini.getString(kAgent, "host", ini.getString("DEFAULT", "host"));
  hostFromFile = !config.host.empty();
  const char* hostSection = ini.has(kAgent, "host") ? kAgent : "DEFAULT";
  if (config.host.empty()) {
    ASSIGN_OR_RETURN(const HostNames machine, names.get());
    config.host = machine.hostname;
  } else if (auto st = validateHypervisorName(config.host); !st) {
    return ini.errorAt(hostSection, "host", st.error().message());
  }
  ASSIGN_OR_RETURN(config.reportInterval,
                   positiveSeconds(ini, kAgent, "report_interval", config.reportInterval));
  ASSIGN_OR_RETURN(config.resyncInterval,
                   positiveSeconds(ini, kAgent, "resync_interval", config.resyncInterval));
  config.statusSocket = ini.getString(kAgent, "status_socket", config.statusSocket);
  if (config.statusSocket.empty() || config.statusSocket[0] != '/' ||
      config.statusSocket.size() > 107) {
    return ini.errorAt(
        kAgent, "status_socket",
        "expected an absolute path of at most 107 characters, got \"" + config.statusSocket + "\"");
  }
  const std::string metrics = ini.getString(
      kAgent, "metrics_listen", config.metricsHost + ":" + std::to_string(config.metricsPort));
  if (metrics.empty()) {
    config.metricsHost.clear();
    config.metricsPort = 0;
  } else {
    auto listen = parseListenAddress(metrics);
    if (!listen) return ini.errorAt(kAgent, "metrics_listen", listen.error().message());
    std::tie(config.metricsHost, config.metricsPort) = *listen;
  }
  const std::string policy = ini.getString(kAgent, "root_provider", "create");
  if (policy == "create") {
    config.rootProviderPolicy = RootProviderPolicy::kCreate;
  } else if (policy == "wait") {
    config.rootProviderPolicy = RootProviderPolicy::kWait;
  } else {
    return ini.errorAt(kAgent, "root_provider",
                       R"(expected "create" or "wait", got ")" + policy + "\"");
  }
  config.logLevel = ini.getString("DEFAULT", "log_level", config.logLevel);
  if (auto level = parseLogLevel(config.logLevel); !level) {
    return ini.errorAt("DEFAULT", "log_level", level.error().message());
  }
  ASSIGN_OR_RETURN(config.debug, ini.getBool("DEFAULT", "debug", false));
  ASSIGN_OR_RETURN(config.useJson, ini.getBool("DEFAULT", "use_json", false));
  return {};
}

Status parseEndpoints(const IniFile& ini, AgentConfig& config) {
  config.placementEndpoint = ini.getString(kPlacement, "endpoint", config.placementEndpoint);
  auto placement = http::parseUrlList(config.placementEndpoint);
  if (!placement) return ini.errorAt(kPlacement, "endpoint", placement.error().message());
  config.placementToken = ini.getString(kPlacement, "token", config.placementToken);
  // By default the server is where placement is: each endpoint's scheme://host:port.
  std::string origins;
  for (const auto& url : *placement) origins += (origins.empty() ? "" : ",") + url.origin();
  config.serverEndpoint = ini.getString(kAgent, "server_endpoint", origins);
  if (auto server = http::parseUrlList(config.serverEndpoint); !server) {
    return ini.errorAt(kAgent, "server_endpoint", server.error().message());
  }
  config.caFile = ini.getString(kPlacement, "cafile", "");
  if (!config.caFile.empty()) {
    std::ifstream probe(config.caFile);
    if (!probe) {
      return ini.errorAt(kPlacement, "cafile",
                         "cannot read " + config.caFile + " (the CA of the https:// endpoints)");
    }
  }
  return {};
}

Status parseOvsConnection(const IniFile& ini, AgentConfig& config) {
  config.integrationBridge = ini.getString(kOvs, "integration_bridge", config.integrationBridge);
  if (auto st = validateDeviceName(config.integrationBridge); !st) {
    return ini.errorAt(kOvs, "integration_bridge", st.error().message());
  }
  for (const auto& m : config.ovs.mappings) {
    if (m.device == config.integrationBridge) {
      return ini.errorAt(
          kOvs, "bridge_mappings",
          "physnet \"" + m.physnet + "\" is mapped to the integration bridge " + m.device);
    }
  }
  config.ovsQosBackend = ini.getString(kOvs, "qos_backend", config.ovsQosBackend);
  if (config.ovsQosBackend != "htb" && config.ovsQosBackend != "ovs") {
    return ini.errorAt(kOvs, "qos_backend",
                       R"(expected "htb" or "ovs", got ")" + config.ovsQosBackend + "\"");
  }
  ASSIGN_OR_RETURN(const int64_t userspaceMax,
                   ini.getInt(kOvs, "userspace_datapath_max_kbps",
                              static_cast<int64_t>(config.ovsUserspaceMax.kbps()), 0, 1000000000));
  config.ovsUserspaceMax = Kbps(static_cast<uint64_t>(userspaceMax));
  config.ovsdbConnection = ini.getString(kOvs, "ovsdb_connection", config.ovsdbConnection);
  if (!startsWith(config.ovsdbConnection, "unix:") && !startsWith(config.ovsdbConnection, "tcp:")) {
    return ini.errorAt(kOvs, "ovsdb_connection",
                       "expected unix:PATH or tcp:IP:PORT, got \"" + config.ovsdbConnection + "\"");
  }
  return {};
}

}  // namespace

const std::string& DeviceSection::hypervisorFor(const std::string& device) const {
  const auto it = hypervisors.find(device);
  return it != hypervisors.end() ? it->second : defaultHypervisor;
}

const std::string* DeviceSection::physnetOf(const std::string& device) const {
  const auto it = std::find_if(mappings.begin(), mappings.end(),
                               [&](const PhysnetMapping& m) { return m.device == device; });
  return it != mappings.end() ? &it->physnet : nullptr;
}

Result<std::pair<std::string, uint16_t>> parseListenAddress(const std::string& text) {
  const auto bad = [&] {
    return makeError(ErrorCode::kInvalidArgument,
                     "expected HOST:PORT (e.g. 127.0.0.1:9325, [::1]:9325) with a port from 1 to "
                     "65535, or nothing to disable, got \"" +
                         text + "\"");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return bad();
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad();  // an IPv6 address needs brackets
  }
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad();
  const unsigned long number = std::stoul(port);
  if (number == 0 || number > 65535) return bad();
  return std::pair<std::string, uint16_t>{host, static_cast<uint16_t>(number)};
}

const char* rootProviderPolicyName(RootProviderPolicy policy) {
  return policy == RootProviderPolicy::kCreate ? "create" : "wait";
}

Result<HostNames> machineHostNames() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) {
    return makeError(ErrorCode::kInternal, "gethostname() failed", errno);
  }
  HostNames names{buf.data(), buf.data()};
  // libvirt's virGetHostname(), which Nova reports as the hypervisor (root provider) name.
  if (startsWith(names.hostname, "localhost") || names.hostname.find('.') != std::string::npos) {
    return names;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME | AI_CANONIDN;
  addrinfo* info = nullptr;
  if (getaddrinfo(names.hostname.c_str(), nullptr, &hints, &info) == 0 && info != nullptr) {
    if (info->ai_canonname != nullptr && !startsWith(info->ai_canonname, "localhost")) {
      names.hypervisor = info->ai_canonname;
    }
    freeaddrinfo(info);
  }
  return names;
}

Result<AgentConfig> parseAgentConfig(const IniFile& ini,
                                     const std::function<Result<HostNames>()>& fetchNames) {
  NameSource names(fetchNames);
  AgentConfig config;
  config.sourcePath = ini.fileName();
  bool hostFromFile = false;
  RETURN_IF_ERROR(parseAgentSection(ini, names, config, hostFromFile));
  RETURN_IF_ERROR(parseEndpoints(ini, config));
  ASSIGN_OR_RETURN(config.ovs, parseDeviceSection(ini, kOvs, "bridge_mappings", true));
  ASSIGN_OR_RETURN(config.sriov,
                   parseDeviceSection(ini, kSriov, "physical_device_mappings", false));
  RETURN_IF_ERROR(resolveDefaultHypervisor(ini, kOvs, config, hostFromFile, names, config.ovs));
  RETURN_IF_ERROR(resolveDefaultHypervisor(ini, kSriov, config, hostFromFile, names, config.sriov));
  RETURN_IF_ERROR(parseOvsConnection(ini, config));
  RETURN_IF_ERROR(parsePacketProcessing(ini, config.host, config.ovs.packetProcessing));
  RETURN_IF_ERROR(checkPhysnetTraits(ini, config));
  return config;
}

Result<AgentConfig> loadAgentConfig(const std::string& path) {
  return loadAgentConfig(std::vector<std::string>{path}, nullptr);
}

Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& paths,
                                    std::vector<std::string>* unknown) {
  ASSIGN_OR_RETURN(IniFile ini, loadIniFiles(paths));
  ASSIGN_OR_RETURN(AgentConfig config, parseAgentConfig(ini, machineHostNames));
  if (unknown) {
    for (const auto& key : ini.unknownKeys()) {
      unknown->push_back(describeUnknownKey(key, "bwfloor-agent"));
    }
  }
  return config;
}

}  // namespace bwfloor::agent
