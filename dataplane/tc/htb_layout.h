#pragma once
// The shape of what HtbBackend programs, as pure functions (no kernel, no state): class and filter
// handles, the u32 keys that match a MAC, the port tag, HTB rates/buckets/quanta, the IFB name.
//
// One tree per direction and uplink: the uplink's own root qdisc for egress (classified on the
// source MAC: frames from the VM leave the uplink with src = port MAC) and an IFB device's root
// qdisc for ingress (classified on the destination MAC; the uplink's ingress qdisc redirects every
// frame to the IFB with mirred). Each tree:
//
//   qdisc htb 1: default 2, r2q 10
//   class 1:1   rate = ceil = device total                      (the root: caps the device)
//   class 1:2   rate = default floor, ceil = total              (everything unguaranteed)
//   class 1:N   rate = port min, ceil = port max or total       (N in [0x10, 0xfff], one per port)
//   filter u32 prio 10 protocol all:
//     10:      hash table, 256 buckets
//     800::800 match all, link 10:, bucket = last byte of the MAC
//     10:B:N   (B = last MAC byte, N = the port's class minor) MAC match, flowid 1:N, port tag
//
// Why u32 with a hash table: flower and matchall are not built into this kernel, u32 is. Hashing on
// the last MAC byte keeps the per-packet cost at a handful of nodes even with thousands of ports.
// Why node id == class minor: the handle of every port filter follows from (MAC, minor), so it is
// found, changed and deleted without a lookup, and minors unique per device make it collision-free.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "core/uuid.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane::tc {

using MacAddress = std::array<uint8_t, 6>;

// "fa:16:3e:00:00:01" (any case) -> bytes; kInvalidArgument names the text.
Result<MacAddress> parseMac(std::string_view text);
std::string formatMac(const MacAddress& mac);  // lower case

// --- tree layout ------------------------------------------------------------------------------
inline constexpr uint32_t kHtbMajor = 1;
inline constexpr uint32_t kHtbQdiscHandle = makeHandle(kHtbMajor, 0);
inline constexpr uint32_t kRootClassMinor = 1;
inline constexpr uint32_t kDefaultClassMinor = 2;
inline constexpr uint32_t kFirstPortMinor = 0x10;
inline constexpr uint32_t kLastPortMinor = 0xfff;  // u32 node ids are 12 bits
inline constexpr uint32_t kPortMinorCount = kLastPortMinor - kFirstPortMinor + 1;
inline constexpr uint16_t kFilterPrio = 10;
inline constexpr uint32_t kPortHtid = 0x10;  // the 256-bucket table of port filters, "10:"
inline constexpr uint32_t kPortBuckets = 256;
inline constexpr uint32_t kLinkFilterHandle = makeU32Handle(kU32RootHtid, 0, 0x800);
inline constexpr uint32_t kRedirectFilterHandle = makeU32Handle(kU32RootHtid, 0, 0x800);

constexpr bool isPortMinor(uint32_t minor) {
  return minor >= kFirstPortMinor && minor <= kLastPortMinor;
}

// Egress classifies on the source MAC, ingress (on the IFB) on the destination MAC.
enum class MacField { kSource, kDestination };

// Two keys: the 4-byte word that holds most of the MAC, then the 2 remaining bytes. Offsets are
// 4-byte aligned relative to the network header (as tc itself packs them), so `tc filter show`
// prints them and the same filter could be typed by hand:
//   src MAC (bytes 6..11):  word at -8 mask ffffffff, word at -4 mask ffff0000
//   dst MAC (bytes 0..5):   word at -16 mask 0000ffff (bytes 0,1), word at -12 mask ffffffff
std::vector<U32Key> macKeys(const MacAddress& mac, MacField field);
// The MAC the keys of a filter match, when they are exactly macKeys(mac, field).
std::optional<MacAddress> macFromKeys(const std::vector<U32Key>& keys, MacField field);

// The hash (bucket) selector of the link node: the last byte of the MAC.
struct HashSelector {
  int16_t offset;
  uint32_t mask;
};
HashSelector macHashSelector(MacField field);
constexpr uint32_t macBucket(const MacAddress& mac) { return mac[5]; }

