#include "agent/discovery/host_discovery.h"

#include <algorithm>

namespace bwfloor::agent {

const dataplane::LinkInfo* HostView::findLink(const std::string& name) const {
  const auto it = std::find_if(links.begin(), links.end(),
                               [&](const dataplane::LinkInfo& l) { return l.name == name; });
  return it != links.end() ? &*it : nullptr;
}

const dataplane::LinkInfo* HostView::findLink(int ifindex) const {
  const auto it = std::find_if(links.begin(), links.end(),
                               [&](const dataplane::LinkInfo& l) { return l.ifindex == ifindex; });
  return it != links.end() ? &*it : nullptr;
}

DeviceState ovsBridgeState(const HostView& view, const std::string& bridge) {
  DeviceState state;
  if (!view.ovsBridges) {
    // Degraded: without OVSDB a kernel-datapath bridge still shows as a netlink link.
    if (view.findLink(bridge) != nullptr) {
      state.present = true;
      state.source = "netlink";
    }
    return state;
  }
  const dataplane::OvsBridge* found = dataplane::findBridge(*view.ovsBridges, bridge);
  if (found == nullptr) return state;
  state.present = true;
  state.source = "ovsdb";
  const std::vector<std::string> uplinks = dataplane::uplinkInterfaces(*found);
  uint64_t sum = 0;
  for (const auto& uplink : uplinks) {
    const auto* link = view.findLink(uplink);
    if (link == nullptr || !link->speedMbps) return state;  // one unknown: the sum is unknown
    sum += *link->speedMbps;
  }
  if (!uplinks.empty()) state.speedMbps = sum;
  return state;
}

DeviceState nicState(const HostView& view, const std::string& device) {
  DeviceState state;
  if (const auto* link = view.findLink(device)) {
    state.present = true;
    state.source = "netlink";
    state.speedMbps = link->speedMbps;
  }
  return state;
}

std::map<std::string, std::vector<std::string>> linuxBridges(const HostView& view) {
  std::map<std::string, std::vector<std::string>> bridges;
  for (const auto& link : view.links) {
    if (link.kind == "bridge") bridges[link.name];
  }
  for (const auto& link : view.links) {
    if (!link.masterIfindex) continue;
    const auto* master = view.findLink(*link.masterIfindex);
    if (master != nullptr && master->kind == "bridge") bridges[master->name].push_back(link.name);
  }
  for (auto& [name, ports] : bridges) std::sort(ports.begin(), ports.end());
  return bridges;
}

Result<HostView> HostDiscovery::discover() {
  HostView view;
  ASSIGN_OR_RETURN(view.links, links_.listLinks());
  if (ovs_ == nullptr) {
    view.ovsdbError = "no OVSDB connection configured";
    return view;
  }
  auto bridges = ovs_->readBridges();
  if (bridges) {
    view.ovsBridges = std::move(*bridges);
  } else {
    view.ovsdbError = bridges.error().toString();
  }
  return view;
}

}  // namespace bwfloor::agent
