#pragma once
// What OvsQueueBackend writes into OVSDB, as pure functions over a snapshot (OvsQosTables): the
// row tags, the rates, queue numbering, and the plans (lists of OvsdbOp) for program and remove.
//
// Per physical bridge (a device of resource_provider_bandwidths), bwfloor keeps:
//
//   QoS    type=linux-htb  other_config:max-rate=<device total, bit/s>
//          external_ids:bwfloor-bridge=<bridge>
//          queues={0: default queue, N: one queue per guaranteed port}
//   Queue  (N = 0, the default queue: every frame no filter classifies)
//          other_config:min-rate=<default floor> max-rate=<total> burst=<bits>
//          external_ids:bwfloor-bridge=<bridge> bwfloor-role=default
//   Queue  (N >= 15, one per port)
//          other_config:min-rate=<min egress> max-rate=<max egress, or the total> burst=<bits>
//          external_ids:bwfloor-bridge=<bridge> bwfloor-port-id=<uuid> bwfloor-mac=<mac>
//                       [bwfloor-min-ingress-kbps=<n>: recorded, not enforced]
//   Port   qos=<that QoS> on every uplink port of the bridge (ports with a system interface)
//
// ovs-vswitchd turns this into "tc qdisc add dev <uplink> root handle 1: htb default 1", the root
// class 1:fffe (rate = ceil = QoS max-rate) and one class 1:<N+1> per queue (rate = min-rate,
// ceil = max-rate). Queue 0 must exist: HTB sends frames for a missing default class directly,
// around the root's rate, which would take the link from the guaranteed ports.
//
// burst: HtbBackend's bucket (tc/htb_layout.h htbBurstBytes: 1 ms at the rate, at least 64 KiB),
// in bits. Left out, ovs-vswitchd gives every class a bucket of MTU + 64 bytes: a class then
// loses its tokens whenever HTB dequeues late (a busy host, timer slack) and a guaranteed port
// falls short of its rate (contention rig on a busy host, 60 Mbit/s guaranteed: 43, 63 and
// 69 Mbit/s in three runs with OVS's bucket, 65-74 in every run with these).
//
// Queue numbers: N = minor - 1 where minor is HtbBackend's class-minor allocation for the port id
// (tc/htb_layout.h allocatePortMinor: [0x10, 0xfff], derived from the port id, first free). So
// the class is 1:minor and the u32 filter that classifies the port's MAC (ovs_queue_backend.h)
// has the same handle scheme as HtbBackend's. (Neutron numbers queues by the br-int ofport; bwfloor
// does not need the ofport and keeps numbers stable across VM port re-plugs.)

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "dataplane/ovs/ovsdb_qos_api.h"

namespace bwfloor::dataplane {

inline constexpr const char* kOvsTagBridge = "bwfloor-bridge";
inline constexpr const char* kOvsTagPortId = "bwfloor-port-id";
inline constexpr const char* kOvsTagMac = "bwfloor-mac";
inline constexpr const char* kOvsTagRole = "bwfloor-role";
inline constexpr const char* kOvsRoleDefault = "default";
inline constexpr const char* kOvsTagMinIngressKbps = "bwfloor-min-ingress-kbps";
inline constexpr const char* kOvsQosType = "linux-htb";
inline constexpr int64_t kOvsDefaultQueue = 0;
// linux-htb keeps rates as 32-bit bytes/s: 4294967295 B/s = 34359738360 bit/s.
inline constexpr uint64_t kOvsHtbMaxKbps = 34359738;

constexpr uint32_t ovsClassMinor(int64_t queue) { return static_cast<uint32_t>(queue + 1); }

struct OvsQueueBridgeConfig {
  std::string bridge;  // a physical bridge of bridge_mappings
  Kbps egressTotal;    // its egress inventory: QoS max-rate and every queue's default ceiling
};

// One guaranteed port, validated.
struct OvsPortQueueSpec {
  std::string portId;  // canonical UUID
  std::string mac;     // lower case
  std::string bridge;
  Kbps minEgress;
  Kbps ceilEgress;  // max egress, or the bridge total
  Kbps minIngress;  // recorded in a tag only
};

// "60000000" (bit/s) for 60000 kbit/s; reading back rounds up to whole kbit/s.
std::string ovsBitsPerSec(Kbps rate);
std::optional<Kbps> parseOvsBitsPerSec(const std::string& text);

// A bridge as bwfloor sees it in one snapshot.
struct OvsBridgeQos {
  const OvsdbBridgeRow* bridge = nullptr;
  std::vector<const OvsdbPortRow*> uplinks;   // ports with a system interface (not the local port)
  const OvsdbQosRow* qos = nullptr;           // bwfloor's QoS row of the bridge, if any
  std::map<std::string, int64_t> portQueues;  // port id -> queue number, in `qos`
  std::optional<int64_t> defaultQueue;        // queue 0, when it holds bwfloor's default queue
};

// The bridge's uplinks and bwfloor's QoS row: the one an uplink references, else the first
// tagged for the bridge. A port with two queues keeps the lower number.
OvsBridgeQos viewBridge(const OvsQosTables& tables, const std::string& bridge);
// The system interfaces (kernel netdevs) of an uplink port: where the HTB lives.
std::vector<std::string> uplinkDevices(const OvsBridgeQos& view);

// The Queue rows' contents bwfloor wants.
OvsdbMap defaultQueueConfig(const OvsQueueBridgeConfig& bridge, Kbps defaultRate);
OvsdbMap portQueueConfig(const OvsPortQueueSpec& port);
OvsdbMap portQueueTags(const OvsPortQueueSpec& port);

// Makes `port` hold a queue on its bridge (creating the QoS and the default queue on first use,
// attaching the QoS to every uplink port, repairing rates and tags that differ) and removes its
// queues from the other configured bridges. Empty when everything is already as wanted.
// kNotFound: the bridge or its uplink is missing; kConflict: an uplink port holds a QoS bwfloor
// does not manage; kUnavailable: no free queue number.
Result<std::vector<OvsdbOp>> planProgram(const OvsQosTables& tables,
                                         const std::vector<OvsQueueBridgeConfig>& bridges,
                                         Kbps defaultRate, const OvsPortQueueSpec& port);

// Removes every queue of `portId` from the configured bridges' QoS rows (and deletes the rows);
// when a QoS has no port queue left, detaches it from every port and deletes it with its default
// queue. Also deletes bwfloor Queue rows that no QoS references. Empty when there is nothing.
std::vector<OvsdbOp> planRemove(const OvsQosTables& tables,
                                const std::vector<OvsQueueBridgeConfig>& bridges,
                                const std::string& portId);

}  // namespace bwfloor::dataplane
