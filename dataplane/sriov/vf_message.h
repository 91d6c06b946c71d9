#pragma once
// The rtnetlink messages of MnlVfApi, built and parsed with libmnl. Free functions over byte
// buffers, so that unit tests compare the exact bytes the kernel receives and parse hand-built
// answers without a socket.

#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "dataplane/sriov/vf_api.h"

namespace bwfloor::dataplane::sriov {

// RTM_GETLINK for the PF named `pf` (ifi_index 0, IFLA_IFNAME: the kernel resolves the name) with
// IFLA_EXT_MASK = RTEXT_FILTER_VF, without which the answer has no IFLA_VFINFO_LIST.
// Flags NLM_F_REQUEST | NLM_F_ACK: the RTM_NEWLINK answer, then the acknowledgement.
std::vector<uint8_t> buildGetVfsRequest(const std::string& pf, uint32_t seq);

// RTM_SETLINK for `pf` (by name, as above) carrying
// IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_RATE { vf, min_tx_rate, max_tx_rate } } }, rates in
// Mbit/s. Flags NLM_F_REQUEST | NLM_F_ACK.
std::vector<uint8_t> buildSetVfRateRequest(const std::string& pf, uint32_t seq, uint32_t vf,
                                           uint32_t minTxRateMbps, uint32_t maxTxRateMbps);

// The VFs in an RTM_NEWLINK message: one per IFLA_VF_INFO of IFLA_VFINFO_LIST, the index from
// IFLA_VF_MAC, the rates from IFLA_VF_RATE (else IFLA_VF_TX_RATE as the max), statistics from
// IFLA_VF_STATS. No list: no VFs. kInternal for a malformed message.
Result<std::vector<VfState>> parseVfs(const nlmsghdr* msg);

// An NLMSG_ERROR message: errnum is the positive errno (0 = acknowledgement), message the
// kernel's extended-ack text (NLMSGERR_ATTR_MSG), empty when none.
struct NetlinkAck {
  int errnum = 0;
  std::string message;
};
NetlinkAck parseAck(const nlmsghdr* msg);

}  // namespace bwfloor::dataplane::sriov
