#pragma once
// TcApi: the thin kernel API under HtbBackend (STYLE.md §3). Plain structs in, plain structs out,
// one call per kernel object operation, no policy: HtbBackend decides what to change, TcApi says
// how the kernel answered. LibnlTcApi talks netlink (libnl-route-3); FakeTcApi
// (dataplane/tc/testing/) models the same objects in memory for unit tests.
//
// Devices are addressed by name; implementations resolve the ifindex per call, so a device that is
// re-created under the same name is never addressed through a stale index.
//
// Errors: kAlreadyExists (EEXIST), kNotFound (ENOENT, ENODEV), kPermissionDenied (EPERM),
// kUnsupported (EOPNOTSUPP), otherwise kKernel; sysErrno() always carries the kernel's errno and
// the message names the operation, device and handle plus the kernel's extended-ack text if any.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane::tc {

// --- handles ----------------------------------------------------------------------------------
// A qdisc/class handle is major:minor packed as (major << 16) | minor, as the kernel keeps it.
constexpr uint32_t makeHandle(uint32_t major, uint32_t minor) {
  return ((major & 0xffffu) << 16) | (minor & 0xffffu);
}
constexpr uint32_t handleMajor(uint32_t handle) { return handle >> 16; }
constexpr uint32_t handleMinor(uint32_t handle) { return handle & 0xffffu; }

inline constexpr uint32_t kParentRoot = 0xffffffffu;     // TC_H_ROOT
inline constexpr uint32_t kParentIngress = 0xfffffff1u;  // TC_H_INGRESS
inline constexpr uint32_t kIngressHandle = 0xffff0000u;  // the ingress qdisc, "ffff:"
inline constexpr uint16_t kEthPAll = 0x0003;             // ETH_P_ALL: "protocol all"

// "1:12" (hex, as tc prints), "root", "ingress", "ffff:".
std::string formatHandle(uint32_t handle);

// A u32 filter handle is htid(12 bits):bucket(8 bits):node(12 bits), printed by tc as "10:a:12".
constexpr uint32_t makeU32Handle(uint32_t htid, uint32_t bucket, uint32_t node) {
  return ((htid & 0xfffu) << 20) | ((bucket & 0xffu) << 12) | (node & 0xfffu);
}
constexpr uint32_t u32Htid(uint32_t handle) { return handle >> 20; }
constexpr uint32_t u32Bucket(uint32_t handle) { return (handle >> 12) & 0xffu; }
constexpr uint32_t u32Node(uint32_t handle) { return handle & 0xfffu; }
inline constexpr uint32_t kU32RootHtid = 0x800;  // the table every u32 instance starts in
std::string formatU32Handle(uint32_t handle);

// --- objects ----------------------------------------------------------------------------------
struct TcStats {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint64_t drops = 0;
  uint64_t overlimits = 0;
  uint64_t backlogBytes = 0;  // queued in the class (its leaf) when read
  bool operator==(const TcStats&) const = default;
};

struct TcLink {
  int ifindex = 0;
  std::string name;
  std::string kind;  // rtnl link kind: "ifb", "veth", "" for plain NICs
  bool up = false;
  uint32_t txQueueLen = 0;
  std::string alias;  // IFLA_IFALIAS
  uint32_t mtu = 0;   // 0: not known
  bool operator==(const TcLink&) const = default;
};

struct Qdisc {
  uint32_t handle = 0;
  uint32_t parent = kParentRoot;
  std::string kind;  // "htb", "ingress", "noqueue", "pfifo_fast", ...
  // kind == "htb" only:
  uint32_t htbDefaultMinor = 0;  // unclassified traffic goes to major:defaultMinor
  uint32_t htbRate2Quantum = 10;
  // kind == "pfifo" only (a leaf under an HTB class): the queue length in packets.
  uint32_t fifoLimitPackets = 0;
  bool operator==(const Qdisc&) const = default;
};

struct HtbClass {
  uint32_t handle = 0;
  uint32_t parent = 0;
  uint64_t rateBytesPerSec = 0;
  uint64_t ceilBytesPerSec = 0;
  uint32_t burstBytes = 0;   // rate bucket
  uint32_t cburstBytes = 0;  // ceil bucket
  uint32_t quantumBytes = 0;
  TcStats stats;  // filled by listClasses(); ignored by add/change

