#include "dataplane/netlink/netlink_link_source.h"

#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>

namespace bwfloor::dataplane {
namespace {

struct SockDeleter {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
using SockPtr = std::unique_ptr<nl_sock, SockDeleter>;
struct MsgDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};

Error nlError(const std::string& what, int nlErr) {
  return makeError(ErrorCode::kKernel, what + ": " + nl_geterror(nlErr));
}

std::string macString(nl_addr* addr) {
  if (addr == nullptr || nl_addr_get_len(addr) != 6) return {};
  std::array<char, 32> buf{};
  nl_addr2str(addr, buf.data(), buf.size());
  return buf.data();
}

// IFLA_VFINFO_LIST, present only when the request asked for RTEXT_FILTER_VF and the driver
// reports VF configs (IFLA_NUM_VF may come without it). VF indexes run from 0.
void readVfs(rtnl_link* link, LinkInfo& info) {
  constexpr uint32_t kMaxVfs = 4096;
  if (rtnl_link_has_vf_list(link) == 0) return;  // rtnl_link_vf_get() needs the list
  for (uint32_t i = 0; i < kMaxVfs; ++i) {
    rtnl_link_vf* vf = rtnl_link_vf_get(link, i);
    if (vf == nullptr) break;
    VfInfo vfInfo;
    vfInfo.index = i;
    nl_addr* addr = nullptr;
    if (rtnl_link_vf_get_addr(vf, &addr) == 0) vfInfo.mac = macString(addr);
    nl_vf_rate rate{};
    if (rtnl_link_vf_get_rate(vf, &rate) == 0) {
      vfInfo.minTxRateMbps = rate.min_tx_rate;
      vfInfo.maxTxRateMbps = rate.max_tx_rate != 0 ? rate.max_tx_rate : rate.rate;
    }
    rtnl_link_vf_put(vf);
    info.vfs.push_back(std::move(vfInfo));
  }
}

// What the parse callbacks collect.
struct ParseTarget {
  std::vector<LinkInfo>* links = nullptr;    // dump
  std::vector<LinkEvent>* events = nullptr;  // notifications
  int msgType = 0;
};

void onParsedObject(nl_object* obj, void* arg) {
  auto* target = static_cast<ParseTarget*>(arg);
  LinkInfo info = linkInfoFromRtnl(reinterpret_cast<rtnl_link*>(obj));
  if (target->msgType != RTM_DELLINK) info.speedMbps = readLinkSpeedMbps(info.name);
  if (target->links != nullptr) {
    target->links->push_back(std::move(info));
    return;
  }
  LinkEvent event;
  event.type =
      target->msgType == RTM_DELLINK ? LinkEvent::Type::kRemoved : LinkEvent::Type::kNewOrChanged;
  event.link = std::move(info);
  target->events->push_back(std::move(event));
}

int onMessage(nl_msg* msg, void* arg) {
  auto* target = static_cast<ParseTarget*>(arg);
  target->msgType = nlmsg_hdr(msg)->nlmsg_type;
  if (target->msgType != RTM_NEWLINK && target->msgType != RTM_DELLINK) return NL_SKIP;
  nl_msg_parse(msg, onParsedObject, target);  // a message libnl can't parse is skipped
  return NL_OK;
}

Result<SockPtr> connectRoute() {
  SockPtr sock(nl_socket_alloc());
  if (!sock) return makeError(ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return nlError("connect NETLINK_ROUTE", err);
  }
  return sock;
}

}  // namespace

LinkInfo linkInfoFromRtnl(rtnl_link* link) {
  LinkInfo info;
  info.ifindex = rtnl_link_get_ifindex(link);
  if (const char* name = rtnl_link_get_name(link)) info.name = name;
  info.mac = macString(rtnl_link_get_addr(link));
  if (const char* type = rtnl_link_get_type(link)) info.kind = type;
  const unsigned flags = rtnl_link_get_flags(link);
  info.up = (flags & IFF_UP) != 0;
  info.lowerUp = (flags & IFF_LOWER_UP) != 0;
  if (int master = rtnl_link_get_master(link); master > 0) info.masterIfindex = master;
  uint32_t numVfs = 0;
  if (rtnl_link_get_num_vf(link, &numVfs) == 0) info.numVfs = static_cast<int>(numVfs);
  readVfs(link, info);
  return info;
}

std::optional<uint64_t> readLinkSpeedMbps(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  ethtool_cmd cmd{};
  cmd.cmd = ETHTOOL_GSET;  // every driver with get_link_ksettings answers it too
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  ifr.ifr_data = reinterpret_cast<char*>(&cmd);
  const int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  if (rc != 0) return std::nullopt;
  const uint32_t speed = ethtool_cmd_speed(&cmd);
  if (speed == 0 || speed == static_cast<uint32_t>(SPEED_UNKNOWN)) return std::nullopt;
  return speed;
}

struct NetlinkLinkSource::Events {
  SockPtr sock;
  std::vector<LinkEvent> pending;
  ParseTarget target;
};

NetlinkLinkSource::NetlinkLinkSource() = default;
NetlinkLinkSource::~NetlinkLinkSource() = default;

Result<std::vector<LinkInfo>> NetlinkLinkSource::listLinks() {
  // A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is inconsistent: ask again.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    int nlErr = 0;
    auto links = dumpLinks(nlErr);
    if (links || nlErr != -NLE_DUMP_INTR || attempt == kAttempts) return links;
  }
}

