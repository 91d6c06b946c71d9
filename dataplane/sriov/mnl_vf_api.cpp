#include "dataplane/sriov/mnl_vf_api.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "core/logging.h"
#include "dataplane/sriov/vf_message.h"

namespace bwfloor::dataplane::sriov {
namespace {

constexpr time_t kAnswerTimeoutSec = 5;

Status checkName(const std::string& pf) {
  if (pf.empty() || pf.size() >= IFNAMSIZ) {
    return makeError(ErrorCode::kInvalidArgument, "bad device name \"" + pf + "\"");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<MnlVfApi>> MnlVfApi::open() {
  mnl_socket* sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (sock == nullptr) {
    return makeError(ErrorCode::kInternal, "open a NETLINK_ROUTE socket", errno);
  }
  if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(sock);
    return makeError(ErrorCode::kInternal, "bind the NETLINK_ROUTE socket", err);
  }
  // Errors and warnings with the kernel's text; acks without a copy of the request.
  int one = 1;  // libmnl takes a non-const pointer
  mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
  mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
  timeval timeout{kAnswerTimeoutSec, 0};
  setsockopt(mnl_socket_get_fd(sock), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const uint32_t portId = mnl_socket_get_portid(sock);
  return std::unique_ptr<MnlVfApi>(new MnlVfApi(sock, portId));
}

MnlVfApi::~MnlVfApi() { mnl_socket_close(sock_); }

Status MnlVfApi::transact(const std::vector<uint8_t>& request, uint32_t seq,
                          const std::string& what,
                          const std::function<Status(const nlmsghdr*)>& onMessage) {
  if (mnl_socket_sendto(sock_, request.data(), request.size()) < 0) {
    const int err = errno;
    return makeError(ErrorCode::kInternal, what + ": send", err);
  }
  const int fd = mnl_socket_get_fd(sock_);
  std::vector<uint8_t> buf;
  Status result = Status::ok();
  while (true) {
    // The datagram's real size, so that a PF with many VFs is never truncated.
    ssize_t size = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (size >= 0) {
      buf.resize(std::max<size_t>(static_cast<size_t>(size), MNL_SOCKET_BUFFER_SIZE));
      size = recv(fd, buf.data(), buf.size(), 0);
    }
    if (size < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return makeError(ErrorCode::kUnavailable, what + ": no answer from the kernel", err);
      }
      return makeError(ErrorCode::kInternal, what + ": receive", err);
    }
    int left = static_cast<int>(size);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portId_) continue;  // an earlier request's
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const NetlinkAck ack = parseAck(nlh);
        const std::string text = what + (ack.message.empty() ? "" : ": " + ack.message);
        if (ack.errnum != 0) return vfKernelError(text, ack.errnum);
        if (!ack.message.empty()) logger("sriov")->warn("kernel warning: {}", text);
        return result;
      }
      if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_NOOP) continue;
      if (Status st = onMessage(nlh); !st && result) result = st;
    }
  }
}

Result<LinkVfs> MnlVfApi::getLink(const std::string& pf, bool withStats) {
  const uint32_t seq = ++seq_;
  const std::string what = "RTM_GETLINK " + pf + " (VF list)";
  LinkVfs out;
  RETURN_IF_ERROR(transact(
      buildGetVfsRequest(pf, seq, withStats), seq, what, [&](const nlmsghdr* nlh) -> Status {
        if (nlh->nlmsg_type != RTM_NEWLINK) return Status::ok();
        Result<LinkVfs> parsed = parseVfs(nlh);
        if (!parsed) {
          return makeError(parsed.error().code(), what + ": " + parsed.error().message());
        }
        out = std::move(parsed).value();
        return Status::ok();
      }));
  return out;
}

Result<std::vector<VfState>> MnlVfApi::listVfs(const std::string& pf, VfRead read) {
  RETURN_IF_ERROR(checkName(pf));
  if (read == VfRead::kWithStats) {
    ASSIGN_OR_RETURN(LinkVfs withStats, getLink(pf, /*withStats=*/true));
    if (!withStats.truncated()) return std::move(withStats.vfs);
  }
  ASSIGN_OR_RETURN(LinkVfs config, getLink(pf, /*withStats=*/false));
  if (config.truncated()) {
    return makeError(ErrorCode::kUnsupported, "RTM_GETLINK " + pf + ": the kernel lists " +
                                                  std::to_string(config.vfs.size()) + " of its " +
                                                  std::to_string(config.numVfs) +
                                                  " VFs (IFLA_VFINFO_LIST longer than 64 kB)");
  }
  return std::move(config.vfs);
}

Status MnlVfApi::setVfRate(const std::string& pf, uint32_t vf, uint32_t minTxRateMbps,
                           uint32_t maxTxRateMbps) {
  RETURN_IF_ERROR(checkName(pf));
  const uint32_t seq = ++seq_;
  const std::string what = "RTM_SETLINK " + pf + " vf " + std::to_string(vf) +
                           " IFLA_VF_RATE min " + std::to_string(minTxRateMbps) + " max " +
                           std::to_string(maxTxRateMbps) + " Mbit/s";
  return transact(buildSetVfRateRequest(pf, seq, vf, minTxRateMbps, maxTxRateMbps), seq, what,
                  [](const nlmsghdr*) { return Status::ok(); });
}

}  // namespace bwfloor::dataplane::sriov
