#pragma once
// What a guaranteed port needs from the data plane, independent of the backend that enforces it.

#include <cstdint>
#include <optional>
#include <string>

#include "core/units.h"

namespace bwfloor::dataplane {

// Which port the guarantee is for. The backend uses whichever identity it can classify on:
// HTB and OVS classify by MAC, SR-IOV by VF index (or MAC to find the VF).
struct PortIdentity {
  std::string portId;  // the bwfloor/Neutron port uuid; tags kernel and OVSDB objects
  std::string mac;     // "fa:16:3e:00:00:01", lower case
  std::string device;  // uplink device the guarantee is enforced on (NIC, bridge uplink, PF)
  std::optional<int> vfIndex;  // SR-IOV only
};

struct QosSpec {
  PortIdentity port;
  Kbps minEgress{0};              // from the VM's point of view: VM -> network
  Kbps minIngress{0};             // network -> VM
  std::optional<Kbps> maxEgress;  // bandwidth_limit; the class ceiling when set
  std::optional<Kbps> maxIngress;

  bool operator==(const QosSpec&) const = default;
};

// One-line description for logs: "port=… mac=… dev=… min_egr_kbps=… min_igr_kbps=…".
std::string describe(const QosSpec& spec);

}  // namespace bwfloor::dataplane
