#pragma once
// What the host has: its links (netlink, with speed, Linux-bridge membership through the master
// ifindex, SR-IOV VFs) and its Open vSwitch bridges (OVSDB). The agent compares configured
// devices against this view: present or missing, and the speed that "auto" totals use.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "dataplane/api/link_source.h"
#include "dataplane/ovs/ovs_bridge.h"

namespace bwfloor::agent {

struct HostView {
  std::vector<dataplane::LinkInfo> links;
  // Unset when OVSDB could not be read (degraded: OVS bridges then come from netlink only).
  std::optional<std::vector<dataplane::OvsBridge>> ovsBridges;
  std::string ovsdbError;  // why ovsBridges is unset

  const dataplane::LinkInfo* findLink(const std::string& name) const;
  const dataplane::LinkInfo* findLink(int ifindex) const;
};

// A configured device as found on the host.
struct DeviceState {
  bool present = false;
  std::optional<uint64_t> speedMbps;  // known link speed (an OVS bridge: sum of its uplinks)
  std::string source;                 // "ovsdb", "netlink" or "" when missing
  bool operator==(const DeviceState&) const = default;
};

// An OVS bridge: present when OVSDB has it (or, OVSDB unreadable, when netlink shows a link of
// that name). Its speed is the sum of its uplinks' (system interfaces) speeds, known only when
// every uplink's speed is.
DeviceState ovsBridgeState(const HostView& view, const std::string& bridge);
// A NIC / SR-IOV PF: present when netlink shows it; its ethtool speed.
DeviceState nicState(const HostView& view, const std::string& device);

// Linux bridges (kind "bridge") and the names of their ports (links whose master it is), sorted.
std::map<std::string, std::vector<std::string>> linuxBridges(const HostView& view);

// Reads the links (must succeed) and the OVS bridges (may fail: recorded, not an error).
class HostDiscovery {
 public:
  // `ovs` may be null: no OVS bridges are read.
  HostDiscovery(dataplane::LinkSource& links, dataplane::OvsBridgeSource* ovs)
      : links_(links), ovs_(ovs) {}
  Result<HostView> discover();
  void setOvsSource(dataplane::OvsBridgeSource* ovs) { ovs_ = ovs; }

 private:
  dataplane::LinkSource& links_;
  dataplane::OvsBridgeSource* ovs_;
};

}  // namespace bwfloor::agent
