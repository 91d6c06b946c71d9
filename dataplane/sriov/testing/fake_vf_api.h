#pragma once
// FakeVfApi: an in-memory model of what VfApi reads and writes, a VF table per PF, with the
// kernel's rules and errno values: an unknown PF is ENODEV, a VF number out of range EINVAL,
// min > max with max != 0 EINVAL (rtnetlink core), a driver without ndo_set_vf_rate EOPNOTSUPP.
// Tests only (target bwfloor_dataplane_sriov_testing).
//
// Because the same fake outlives backend instances, a test can "restart" the agent by creating a
// new VfRateBackend over it, and simulate drift or another user with setVfRateForTest().

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/sriov/vf_api.h"

namespace bwfloor::dataplane::sriov {

class FakeVfApi : public VfApi {
 public:
  // A PF with `numVfs` VFs, all without MAC, rates 0 and zero statistics. `rateSupported` false
  // models a driver without ndo_set_vf_rate (or a switchdev-mode eswitch): EOPNOTSUPP.
  void addPfForTest(const std::string& pf, uint32_t numVfs, bool rateSupported = true);
  void removePfForTest(const std::string& pf);
  void setVfMacForTest(const std::string& pf, uint32_t vf, const std::string& mac);
  // Changes the table without counting a mutation (an operator's `ip link set ... vf N ...`).
  void setVfRateForTest(const std::string& pf, uint32_t vf, uint32_t minMbps, uint32_t maxMbps);
  void setVfStatsForTest(const std::string& pf, uint32_t vf, std::optional<VfStats> stats);
  // Rates are stored modulo 2^bits, as drivers that keep fewer bits do (netdevsim: 16).
  void setRateBitsForTest(const std::string& pf, int bits);
  // The next call of `method` ("listVfs", "setVfRate") fails with `error`.
  void failNextForTest(const std::string& method, Error error);
  const VfState& vfForTest(const std::string& pf, uint32_t vf) const;
  // Successful setVfRate calls, since construction.
  int mutationsForTest() const { return mutations_; }

  // Statistics only for VfRead::kWithStats, as MnlVfApi.
  Result<std::vector<VfState>> listVfs(const std::string& pf, VfRead read) override;
  Status setVfRate(const std::string& pf, uint32_t vf, uint32_t minTxRateMbps,
                   uint32_t maxTxRateMbps) override;

 private:
  struct Pf {
    std::vector<VfState> vfs;
    bool rateSupported = true;
    int rateBits = 32;
  };

  Status enter(const std::string& method);

  std::map<std::string, Pf> pfs_;
  std::map<std::string, Error> failures_;
  int mutations_ = 0;
};

}  // namespace bwfloor::dataplane::sriov
