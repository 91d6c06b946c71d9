#pragma once
// Where the agent learns which network devices exist. The netlink implementation reads the kernel;
// tests use a fake that models links and emits events.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane {

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
};

class LinkSource {
 public:
  virtual ~LinkSource() = default;
  // A snapshot of every link in the current network namespace.
  virtual Result<std::vector<LinkInfo>> listLinks() = 0;
};

}  // namespace bwfloor::dataplane