  // Same configuration (stats and read-back rounding of the buckets aside).
  bool sameConfig(const HtbClass& other) const;
  bool operator==(const HtbClass&) const = default;
};

// One 32-bit match: (packet word at offset) & mask == value & mask. Value and mask in host order
// (0x02000000 matches a first byte of 0x02). The offset is relative to the network header, so the
// Ethernet header is at -14..-1: u32 on this kernel has no link-layer base, negative offsets are
// the way to match MACs.
struct U32Key {
  uint32_t value = 0;
  uint32_t mask = 0;
  int32_t offset = 0;
  bool operator==(const U32Key&) const = default;
};

// A u32 filter node, a hash table, or a node that links to a hash table. All bwfloor filters use
// "protocol all" so that ARP and IPv6 are classified too.
struct U32Filter {
  // "u32". listFilters() also returns filters of other classifiers (bpf, ...), so that callers
  // know they are there; of those only kind, parent, prio, protocol and handle are filled in.
  std::string kind = "u32";
  uint32_t parent = 0;  // qdisc handle: 1:0 for HTB, kIngressHandle for the ingress qdisc
  uint16_t prio = 0;
  uint16_t protocol = kEthPAll;
  uint32_t handle = 0;  // htid:bucket:node
  // A hash table (then nothing below is used): number of buckets.
  uint32_t divisor = 0;
  // A link node: jump into this hash table, bucket = ((word at hashOffset) & hashMask) >> shift.
  uint32_t linkHtid = 0;  // htid of the table (12 bits), 0 = no link
  int16_t hashOffset = 0;
  uint32_t hashMask = 0;
  std::vector<U32Key> keys;
  uint32_t classId = 0;     // flowid; 0 = none
  int redirectIfindex = 0;  // mirred egress redirect to this device; 0 = none
  bool operator==(const U32Filter&) const = default;
};

// --- the API ----------------------------------------------------------------------------------
class TcApi {
 public:
  virtual ~TcApi() = default;

  // Links. getLink returns nullopt for a device that does not exist.
  virtual Result<std::optional<TcLink>> getLink(const std::string& name) = 0;
  // Creates an IFB device, administratively up, with the given queue length and alias.
  virtual Status addIfb(const std::string& name, uint32_t txQueueLen, const std::string& alias) = 0;
  virtual Status setLinkUp(const std::string& name) = 0;
  virtual Status deleteLink(const std::string& name) = 0;

  // Qdiscs. addQdisc at the root creates or replaces whatever qdisc is there (taking its classes
  // and filters with it); at kParentIngress it only creates (kAlreadyExists if there is one); at
  // an HTB class it creates or replaces the class's leaf qdisc (kNotFound without the class).
  // listQdiscs returns the root, the ingress qdisc and the leaves that were added explicitly.
  virtual Result<std::vector<Qdisc>> listQdiscs(const std::string& dev) = 0;
  virtual Status addQdisc(const std::string& dev, const Qdisc& qdisc) = 0;
  virtual Status deleteQdisc(const std::string& dev, const Qdisc& qdisc) = 0;

  // HTB classes. add fails with kAlreadyExists, change with kNotFound.
  virtual Result<std::vector<HtbClass>> listClasses(const std::string& dev) = 0;
  virtual Status addClass(const std::string& dev, const HtbClass& cls) = 0;
  virtual Status changeClass(const std::string& dev, const HtbClass& cls) = 0;
  virtual Status deleteClass(const std::string& dev, uint32_t handle) = 0;

  // u32 filters under the qdisc `parent` (1:0 or kIngressHandle). add is exclusive
  // (kAlreadyExists when the handle is taken). change updates the flowid, link and action of the
  // node with that handle (kNotFound if none) and, as the kernel does, keeps its keys and hash
  // selector: u32 cannot change a selector in place. delete needs parent, prio, protocol, handle.
  virtual Result<std::vector<U32Filter>> listFilters(const std::string& dev, uint32_t parent) = 0;
  virtual Status addFilter(const std::string& dev, const U32Filter& filter) = 0;
  virtual Status changeFilter(const std::string& dev, const U32Filter& filter) = 0;
  virtual Status deleteFilter(const std::string& dev, const U32Filter& filter) = 0;
};

}  // namespace bwfloor::dataplane::tc