// VF configs without their statistics: IFLA_VFINFO_LIST is one attribute with a 16-bit length,
// and with statistics (~300 bytes a VF) a PF with 256 VFs overflows it; the length wraps and the
// list reads as its first 34 VFs (netdevsim in the vf-vm rig). Without them 256 VFs fit.
constexpr uint32_t kExtMask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS;

Result<std::vector<LinkInfo>> NetlinkLinkSource::dumpLinks(int& nlErr) {
  ASSIGN_OR_RETURN(SockPtr sock, connectRoute());
  std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP));
  if (!msg) return makeError(ErrorCode::kInternal, "nlmsg_alloc failed");
  ifinfomsg hdr{};
  hdr.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg.get(), &hdr, sizeof(hdr), NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(msg.get(), IFLA_EXT_MASK, kExtMask) < 0) {
    return makeError(ErrorCode::kInternal, "building RTM_GETLINK failed");
  }
  if (int err = nl_send_auto(sock.get(), msg.get()); err < 0) {
    return nlError("send RTM_GETLINK dump", err);
  }
  std::vector<LinkInfo> links;
  ParseTarget target;
  target.links = &links;
  nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, onMessage, &target);
  if (int err = nl_recvmsgs_default(sock.get()); err < 0) {
    nlErr = err;
    return nlError("dump links (RTM_GETLINK)", err);
  }
  return links;
}

Status NetlinkLinkSource::subscribe() {
  if (events_) return {};
  auto events = std::make_unique<Events>();
  SockPtr sock(nl_socket_alloc());
  if (!sock) return makeError(ErrorCode::kInternal, "nl_socket_alloc failed");
  nl_socket_disable_seq_check(sock.get());  // notifications carry no sequence numbers
  events->target.events = &events->pending;
  nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, onMessage, &events->target);
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return nlError("connect NETLINK_ROUTE", err);
  }
  if (int err = nl_socket_add_membership(sock.get(), RTNLGRP_LINK); err < 0) {
    return nlError("join RTNLGRP_LINK", err);
  }
  if (int err = nl_socket_set_nonblocking(sock.get()); err < 0) {
    return nlError("set the netlink event socket non-blocking", err);
  }
  nl_socket_set_buffer_size(sock.get(), 1 << 20, 0);  // bursts (many VFs) before overflow
  events->sock = std::move(sock);
  events_ = std::move(events);
  return {};
}

int NetlinkLinkSource::eventFd() const {
  return events_ ? nl_socket_get_fd(events_->sock.get()) : -1;
}

Result<std::vector<LinkEvent>> NetlinkLinkSource::readEvents() {
  if (!events_) return std::vector<LinkEvent>{};
  while (true) {
    const int err = nl_recvmsgs_default(events_->sock.get());
    if (err >= 0) continue;
    if (err == -NLE_AGAIN) break;
    if (err == -NLE_NOMEM) {  // ENOBUFS: the kernel dropped notifications
      LinkEvent overflow;
      overflow.type = LinkEvent::Type::kOverflow;
      events_->pending.push_back(std::move(overflow));
      continue;
    }
    return nlError("read link notifications", err);
  }
  std::vector<LinkEvent> out;
  out.swap(events_->pending);
  return out;
}

}  // namespace bwfloor::dataplane
