#pragma once

#include <memory>
#include <vector>

#include "dataplane/api/link_source.h"

struct rtnl_link;

namespace bwfloor::dataplane {

// Reads links from the kernel with libnl-route-3: an RTM_GETLINK dump that asks for VF info
// (IFLA_EXT_MASK = RTEXT_FILTER_VF), and, once subscribed, RTM_NEWLINK / RTM_DELLINK
// notifications of the RTNLGRP_LINK group on a second, non-blocking socket. The link speed comes
// from the SIOCETHTOOL ioctl on a socket of the caller's network namespace (not sysfs, whose
// /sys/class/net belongs to whichever namespace mounted it).
// Not thread-safe: use it from one thread (the agent's event loop).
class NetlinkLinkSource : public LinkSource {
 public:
  NetlinkLinkSource();
  ~NetlinkLinkSource() override;
  NetlinkLinkSource(const NetlinkLinkSource&) = delete;
  NetlinkLinkSource& operator=(const NetlinkLinkSource&) = delete;

  Result<std::vector<LinkInfo>> listLinks() override;
  Status subscribe() override;
  int eventFd() const override;
  Result<std::vector<LinkEvent>> readEvents() override;

 private:
  // One dump; nlErr receives libnl's error code when it fails.
  Result<std::vector<LinkInfo>> dumpLinks(int& nlErr);

  struct Events;
  std::unique_ptr<Events> events_;
};

// Free functions, tested on in-memory libnl objects (rtnl_link_alloc() + setters).
// The link's attributes; speedMbps is left unset (it is not in the netlink message).
LinkInfo linkInfoFromRtnl(rtnl_link* link);
// The ethtool speed of `name` in the caller's network namespace; unset when unknown.
std::optional<uint64_t> readLinkSpeedMbps(const std::string& name);

}  // namespace bwfloor::dataplane
