#pragma once
// OvsQueueBackend's classification half: u32 filters (and, on the userspace datapath, short leaf
// queues) that bwfloor adds to the HTB qdisc ovs-vswitchd creates on an uplink for a linux-htb
// QoS. Internal to dataplane/ovs; pure logic over tc::TcApi.
//
// Why filters and not OpenFlow set_queue. set_queue makes the kernel datapath set skb->priority to
// 1:<N+1>, which HTB honours before it runs any filter; the userspace (netdev) datapath keeps the
// queue id in its packet metadata and sends through an AF_PACKET socket that never sets
// skb->priority, so every frame lands in HTB's default class 1:1 (measured on the rig: a set_queue
// flow matching the VM's MAC counted every packet while class 1:<N+1> counted none). HTB runs the
// filters attached to its qdisc for frames whose priority names no class, i.e. on both datapaths,
// so bwfloor classifies with a u32 match on the source MAC (frames from a VM leave a flat/VLAN
// uplink with the VM's MAC), flowid 1:<N+1>: the same filter layout and port tag as HtbBackend
// (tc/htb_layout.h: hash table 10: on the last MAC byte, node id = class minor), which makes the
// port id readable back from the kernel too. One mechanism on both datapaths, no OpenFlow
// connection, and nothing in the flow tables that a controller's resync would wipe. (A frame whose
// skb->priority already names an HTB class, e.g. from another agent's set_queue flow, keeps that
// class; bwfloor installs none.) Tunnelled traffic leaves with the host's MAC and is not
// classified: as in Neutron, OVS minimums apply to flat and VLAN networks. Both datapaths are
// tested: the userspace one on the build machine, the kernel one in the vf-vm rig (Debian's 6.1
// kernel, tests/integration/ovs/ovs_queue_contention_test.cpp), where a set_queue flow and the
// u32 filter each put A's frames into its class (36 MB in 2 s either way) and the guaranteed
// port got 86-88 Mbit/s of 100 against 8 streams.
//
// Order matters: the kernel refuses to delete an HTB class that a filter is bound to ("HTB class
// in use", EBUSY), and a filter is bound when its class exists as it is added, which is always
// the case here (ovs-vswitchd makes the class, then bwfloor the filter). So a port's filters go
// before its queue does; otherwise ovs-vswitchd fails to delete the class and keeps it until its
// next reconfiguration.
//
// Userspace datapath only: ovs-vswitchd sends every frame for every port through one non-blocking
// AF_PACKET socket, and a queued frame stays charged to that socket's send buffer (212992 bytes
// by default, ~92 full-size frames) until it leaves the HTB. With HTB's default leaf queues
// (txqueuelen = 1000 packets each) one backlogged class fills the buffer and ovs-vswitchd's sends
// fail with EAGAIN for all classes alike: the guaranteed port loses frames it was promised
// (contention rig, 60 Mbit/s guaranteed: 1 and 27 Mbit/s without leaves). So every class gets a
// short pfifo leaf, sized exactly as HtbBackend sizes its own (tc/htb_layout.h: the default queue
// 1/8 of the frames the buffer holds, a port's queue half of them times its share of the total,
// at least 3), so that all leaves together stay within the buffer. (A fixed 16 packets per class,
// the first version, filled the buffer with five backlogged classes.) Production userspace
// datapaths use DPDK ports, which are no kernel devices and get no linux-htb at all. On the
// kernel datapath there is no such shared socket and HTB's default leaves stay.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "dataplane/tc/htb_layout.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane {

// The handle of the pfifo bwfloor puts under class 1:<minor>: 0x1000 + minor (unique per device,
// derived, so it is found without a lookup).
constexpr uint32_t ovsLeafHandle(uint32_t minor) { return tc::makeHandle(0x1000 + minor, 0); }

// What one uplink's kernel holds, as far as bwfloor cares.
struct UplinkTcState {
  std::string dev;
  bool present = false;                      // the device exists
  bool htb = false;                          // root qdisc "htb 1:" (made by ovs-vswitchd)
  std::map<uint32_t, tc::HtbClass> classes;  // major 1, by minor
  std::map<uint32_t, tc::Qdisc> leaves;      // explicit leaf qdiscs, by class minor
  bool hashTable = false;
  std::optional<tc::U32Filter> linkFilter;
  std::multimap<std::string, tc::U32Filter> portFilters;  // tagged filters, by port id
};

Result<UplinkTcState> readUplink(tc::TcApi& api, const std::string& dev);

// The pfifo lengths under a port's class and the default class 1:1; 0 = HTB's own leaves.
struct LeafPackets {
  uint32_t port = 0;
  uint32_t defaultQueue = 0;
};

// Why the port's frames on `dev` are not classified into class 1:<minor> (with the leaves
// `leaves` asks for), or nullopt when they are.
std::optional<std::string> classificationProblem(const UplinkTcState& state,
                                                 const std::string& portId,
                                                 const tc::MacAddress& mac, uint32_t minor,
                                                 LeafPackets leaves);

// Each function compares with `state`, changes only what differs, logs every change at info and
// keeps `state` up to date. kUnavailable when ovs-vswitchd has not (yet) made the qdisc or class.
Status ensurePortClassified(tc::TcApi& api, UplinkTcState& state, const std::string& portId,
                            const tc::MacAddress& mac, uint32_t minor);
Status ensureLeaf(tc::TcApi& api, UplinkTcState& state, uint32_t minor, uint32_t packets);
Status removePortFilters(tc::TcApi& api, UplinkTcState& state, const std::string& portId);
// Removes tagged filters whose port has no queue (`wanted`: port id -> class minor) or points
// elsewhere.
Status removeStrayFilters(tc::TcApi& api, UplinkTcState& state,
                          const std::map<std::string, uint32_t>& wanted);

}  // namespace bwfloor::dataplane
