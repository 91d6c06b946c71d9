#pragma once
// HtbBackend's view of the kernel: what one uplink's two HTB trees hold, read back through TcApi.
// Internal to dataplane/tc (HtbBackend and its tests); the agent sees only AppliedQos.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "core/units.h"
#include "core/uuid.h"
#include "dataplane/api/qos_backend.h"
#include "dataplane/tc/htb_layout.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane::tc {

struct HtbDeviceConfig {
  std::string device;  // the uplink
  Kbps egressTotal;    // root rate of the egress tree: the device's egress inventory
  Kbps ingressTotal;   // root rate of the ingress tree on the IFB; 0 = no ingress enforcement
  // With ingressTotal 0: why ingress cannot be enforced here, for the placement-only status.
  std::string noIngressReason;
  // > 0: the uplink's frames come from one shared AF_PACKET socket (OVS userspace datapath) and
  // this much of its send buffer is this uplink's; every egress class then gets a short pfifo
  // leaf (htb_layout.h says why and how long). 0: senders queue in their own sockets, and HTB's
  // default leaves stay.
  uint64_t senderBufferBytes = 0;
};

// One port's filter (its anchor: created first, deleted last) as found in a tree.
struct PortEntry {
  Uuid id;
  MacAddress mac{};
  uint32_t minor = 0;  // of the class the filter points to
  U32Filter filter;
};

// One HTB tree: the uplink's root qdisc (egress) or the IFB's (ingress).
struct TreeState {
  std::string dev;
  MacField field = MacField::kSource;
  bool qdisc = false;  // htb 1: is the root qdisc
  std::optional<HtbClass> rootClass;
  std::optional<HtbClass> defaultClass;
  bool hashTable = false;
  std::optional<U32Filter> linkFilter;
  std::map<uint32_t, HtbClass> classes;  // port-range classes by minor (with stats)
  std::map<Uuid, PortEntry> ports;       // tagged port filters: change only with put/erasePort
  std::map<uint32_t, int> minorRefs;     // class minor -> port filters pointing at it
  std::map<uint32_t, Qdisc> leaves;      // qdiscs added under classes, by class minor
  bool mayHaveStrays = false;            // a class may exist that no port filter points at

  bool empty() const { return !qdisc; }
  const HtbClass* classFor(const PortEntry& port) const;
  void putPort(const PortEntry& entry);
  void erasePort(const Uuid& id);
  // A port filter points to it. A class no filter points to is a stray: removed by the next
  // program()/remove(), or adopted if its minor is given to a port first.
  bool minorInUse(uint32_t minor) const { return minorRefs.count(minor) != 0; }
  // Why traffic of the tree's ports is not classified, or nullopt when the tree is complete.
  std::optional<std::string> treeProblem(Kbps total) const;
};

struct DeviceState {
  HtbDeviceConfig config;
  std::string ifbName;
  bool loaded = false;
  bool uplinkPresent = false;
  uint32_t uplinkTxQueueLen = 0;
  uint32_t uplinkMtu = 0;
  TreeState egress;
  TreeState ingress;
  std::optional<TcLink> ifb;  // the IFB link, when it exists and is an IFB
  bool ingressQdisc = false;
  std::optional<U32Filter> redirect;  // bwfloor's redirect on the ingress qdisc
  int foreignIngressFilters = 0;      // other filters on the ingress qdisc (never touched)

  TreeState& tree(Direction direction) {
    return direction == Direction::kEgress ? egress : ingress;
  }
  const TreeState& tree(Direction direction) const {
    return direction == Direction::kEgress ? egress : ingress;
  }
  Kbps total(Direction direction) const {
    return direction == Direction::kEgress ? config.egressTotal : config.ingressTotal;
  }
  // The pfifo length that class 1:<minor> (with `rate`) of a tree must have, or 0 where HTB's
  // default leaf is right (see HtbDeviceConfig::senderBufferBytes).
  uint32_t leafPackets(Direction direction, uint32_t minor, Kbps rate) const;
  // nullopt when class 1:<minor> has the leaf it must have, else what is wrong.
  std::optional<std::string> leafProblem(Direction direction, uint32_t minor, Kbps rate) const;
  // nullopt when frames reach the IFB tree (IFB up, redirect in place), else why not.
  std::optional<std::string> ingressPathProblem() const;
};

// Reads the tree on `dev` (which must exist). A root qdisc other than htb 1: leaves it empty.
Status readTree(TcApi& api, const std::string& dev, MacField field, TreeState& tree);
// Reads everything bwfloor may have programmed for one uplink.
Status readDevice(TcApi& api, const HtbDeviceConfig& config, DeviceState& state);

// The applied state of one port in one direction, as the view says (nullopt: not there).
std::optional<AppliedDirection> appliedDirection(const DeviceState& device, Direction direction,
                                                 const Uuid& port);

}  // namespace bwfloor::dataplane::tc
