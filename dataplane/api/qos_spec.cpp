#include "dataplane/api/qos_spec.h"

#include <algorithm>
#include <sstream>

namespace bwfloor::dataplane {

std::string describe(const QosSpec& spec) {
  std::ostringstream out;
  out << "port=" << spec.port.portId << " mac=" << spec.port.mac << " dev=" << spec.port.device;
  if (spec.port.vfIndex) out << " vf=" << *spec.port.vfIndex;
  out << " min_egr_kbps=" << spec.minEgress.kbps() << " min_igr_kbps=" << spec.minIngress.kbps();
  if (spec.maxEgress) out << " max_egr_kbps=" << spec.maxEgress->kbps();
  if (spec.maxIngress) out << " max_igr_kbps=" << spec.maxIngress->kbps();
  return out.str();
}

std::optional<std::string> userspaceDatapathLimit(const std::string& bridge, Kbps total, Kbps max) {
  if (max.isZero() || total <= max) return std::nullopt;
  return "OVS userspace datapath bridge " + bridge + ": its egress total " + total.toString() +
         " exceeds [ovs] userspace_datapath_max_kbps " + max.toString() +
         ", above which ovs-vswitchd's forwarding, not a queue, decides who gets through";
}

Kbps unguaranteedFloor(Kbps total) {
  constexpr uint64_t kFloorKbps = 1000;
  constexpr uint64_t kSmallestKbps = 8;
  return Kbps(std::min(kFloorKbps, std::max(kSmallestKbps, total.kbps() / 20)));
}

}  // namespace bwfloor::dataplane
