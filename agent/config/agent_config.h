#pragma once
// bwfloor-agent's configuration (default /etc/bwfloor/agent.ini). Sections and option names are
// Neutron's so that operators can reuse their openvswitch_agent.ini / sriov_agent.ini values; the
// value grammars are in neutron_options.h.
//
//   [DEFAULT] log_level                     debug, info, warning, error (default info)
//             debug, use_json               oslo.log's: true = DEBUG whatever log_level says;
//                                           one JSON object per line (both default false)
//   [agent]   host                          this host's name; default [DEFAULT] host, else the
//                                           machine's hostname
//             report_interval               seconds between heartbeats (default 30, >= 1)
//             resync_interval               seconds between full placement resyncs, which also
//                                           notice providers an operator deleted (default 60)
//             root_provider                 create | wait: what to do when placement has no root
//                                           provider named like the hypervisor (default create)
//             server_endpoint               bwfloor-server's base URL for heartbeats (default:
//                                           the placement endpoint's scheme://host:port)
//   [placement] endpoint, token             placement's URL (with its /placement prefix) and the
//                                           X-Auth-Token sent to it and to bwfloor-server
//             cafile                        CA file for https:// endpoints (default: system's)
//   [ovs]     bridge_mappings, resource_provider_bandwidths,
//             resource_provider_inventory_defaults, resource_provider_hypervisors,
//             resource_provider_default_hypervisor, integration_bridge (default br-int),
//             ovsdb_connection (default unix:/var/run/openvswitch/db.sock),
//             resource_provider_packet_processing_without_direction | _with_direction
//             (mutually exclusive), resource_provider_packet_processing_inventory_defaults:
//             packet-rate inventories of the Open vSwitch agent provider (as Neutron's OVS agent)
//   [sriov_nic] physical_device_mappings, resource_provider_bandwidths,
//             resource_provider_inventory_defaults, resource_provider_hypervisors,
//             resource_provider_default_hypervisor
//
// Hypervisor (root provider) of a device: resource_provider_hypervisors[device], else
// resource_provider_default_hypervisor, else [agent] host when it is set in the file, else the
// libvirt-style hostname Neutron uses (get_hypervisor_hostname()).

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/config/neutron_options.h"
#include "core/ini.h"
#include "core/result.h"
#include "dataplane/api/qos_spec.h"

namespace bwfloor::agent {

enum class RootProviderPolicy {
  kCreate,  // create the root provider when placement has none of that name
  kWait,    // wait (retrying) until something else (Nova) creates it
};

// [ovs] resource_provider_packet_processing_*: the kilo-packets per second each hypervisor's
// switch processes, reported on its agent provider. Neutron's SR-IOV agent has no such options.
struct PacketProcessing {
  bool withDirection = false;           // _with_direction (egress/ingress) or _without (any)
  std::vector<PacketRateTotal> totals;  // by hypervisor, file order; "" resolved to the host
  InventoryDefaults inventoryDefaults;  // resource_provider_packet_processing_inventory_defaults
  bool enabled() const { return !totals.empty(); }
  bool operator==(const PacketProcessing&) const = default;
};

// Per agent type ([ovs] or [sriov_nic]).
struct DeviceSection {
  std::vector<PhysnetMapping> mappings;            // bridge_mappings / physical_device_mappings
  std::vector<DeviceBandwidth> bandwidths;         // resource_provider_bandwidths
  InventoryDefaults inventoryDefaults;             // resource_provider_inventory_defaults
  std::map<std::string, std::string> hypervisors;  // resource_provider_hypervisors
  std::string defaultHypervisor;      // resolved default (see header comment); never empty
  PacketProcessing packetProcessing;  // [ovs] only

  bool enabled() const { return !mappings.empty(); }
  // The hypervisor whose root provider the device's tree hangs under.
  const std::string& hypervisorFor(const std::string& device) const;
  // The physnet mapped to the device, or nullptr.
  const std::string* physnetOf(const std::string& device) const;
  bool operator==(const DeviceSection&) const = default;
};

inline constexpr uint16_t kDefaultMetricsPort = 9325;

struct AgentConfig {
  std::string sourcePath;  // the file it was read from, for messages
  std::string host;        // [agent] host
  std::string placementEndpoint = "http://127.0.0.1:8778/placement";
  std::string placementToken = "admin";
  std::string serverEndpoint;  // resolved: never empty
  // [placement] cafile (keystoneauth's name): the CA that https:// endpoints (placement's and the
  // server's) must chain to; "" = the system's store.
  std::string caFile;
  std::chrono::seconds reportInterval{30};
  std::chrono::seconds resyncInterval{60};
  std::string statusSocket = "/run/bwfloor/agent.sock";  // [agent] status_socket
  // [agent] metrics_listen = HOST:PORT: the agent's /metrics and /healthcheck (HTTP). Loopback by
  // default: the counters name ports and servers. Empty: no listener.
  std::string metricsHost = "127.0.0.1";
  uint16_t metricsPort = kDefaultMetricsPort;  // 0 with metricsHost "": disabled
  RootProviderPolicy rootProviderPolicy = RootProviderPolicy::kCreate;
  std::string logLevel = "info";
  bool debug = false;    // [DEFAULT] debug
  bool useJson = false;  // [DEFAULT] use_json

  std::string integrationBridge = "br-int";
  std::string ovsdbConnection = "unix:/var/run/openvswitch/db.sock";
  // [ovs] qos_backend: "htb" (tc HTB on the bridge's uplink, the agent's own) or "ovs" (Open
  // vSwitch QoS/Queue rows, linux-htb, as Neutron's OVS agent does).
  std::string ovsQosBackend = "htb";
  // [ovs] userspace_datapath_max_kbps: above this egress total a userspace-datapath bridge is
  // placement-only (dataplane/api/qos_spec.h says why); 0 = no limit.
  Kbps ovsUserspaceMax{dataplane::kUserspaceDatapathMaxKbps};
  DeviceSection ovs;
  DeviceSection sriov;

  bool operator==(const AgentConfig&) const = default;
};

// Where the machine's names come from; tests substitute fixed ones.
struct HostNames {
  std::string hostname;    // gethostname()
  std::string hypervisor;  // libvirt-style: see defaultHypervisorHostname()
};
// The names of this machine: gethostname() and the hypervisor name Nova's libvirt driver reports
// (the hostname if it starts with "localhost" or contains a '.', else its canonical name from
// getaddrinfo unless that starts with "localhost", else the hostname).
Result<HostNames> machineHostNames();

// Parses and validates an already-read file; all checks, errors "file:line: [section] key: why".
// `names` is called only when a default needs the machine's names.
Result<AgentConfig> parseAgentConfig(const IniFile& ini,
                                     const std::function<Result<HostNames>()>& names);
// Reads FILE and parses it with this machine's names.
Result<AgentConfig> loadAgentConfig(const std::string& path);
// Reads the files in order, merged as oslo.config merges --config-file arguments (a later key
// wins), and parses them. `unknown` gets one line per key no option reads ("file:line: [s] k:
// not an option bwfloor-agent reads (did you mean ...?)").
Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& paths,
                                    std::vector<std::string>* unknown);

const char* rootProviderPolicyName(RootProviderPolicy policy);

// "HOST:PORT" or "[V6]:PORT" -> (host, port); the error says what was expected.
Result<std::pair<std::string, uint16_t>> parseListenAddress(const std::string& text);

}  // namespace bwfloor::agent
