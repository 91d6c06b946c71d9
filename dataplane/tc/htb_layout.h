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

Qdisc htbQdisc();
HtbClass htbClass(uint32_t minor, uint32_t parentMinor, Kbps rate, Kbps ceil);
HtbClass rootClass(Kbps total);
HtbClass defaultClass(Kbps floor, Kbps total);

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
