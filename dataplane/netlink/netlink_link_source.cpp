#include "dataplane/netlink/netlink_link_source.h"

#include <linux/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include <array>
#include <fstream>
#include <memory>
#include <string>

namespace bwfloor::dataplane {
namespace {

struct SockDeleter {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct CacheDeleter {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};

Error nlError(const std::string& what, int nlErr) {
  return makeError(ErrorCode::kKernel, what + ": " + nl_geterror(nlErr));
}

// The kernel exposes the ethtool speed in sysfs; "-1" or an error means unknown (veth, down NIC).
std::optional<uint64_t> readSpeedMbps(const std::string& name) {
  std::ifstream in("/sys/class/net/" + name + "/speed");
  long long speed = -1;
  if (!(in >> speed) || speed <= 0) return std::nullopt;
  return static_cast<uint64_t>(speed);
}

LinkInfo toLinkInfo(rtnl_link* link) {
  LinkInfo info;
  info.ifindex = rtnl_link_get_ifindex(link);
  info.name = rtnl_link_get_name(link);
  if (nl_addr* addr = rtnl_link_get_addr(link); addr != nullptr && nl_addr_get_len(addr) == 6) {
    std::array<char, 32> buf{};
    nl_addr2str(addr, buf.data(), buf.size());
    info.mac = buf.data();
  }
  if (const char* type = rtnl_link_get_type(link)) info.kind = type;
  unsigned flags = rtnl_link_get_flags(link);
  info.up = (flags & IFF_UP) != 0;
  info.lowerUp = (flags & IFF_LOWER_UP) != 0;
  if (int master = rtnl_link_get_master(link); master > 0) info.masterIfindex = master;
  uint32_t numVfs = 0;
  if (rtnl_link_get_num_vf(link, &numVfs) == 0) info.numVfs = static_cast<int>(numVfs);
  info.speedMbps = readSpeedMbps(info.name);
  return info;
}

}  // namespace

Result<std::vector<LinkInfo>> NetlinkLinkSource::listLinks() {
  std::unique_ptr<nl_sock, SockDeleter> sock(nl_socket_alloc());
  if (!sock) return makeError(ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return nlError("connect NETLINK_ROUTE", err);
  }
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw); err < 0) {
    return nlError("dump links (RTM_GETLINK)", err);
  }
  std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
  std::vector<LinkInfo> links;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    links.push_back(toLinkInfo(reinterpret_cast<rtnl_link*>(obj)));
  }
  return links;
}

}  // namespace bwfloor::dataplane