// --- port tag ---------------------------------------------------------------------------------
// The port id lives in the kernel, inside the port's own filter: a header key (value 0x62770101,
// "bw", kind 1, version 1) and the UUID's 16 bytes as four keys, all with mask 0. A key with mask 0
// matches every packet, so the tag never changes classification, and it is only evaluated for
// packets that already matched the MAC keys before it. The kernel keeps key values verbatim and
// dumps them back, so observe() recovers port id -> MAC -> classid from one object per port, after
// any restart, with no state file. (The obvious carrier, an action cookie, needs an action: gact is
// not built into this kernel, and a mirred action would copy or steal the packet.) The tag keys
// read the same offset as the MAC keys, a word the kernel has already fetched successfully.
inline constexpr uint32_t kTagHeaderPort = 0x62770101;
inline constexpr uint32_t kTagHeaderRedirect = 0x62770201;  // the ingress -> IFB redirect
std::vector<U32Key> portTagKeys(const Uuid& portId, int32_t offset);
std::optional<Uuid> portFromTag(const std::vector<U32Key>& keys);
bool hasRedirectTag(const std::vector<U32Key>& keys);

// --- filters ----------------------------------------------------------------------------------
U32Filter portHashTable();
U32Filter macLinkFilter(MacField field);
U32Filter portFilter(const Uuid& portId, const MacAddress& mac, MacField field, uint32_t minor);
// On the uplink's ingress qdisc: every frame -> mirred egress redirect to the IFB.
U32Filter redirectFilter(int ifbIfindex);

// --- classes ----------------------------------------------------------------------------------
// Buckets: 1 ms at the class's rate, at least 64 KiB. HTB charges a whole skb at once, and on
// devices with GSO/TSO one skb is up to 64 KiB; a bucket smaller than that makes a class flip
// between "can send" and "must borrow" on every segment, which costs a guaranteed class its
// priority over borrowers. 1 ms bounds the burst above rate at high speeds.
uint32_t htbBurstBytes(uint64_t rateBytesPerSec);
// Quantum: rate / r2q (10), clamped to [1600, 200000] and always set explicitly, so the kernel
// never computes one itself and never warns "quantum of class X is big/small". Borrowed (excess)
// bandwidth is shared in proportion to the quantum, i.e. roughly to the guarantees.
uint32_t htbQuantumBytes(uint64_t rateBytesPerSec);

// The many-guarantees case these parameters are checked against (tests/integration/fidelity:
// 20 ports of 1 to 20 Mbit/s, 90 of a 100 Mbit/s uplink, each with 1 stream, against 8 bulk
// streams; every port kept >= 97 % of its minimum in goodput):
// - default class: rate = dataplane::unguaranteedFloor(total) = 1 Mbit/s, ceil = total. The rates
//   add up to 91 <= 100, so HTB can give every class its rate at once; unguaranteed traffic may
//   still take whatever is idle.
// - quantum: rate / 10, from 12,500 bytes (1 Mbit/s) to 200,000 (clamped from 250,000 at
//   20 Mbit/s). The 9 Mbit/s nobody is guaranteed are lent in proportion to the quanta, i.e.
//   roughly to the minimums; every quantum is at least one 1514-byte frame, which HTB's deficit
//   round robin needs to send a frame per turn.
// - burst: 64 KiB for every class there (1 ms at 20 Mbit/s is only 2.5 kB): a class back from
//   idle may send 64 KiB (5 ms of the link) ahead of its rate, which moves no long-run share.
// - leaves (userspace datapath): see "leaf queues" above; 77 of the 92 frames ovs-vswitchd's send
//   buffer holds when all 21 classes are backlogged.
Qdisc htbQdisc();
HtbClass htbClass(uint32_t minor, uint32_t parentMinor, Kbps rate, Kbps ceil);
HtbClass rootClass(Kbps total);
HtbClass defaultClass(Kbps floor, Kbps total);

