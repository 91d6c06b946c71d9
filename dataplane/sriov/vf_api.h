#pragma once
// VfApi: the thin kernel API under VfRateBackend (STYLE.md §3). Two operations, no policy: read
// every VF of a PF (MAC, rates, statistics) and set the rates of one VF. MnlVfApi talks rtnetlink
// through libmnl (RTM_GETLINK with RTEXT_FILTER_VF, RTM_SETLINK with IFLA_VF_RATE); FakeVfApi
// (dataplane/sriov/testing/) models a VF rate table with the kernel's rules for unit tests.
//
// PFs are addressed by name, resolved by the kernel on every request (IFLA_IFNAME), so a device
// re-created under the same name is never addressed through a stale ifindex.
//
// Errors (vfKernelError): kNotFound (ENODEV, ENOENT), kPermissionDenied (EPERM, EACCES),
// kUnsupported (EOPNOTSUPP: the driver has no ndo_set_vf_rate, or a switchdev-mode eswitch),
// otherwise kKernel. sysErrno() always carries the kernel's errno; the message names the PF and
// the VF, plus the kernel's extended-ack text when it gave one.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane::sriov {

// IFLA_VF_STATS, as the driver reports them. The kernel adds the attribute (zeros) even for
// drivers without ndo_get_vf_stats, unless asked not to (RTEXT_FILTER_SKIP_STATS).
struct VfStats {
  uint64_t rxPackets = 0;
  uint64_t txPackets = 0;
  uint64_t rxBytes = 0;
  uint64_t txBytes = 0;
  uint64_t rxDropped = 0;
  uint64_t txDropped = 0;
  bool operator==(const VfStats&) const = default;
};

// One VF as its PF reports it in IFLA_VFINFO_LIST.
struct VfState {
  uint32_t index = 0;            // the VF number of IFLA_VF_MAC / IFLA_VF_RATE
  std::string mac;               // lower case "aa:bb:cc:dd:ee:ff"; empty when all zero (unset)
  uint32_t minTxRateMbps = 0;    // IFLA_VF_RATE min_tx_rate; 0 = no minimum
  uint32_t maxTxRateMbps = 0;    // IFLA_VF_RATE max_tx_rate (or IFLA_VF_TX_RATE); 0 = no cap
  std::optional<VfStats> stats;  // only read with VfRead::kWithStats, and only when they fit
  bool operator==(const VfState&) const = default;
};

enum class VfRead {
  kConfig,     // MAC and rates: what program/observe/remove need; the smallest answer
  kWithStats,  // and IFLA_VF_STATS, where the kernel can list them (see MnlVfApi)
};

class VfApi {
 public:
  virtual ~VfApi() = default;

  // Every VF of `pf`, in the kernel's order. kNotFound when the PF does not exist; an empty list
  // when it has no VFs (a veth, a NIC without SR-IOV, sriov_numvfs = 0).
  virtual Result<std::vector<VfState>> listVfs(const std::string& pf, VfRead read) = 0;
  // Both rates of VF `vf` in one IFLA_VF_RATE, Mbit/s, 0 = none. The kernel refuses min > max
  // when max != 0 (EINVAL), a VF number out of range (EINVAL from most drivers) and drivers
  // without rate support (EOPNOTSUPP).
  virtual Status setVfRate(const std::string& pf, uint32_t vf, uint32_t minTxRateMbps,
                           uint32_t maxTxRateMbps) = 0;
};

// The error for an errno the kernel returned on `what` (which names PF and VF): code as listed
// above, sysErrno = errnum. Shared by MnlVfApi and FakeVfApi so both answer alike.
Error vfKernelError(const std::string& what, int errnum);

// "fa:16:3e:00:00:01" from six bytes; empty for 00:00:00:00:00:00 (a VF without a MAC).
std::string formatVfMac(const uint8_t* bytes);
// Lower-cases a MAC given by a caller, so that "FA:16:3E:..." finds "fa:16:3e:...".
std::string normalizeMac(const std::string& mac);

}  // namespace bwfloor::dataplane::sriov
