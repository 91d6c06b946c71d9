#pragma once
// The value grammars of Neutron's agent options, parsed exactly as neutron-lib parses them so that
// operators can reuse their openvswitch_agent.ini / sriov_agent.ini values:
//
//   bridge_mappings            physnet:bridge,...     (neutron_lib.utils.helpers.parse_mappings)
//   physical_device_mappings   physnet:pf,...         (same, a physnet may name several PFs)
//   resource_provider_bandwidths
//                              DEV:EGRESS:INGRESS,... (neutron_lib.placement.utils
//                                                      ._parse_rp_options, keys egress/ingress)
//       "eth0:10:20" both reported; "eth1::20" egress not reported; "eth2::" and a bare "eth3"
//       neither; "eth0:" (two fields) is an error. A rate is a whole number of kbit/s >= 0; 0 is
//       accepted but, as in Neutron's sync (a falsy total), reports no inventory.
//       bwfloor extension: "auto" takes that direction's total from the link speed.
//   resource_provider_inventory_defaults
//                              key:value,...          (oslo DictOpt + Neutron's key checks)
//   resource_provider_hypervisors
//                              dev:hypervisor,...     (oslo DictOpt)
//   resource_provider_packet_processing_without_direction
//                              HYPERVISOR:KPPS,...    (neutron_lib.placement.utils
//                                                      .parse_rp_pp_without_direction)
//   resource_provider_packet_processing_with_direction
//                              HYPERVISOR:EGRESS_KPPS:INGRESS_KPPS,...
//                                                     (.parse_rp_pp_with_direction)
//       Same tuple grammar as the bandwidths, keyed by hypervisor; an empty hypervisor is the
//       agent's host. These errors carry Neutron's own texts ("Cannot parse <option>. ..."), so
//       an operator's search for a Neutron log line finds the same cause.
//
// Every function takes the option's comma-separated items (IniFile::getList) and returns either
// the value or an error whose message names the offending item; the loader adds file:line,
// section and key.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace bwfloor::agent {

// Placement stores inventory totals as 32-bit integers (MAX_INT); a larger total is refused at
// start-up rather than by placement at every sync.
inline constexpr uint64_t kMaxPlacementTotal = 2147483647;

// One "physnet:device" item, in file order.
struct PhysnetMapping {
  std::string physnet;
  std::string device;
  bool operator==(const PhysnetMapping&) const = default;
};

// One direction of resource_provider_bandwidths as configured.
struct BandwidthTotal {
  enum class Kind {
    kUnreported,  // empty field
    kKbps,        // a number; 0 reports no inventory (Neutron's "truthy" rule)
    kAuto,        // "auto": the link speed (Mbit/s * 1000)
  };
  Kind kind = Kind::kUnreported;
  uint64_t kbps = 0;  // kKbps only

  static BandwidthTotal unreported() { return {}; }
  static BandwidthTotal fixed(uint64_t kbps) { return {Kind::kKbps, kbps}; }
  static BandwidthTotal fromLinkSpeed() { return {Kind::kAuto, 0}; }
  bool operator==(const BandwidthTotal&) const = default;
};

struct DeviceBandwidth {
  std::string device;
  BandwidthTotal egress;
  BandwidthTotal ingress;
  bool operator==(const DeviceBandwidth&) const = default;
};

// resource_provider_inventory_defaults. Setting the option replaces the whole default dict (oslo
// DictOpt), so each field is optional: an unset field takes placement's default, except max_unit,
// which defaults to the inventory's total.
struct InventoryDefaults {
  std::optional<double> allocationRatio = 1.0;
  std::optional<int64_t> minUnit = 1;
  std::optional<int64_t> maxUnit;
  std::optional<int64_t> reserved = 0;
  std::optional<int64_t> stepSize = 1;
  bool operator==(const InventoryDefaults&) const = default;
};

// One item of the packet-processing options: the kilo-packets per second the hypervisor's
// switch processes. Without direction only `anyKpps` is read, with direction only the other two;
// unset = not reported (an empty field), 0 reports no inventory (Neutron's "truthy" rule).
struct PacketRateTotal {
  std::string hypervisor;  // "" in the file is replaced by the agent's host
  std::optional<uint64_t> anyKpps;
  std::optional<uint64_t> egressKpps;
  std::optional<uint64_t> ingressKpps;
  bool operator==(const PacketRateTotal&) const = default;
};

inline constexpr const char* kPacketRateWithoutDirection =
    "resource_provider_packet_processing_without_direction";
inline constexpr const char* kPacketRateWithDirection =
    "resource_provider_packet_processing_with_direction";

// oslo DictOpt: "key:value" items split at the first ':', key and value trimmed; an item without
// ':' or a repeated key is an error. File order is kept.
Result<std::vector<std::pair<std::string, std::string>>> parseDictItems(
    const std::vector<std::string>& items);

// bridge_mappings (uniqueDevices and uniquePhysnets) and physical_device_mappings (only
// uniqueDevices: a physnet may map to several PFs). An item needs exactly one ':' with a
// non-empty physnet and a non-empty device that is a valid interface name (1-15 characters, no
// '/', no blanks). A device may carry one physnet only: its provider gets one physnet trait. An
// exact repeat of an item is ignored, as parse_mappings(unique_keys=False) does.
Result<std::vector<PhysnetMapping>> parsePhysnetMappings(const std::vector<std::string>& items,
                                                         bool uniquePhysnets);

// resource_provider_bandwidths (grammar above). Errors: wrong number of fields, empty device
// name, a device listed twice, a rate that is negative, not a whole number or above
// kMaxPlacementTotal.
Result<std::vector<DeviceBandwidth>> parseBandwidths(const std::vector<std::string>& items);

// resource_provider_packet_processing_without_direction (withDirection false: HYPERVISOR:KPPS)
// or _with_direction (HYPERVISOR:EGRESS:INGRESS). `host` replaces the empty hypervisor name.
// Errors, prefixed "Cannot parse <option>. " as neutron-lib does: "Expected a tuple with N
// values, got: ITEM", "Same resource name listed multiple times: \"NAME\"", "Cannot parse string
// value to an integer. Expected: non-negative integer value, got: V", "Found configuration for
// \"HOST\" hypervisor and one without hypervisor name specified that would override it.", and
// (bwfloor's) a rate above kMaxPlacementTotal or a hypervisor name with blanks.
Result<std::vector<PacketRateTotal>> parsePacketRates(const std::vector<std::string>& items,
                                                      bool withDirection, const std::string& host);

// Neutron's refusal when both packet-processing options are set.
std::string packetRateOptionsExclusiveText();

// resource_provider_inventory_defaults. Keys: allocation_ratio (float >= 0), min_unit, max_unit,
// reserved, step_size (integers >= 0). An unknown key, a bad number or min_unit > max_unit is an
// error. No items = the option is set to an empty dict (every field unset).
Result<InventoryDefaults> parseInventoryDefaults(const std::vector<std::string>& items);

// resource_provider_hypervisors: device -> hypervisor name. A hypervisor name must be non-empty
// and contain no ':' (Nova splits provider names on ':').
Result<std::map<std::string, std::string>> parseHypervisors(const std::vector<std::string>& items);

// Checks an interface name as Linux does: 1-15 characters, no '/', ':' or blanks, not "." / "..".
Status validateDeviceName(const std::string& name);

// Checks a hypervisor (root provider) name: non-empty, no ':', no blanks at either end.
Status validateHypervisorName(const std::string& name);

}  // namespace bwfloor::agent