// --- leaf queues when the uplink's sender is one shared socket (OVS userspace datapath) ---------
// ovs-vswitchd's userspace datapath sends every frame, for every port of every bridge, through one
// non-blocking AF_PACKET socket (lib/netdev-linux.c, af_packet_sock()), and a frame waiting in
// the uplink's HTB stays charged to that socket's send buffer (net.core.wmem_default when
// ovs-vswitchd started: 212992 bytes) until it leaves. Under HTB's default leaves (pfifo of
// txqueuelen = 1000 frames each) the backlogged default class alone fills the buffer (it holds
// ~92 full-size frames); from then on the socket refuses every frame with EAGAIN, whatever its
// class, before classification, and ovs-vswitchd drops it ("error sending Ethernet packet on
// UPLINK: Resource temporarily unavailable"). No class drops anything, and the neighbour with
// more streams wins. Measured on the OVS rig: a port guaranteed 60 of 100 Mbit/s got 15.8
// against 8 streams, while ovs-vswitchd logged ~100,000 failed sends and no class a drop.
//
// So on such an uplink every class gets a short pfifo leaf, sized so that all leaves together
// stay within the buffer and a class that sends more than it gets overflows its own leaf: its
// own TCP backs off, nobody else's frames are refused.
//   frames  = buffer / frameTruesize(mtu)          what the buffer holds
//   default = max(kMinLeafPackets, frames / 8)      unguaranteed traffic of every port
//   port    = max(kMinLeafPackets, frames / 2 * min / total)
// Placement never lets the minimums exceed the total, so the ports' leaves add up to at most
// half the buffer plus the floors; the remaining 3/8 is headroom for the floors of small ports
// and for frames in flight to other devices (20 ports of 1..20 Mbit/s, 90 of 100 Mbit/s, all
// backlogged at once: 77 of 92 frames). A port's leaf holds frames / 2 * 1514 * 8 / total
// seconds at its own rate (~5.6 ms at the default buffer and 100 Mbit/s), the same for every
// port, which is well above the round trip through the rig. The floor of 3 frames keeps a slow
// port's TCP stream able to grow a window past a loss; with a floor of 4 the 20-port case above
// would need 96 frames, more than the buffer holds. About 27 small ports backlogged at once fill
// the buffer again; HtbBackend logs `op=sender-buffer-overcommitted` when its leaves add up to
// more than the buffer. One socket serves all of ovs-vswitchd's uplinks: the agent gives each
// uplink its share.
inline constexpr uint32_t kMinLeafPackets = 3;
inline constexpr uint32_t kLeafMajorBase = 0x1000;
// The pfifo under class 1:<minor>: handle (0x1000 + minor):0, derived, so found without a lookup.
constexpr uint32_t leafQdiscHandle(uint32_t minor) { return makeHandle(kLeafMajorBase + minor, 0); }
// What the kernel charges a socket for one frame of `mtu` sent through AF_PACKET (packet_snd):
// the frame, link header, reserve and skb_shared_info from a power-of-two kmalloc cache, plus
// the sk_buff itself (2304 bytes for MTU 1500). mtu 0 counts as 1500.
uint32_t frameTruesize(uint32_t mtu);
// Full-size frames that fit in `bufferBytes`.
uint32_t framesInBuffer(uint64_t bufferBytes, uint32_t mtu);
uint32_t defaultLeafPackets(uint32_t frames);
uint32_t portLeafPackets(uint32_t frames, Kbps min, Kbps total);
Qdisc leafQdisc(uint32_t minor, uint32_t packets);

// --- naming and allocation --------------------------------------------------------------------
// "ifb-<uplink>" when that fits IFNAMSIZ (15 characters); else "ifb-" + the first 6 characters +
// "-" + 4 hex digits of a hash of the whole name, so two long uplinks with a common prefix differ.
std::string ifbNameFor(const std::string& uplink);

// Class minors are derived from the port id: the first free minor at or after
// kFirstPortMinor + fnv1a(portId) % kPortMinorCount, wrapping around. Deterministic for a given set
// of ports, collision-free by construction (a taken minor is skipped). nullopt: all taken.
std::optional<uint32_t> allocatePortMinor(std::string_view portId,
                                          const std::function<bool(uint32_t)>& isFree);

}  // namespace bwfloor::dataplane::tc
