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
  bool operator==(const PortIdentity&) const = default;
};

struct QosSpec {
  PortIdentity port;
  Kbps minEgress{0};              // from the VM's point of view: VM -> network
  Kbps minIngress{0};             // network -> VM
  std::optional<Kbps> maxEgress;  // bandwidth_limit; the class ceiling when set
  std::optional<Kbps> maxIngress;

  bool operator==(const QosSpec&) const = default;
};

// The floor of unguaranteed traffic on a device (HTB's default class, OVS's queue 0), which counts
// against the device's total: 1 Mbit/s, but at most 5% of the total (the scenario's 1500 kbit/s
// bridge: 75 kbit/s), and never below 8 kbit/s. Small enough that the minimums placement may hand
// out (the whole total) still fit beside it with 5% to spare on small links, large enough that
// unguaranteed traffic (ARP, DHCP, a new VM's first packets) is never starved for good.
Kbps unguaranteedFloor(Kbps total);

// OVS userspace datapath with kernel (AF_PACKET) ports: ovs-vswitchd forwards every frame on its
// own CPU, and once the offered load exceeds what it forwards, its receive sockets drop frames
// per port, before any queue, so a guarantee cannot hold whatever HTB or OVS queues say. Measured
// on the 2-core build machine (bench/fidelity/RESULTS.md): it forwarded between 388 and 980
// Mbit/s depending on the run; every guarantee held at 100 Mbit/s (both backends) and at 500
// (HTB, when it forwarded 478), none at 1 Gbit/s (the port got 79 % of its minimum, as much as
// without a guarantee). The default stays below the lowest forwarding rate seen, 388 Mbit/s.
// Bridges whose egress total exceeds `max` are placement-only; `[ovs]
// userspace_datapath_max_kbps` sets `max` for a host whose forwarding rate was measured (0: no
// limit).
inline constexpr uint64_t kUserspaceDatapathMaxKbps = 300000;
// Why a userspace-datapath bridge with this egress total cannot be enforced, or nullopt.
std::optional<std::string> userspaceDatapathLimit(const std::string& bridge, Kbps total, Kbps max);

// One-line description for logs: "port=… mac=… dev=… min_egr_kbps=… min_igr_kbps=…".
std::string describe(const QosSpec& spec);

}  // namespace bwfloor::dataplane
