#pragma once
// Open vSwitch bridges as the agent sees them: the Bridge -> Port -> Interface rows of the
// Open_vSwitch database, read by OvsdbBridgeReader (ovsdb_bridge_reader.h). Pure data and logic:
// bwfloor_dataplane_ovs_model links no libopenvswitch, so agent logic and its tests can use it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane {

struct OvsInterface {
  std::string name;
  std::string type;  // "" = system (a kernel netdev), "internal", "patch", "vxlan", "dpdk", ...
  std::string peer;  // options:peer, set for type "patch"; "" otherwise
  std::optional<int64_t> ofport;  // set by ovs-vswitchd; unset before it has seen the interface

  bool operator==(const OvsInterface&) const = default;
};

struct OvsPort {
  std::string name;
  std::vector<OvsInterface> interfaces;  // one, or several for a bond; sorted by name

  bool operator==(const OvsPort&) const = default;
};

struct OvsBridge {
  std::string name;
  std::string datapathType;    // "" or "system" = kernel datapath, "netdev" = userspace (DPDK)
  std::vector<OvsPort> ports;  // sorted by name

  bool operator==(const OvsBridge&) const = default;
};

// Where the agent learns the OVS topology. OvsdbBridgeReader reads ovsdb-server; tests use a fake.
class OvsBridgeSource {
 public:
  virtual ~OvsBridgeSource() = default;
  // Every bridge of the Open_vSwitch database, sorted by name.
  virtual Result<std::vector<OvsBridge>> readBridges() = 0;
};

// True for the interface types OVS backs with an existing kernel netdev: "" and its alias
// "system". Not "internal" (created by OVS), "patch", tunnels, "dpdk", "afxdp" or "tap".
bool isSystemInterfaceType(std::string_view type);

// The bridge's uplinks: names of its system-type interfaces (bond members included), in port
// order, except the bridge's own local port (named like the bridge). On a physical bridge
// (br-ex, br-eth1) these are the NICs that carry its traffic.
std::vector<std::string> uplinkInterfaces(const OvsBridge& bridge);

// The bridge named `name`, or nullptr.
const OvsBridge* findBridge(const std::vector<OvsBridge>& bridges, std::string_view name);

}  // namespace bwfloor::dataplane
