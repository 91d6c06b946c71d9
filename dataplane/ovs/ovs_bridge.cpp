#include "dataplane/ovs/ovs_bridge.h"

#include <algorithm>

namespace bwfloor::dataplane {

bool isSystemInterfaceType(std::string_view type) { return type.empty() || type == "system"; }

std::vector<std::string> uplinkInterfaces(const OvsBridge& bridge) {
  std::vector<std::string> uplinks;
  for (const OvsPort& port : bridge.ports) {
    for (const OvsInterface& iface : port.interfaces) {
      if (isSystemInterfaceType(iface.type) && iface.name != bridge.name) {
        uplinks.push_back(iface.name);
      }
    }
  }
  return uplinks;
}

const OvsBridge* findBridge(const std::vector<OvsBridge>& bridges, std::string_view name) {
  auto it = std::find_if(bridges.begin(), bridges.end(),
                         [name](const OvsBridge& bridge) { return bridge.name == name; });
  return it == bridges.end() ? nullptr : &*it;
}

}  // namespace bwfloor::dataplane
