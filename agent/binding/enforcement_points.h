#pragma once
// Where each bandwidth device of this host has its guarantees enforced. Computed by the report
// loop from the desired provider tree and the last discovery (pure), published on an
// EnforcementBoard, read by the binding loop's thread.
//
//   Open vSwitch agent, bridge B  -> HTB on B's single uplink (its system-type interface), root
//                                    rates = B's reported egress / ingress totals (Neutron's
//                                    topology: VM ports reach the uplink through br-int and a
//                                    patch port, so the uplink carries every VM's traffic)
//   NIC Switch agent, PF P         -> VfRateBackend: min_tx_rate on P's VF with the port's MAC
//   ... with [ovs] qos_backend = ovs -> OvsQueueBackend: a linux-htb QoS on the uplink port with
//                                    one Queue per port (given the bridge; ingress placement-only)
//   anything else                 -> no backend; bindings there are "placement-only (why)"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "agent/discovery/host_discovery.h"
#include "agent/report/provider_tree.h"
#include "core/units.h"
#include "dataplane/api/qos_spec.h"

namespace bwfloor::agent {

struct EnforcementPoint {
  std::string backend;  // QosBackend::name() that enforces here, "" for none
  std::string uplink;   // the device the backend programs
  Kbps egressTotal{0};
  Kbps ingressTotal{0};       // 0: no ingress enforcement on this device
  std::string whyNot;         // when backend is "": the reason operators see
  std::string ingressWhyNot;  // when ingressTotal is 0 although placement has an ingress total
  // The uplink's frames come from one socket shared by every port (an OVS userspace datapath
  // bridge): HTB needs short leaves sized to that socket's send buffer (tc/htb_layout.h).
  bool sharedSender = false;
  // The device's resource provider (uuid5, minted by this agent): a binding names its device by
  // the provider its allocation is on, not by a name to parse back.
  std::string providerUuid;
  bool operator==(const EnforcementPoint&) const = default;
};

// By (agent type as in provider names, device): ("Open vSwitch agent", "br-test").
using PointKey = std::pair<std::string, std::string>;
using EnforcementPoints = std::map<PointKey, EnforcementPoint>;

// The point a backend enforces on `uplink` (where a binding status says it is), or nullptr.
const EnforcementPoint* findPoint(const EnforcementPoints& points, const std::string& uplink,
                                  const std::string& backend);

// `ovsBackend`: "htb" (HtbBackend on the bridge's uplink) or "ovs" (OvsQueueBackend, which is
// given the bridge and finds the uplink itself). A userspace-datapath bridge whose egress total
// exceeds `userspaceMax` (0: no limit) is placement-only (dataplane/api/qos_spec.h).
EnforcementPoints computeEnforcementPoints(
    const ProviderTree& tree, const HostView& view, const std::string& ovsBackend = "htb",
    Kbps userspaceMax = Kbps(dataplane::kUserspaceDatapathMaxKbps));

// The hand-over between the report loop (publishes after each discovery) and the binding loop.
class EnforcementBoard {
 public:
  // Bumps the version only when the points changed.
  void publish(EnforcementPoints points);
  // {version, points}; version 0 = nothing published yet.
  std::pair<uint64_t, EnforcementPoints> snapshot() const;
  // Blocks until something is published or the timeout passes; true when published.
  bool waitPublished(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable published_;
  uint64_t version_ = 0;
  EnforcementPoints points_;
};

}  // namespace bwfloor::agent
