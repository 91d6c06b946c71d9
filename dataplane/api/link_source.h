#pragma once
// Where the agent learns which network devices exist. The netlink implementation reads the kernel;
// tests use a fake that models links and emits events.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane {

// One SR-IOV virtual function of a PF, from IFLA_VFINFO_LIST (best effort: drivers differ).
struct VfInfo {
  uint32_t index = 0;
  std::string mac;             // lower-case "aa:bb:..", empty when unset / not reported
  uint32_t minTxRateMbps = 0;  // IFLA_VF_RATE min_tx_rate; 0 = none
  uint32_t maxTxRateMbps = 0;  // IFLA_VF_RATE max_tx_rate; 0 = none
  bool operator==(const VfInfo&) const = default;
};

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string mac;   // lower-case "aa:bb:..", empty when the link has none
  std::string kind;  // rtnl link type: "veth", "bridge", "openvswitch", "ifb", "" for plain NICs
  bool up = false;   // administratively up (IFF_UP)
  bool lowerUp = false;               // carrier (IFF_LOWER_UP)
  std::optional<int> masterIfindex;   // bridge or bond this link is a port of
  std::optional<uint64_t> speedMbps;  // from ethtool; unset when the driver does not say
  int numVfs = 0;                     // SR-IOV VFs reported in IFLA_NUM_VF
  std::vector<VfInfo> vfs;            // IFLA_VFINFO_LIST, when the dump carried it

  bool operator==(const LinkInfo&) const = default;
};

struct LinkEvent {
  enum class Type {
    kNewOrChanged,  // RTM_NEWLINK: a link appeared or one of its attributes changed
    kRemoved,       // RTM_DELLINK
    kOverflow,      // events were lost (socket buffer overrun): list the links again
  };
  Type type = Type::kNewOrChanged;
  LinkInfo link;  // for kRemoved only ifindex and name are meaningful; empty for kOverflow
};

class LinkSource {
 public:
  virtual ~LinkSource() = default;
  // A snapshot of every link in the current network namespace.
  virtual Result<std::vector<LinkInfo>> listLinks() = 0;

  // Starts watching link changes (rtnetlink group RTNLGRP_LINK). Afterwards eventFd() becomes
  // readable whenever readEvents() has something to return. Idempotent. kUnsupported when the
  // source has no events: callers then rely on polling.
  virtual Status subscribe() {
    return makeError(ErrorCode::kUnsupported, "this link source has no events");
  }
  // A file descriptor to poll() for POLLIN, or -1 when not subscribed.
  virtual int eventFd() const { return -1; }
  // Every event received since the last call, oldest first, without blocking; empty when none.
  virtual Result<std::vector<LinkEvent>> readEvents() { return std::vector<LinkEvent>{}; }
};

}  // namespace bwfloor::dataplane
