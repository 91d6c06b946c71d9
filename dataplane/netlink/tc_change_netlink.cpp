#include "dataplane/netlink/tc_change_netlink.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace bwfloor::dataplane {
namespace {

std::optional<TcChange> changeOf(const nlmsghdr& hdr, const void* payload, size_t payloadLength) {
  TcChange change;
  switch (hdr.nlmsg_type) {
    case RTM_NEWQDISC:
    case RTM_DELQDISC:
      change.type = TcChange::Type::kQdisc;
      break;
    case RTM_NEWTCLASS:
    case RTM_DELTCLASS:
      change.type = TcChange::Type::kClass;
      break;
    case RTM_NEWTFILTER:
    case RTM_DELTFILTER:
      change.type = TcChange::Type::kFilter;
      break;
    default:
      return std::nullopt;
  }
  change.deleted = hdr.nlmsg_type == RTM_DELQDISC || hdr.nlmsg_type == RTM_DELTCLASS ||
                   hdr.nlmsg_type == RTM_DELTFILTER;
  if (payloadLength < sizeof(tcmsg)) return std::nullopt;
  tcmsg tc{};
  std::memcpy(&tc, payload, sizeof(tc));
  change.ifindex = tc.tcm_ifindex;
  change.handle = tc.tcm_handle;
  return change;
}

}  // namespace

std::vector<TcChange> parseTcChanges(const void* data, size_t length) {
  std::vector<TcChange> out;
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t offset = 0;
  while (length - offset >= sizeof(nlmsghdr)) {
    nlmsghdr hdr{};
    std::memcpy(&hdr, bytes + offset, sizeof(hdr));
    if (hdr.nlmsg_len < sizeof(nlmsghdr) || hdr.nlmsg_len > length - offset) break;
    if (auto change = changeOf(hdr, bytes + offset + NLMSG_HDRLEN,
                               hdr.nlmsg_len > NLMSG_HDRLEN ? hdr.nlmsg_len - NLMSG_HDRLEN : 0)) {
      out.push_back(*change);
    }
    const size_t aligned = NLMSG_ALIGN(hdr.nlmsg_len);
    if (aligned > length - offset) break;
    offset += aligned;
  }
  return out;
}

Result<std::unique_ptr<NetlinkTcChangeSource>> NetlinkTcChangeSource::open() {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return makeError(ErrorCode::kUnavailable,
                     std::string("tc events: netlink socket: ") + std::strerror(errno));
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_TC;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return makeError(ErrorCode::kUnavailable,
                     std::string("tc events: bind RTNLGRP_TC: ") + std::strerror(err));
  }
  return std::unique_ptr<NetlinkTcChangeSource>(new NetlinkTcChangeSource(fd));
}

NetlinkTcChangeSource::~NetlinkTcChangeSource() { close(fd_); }

Result<std::vector<TcChange>> NetlinkTcChangeSource::read() {
  std::vector<TcChange> out;
  std::array<uint8_t, 32768> buffer{};
  while (true) {
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return out;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {
      out.push_back(TcChange{TcChange::Type::kOverflow, false, 0, 0});
      continue;
    }
    if (n < 0) {
      return makeError(ErrorCode::kUnavailable,
                       std::string("tc events: recv: ") + std::strerror(errno));
    }
    const auto changes = parseTcChanges(buffer.data(), static_cast<size_t>(n));
    out.insert(out.end(), changes.begin(), changes.end());
  }
}

}  // namespace bwfloor::dataplane
