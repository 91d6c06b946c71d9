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
// IFLA_EXT_MASK = RTEXT_FILTER_VF, without which the answer has no IFLA_VFINFO_LIST, plus
// RTEXT_FILTER_SKIP_STATS unless `withStats`. Flags NLM_F_REQUEST | NLM_F_ACK: the RTM_NEWLINK
// answer, then the acknowledgement.
//
// Why without statistics: IFLA_VFINFO_LIST is one attribute, and an attribute's length is 16 bits.
// Kernels up to at least 6.1 do not stop at 64 kB, they let the length wrap, so the list reads
// back short (the VFs past the wrap then look like top-level attributes). A VF takes ~296 bytes
// with IFLA_VF_STATS and ~196 without, so a 6.1 kernel lists 221 VFs with statistics and 334
// without (netdevsim with 256 VFs: 34 listed with statistics, all without).
std::vector<uint8_t> buildGetVfsRequest(const std::string& pf, uint32_t seq, bool withStats);

// RTM_SETLINK for `pf` (by name, as above) carrying
// IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_RATE { vf, min_tx_rate, max_tx_rate } } }, rates in
// Mbit/s. Flags NLM_F_REQUEST | NLM_F_ACK.
std::vector<uint8_t> buildSetVfRateRequest(const std::string& pf, uint32_t seq, uint32_t vf,
                                           uint32_t minTxRateMbps, uint32_t maxTxRateMbps);

// The VFs in an RTM_NEWLINK message: one per IFLA_VF_INFO of IFLA_VFINFO_LIST, the index from
// IFLA_VF_MAC, the rates from IFLA_VF_RATE (else IFLA_VF_TX_RATE as the max), statistics from
// IFLA_VF_STATS. No list: no VFs. kInternal for a malformed message.
struct LinkVfs {
  std::vector<VfState> vfs;
  uint32_t numVfs = 0;  // IFLA_NUM_VF; more than vfs.size() when the list was cut short
  bool listed = false;  // IFLA_VFINFO_LIST was there (drivers without ndo_get_vf_config omit it)
  bool truncated() const { return listed && vfs.size() < numVfs; }
};
Result<LinkVfs> parseVfs(const nlmsghdr* msg);

// An NLMSG_ERROR message: errnum is the positive errno (0 = acknowledgement), message the
// kernel's extended-ack text (NLMSGERR_ATTR_MSG), empty when none.
struct NetlinkAck {
  int errnum = 0;
  std::string message;
};
NetlinkAck parseAck(const nlmsghdr* msg);

}  // namespace bwfloor::dataplane::sriov
