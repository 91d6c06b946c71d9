#include "dataplane/sriov/testing/fake_vf_api.h"

#include <cerrno>

namespace bwfloor::dataplane::sriov {
namespace {

uint32_t keepBits(uint32_t value, int bits) {
  return bits >= 32 ? value : value & ((uint32_t{1} << bits) - 1);
}

}  // namespace

void FakeVfApi::addPfForTest(const std::string& pf, uint32_t numVfs, bool rateSupported) {
  Pf entry;
  entry.rateSupported = rateSupported;
  for (uint32_t i = 0; i < numVfs; ++i) {
    VfState vf;
    vf.index = i;
    vf.stats = VfStats{};
    entry.vfs.push_back(vf);
  }
  pfs_[pf] = std::move(entry);
}

void FakeVfApi::removePfForTest(const std::string& pf) { pfs_.erase(pf); }

void FakeVfApi::setVfMacForTest(const std::string& pf, uint32_t vf, const std::string& mac) {
  pfs_.at(pf).vfs.at(vf).mac = normalizeMac(mac);
}

void FakeVfApi::setVfRateForTest(const std::string& pf, uint32_t vf, uint32_t minMbps,
                                 uint32_t maxMbps) {
  VfState& state = pfs_.at(pf).vfs.at(vf);
  state.minTxRateMbps = minMbps;
  state.maxTxRateMbps = maxMbps;
}

void FakeVfApi::setVfStatsForTest(const std::string& pf, uint32_t vf,
                                  std::optional<VfStats> stats) {
  pfs_.at(pf).vfs.at(vf).stats = stats;
}

void FakeVfApi::setRateBitsForTest(const std::string& pf, int bits) { pfs_.at(pf).rateBits = bits; }

void FakeVfApi::failNextForTest(const std::string& method, Error error) {
  failures_.insert_or_assign(method, std::move(error));
}

const VfState& FakeVfApi::vfForTest(const std::string& pf, uint32_t vf) const {
  return pfs_.at(pf).vfs.at(vf);
}

Status FakeVfApi::enter(const std::string& method) {
  auto it = failures_.find(method);
  if (it == failures_.end()) return Status::ok();
  Error error = it->second;
  failures_.erase(it);
  return error;
}

Result<std::vector<VfState>> FakeVfApi::listVfs(const std::string& pf, VfRead read) {
  RETURN_IF_ERROR(enter("listVfs"));
  auto it = pfs_.find(pf);
  if (it == pfs_.end()) return vfKernelError("get link " + pf, ENODEV);
  std::vector<VfState> vfs = it->second.vfs;
  if (read == VfRead::kConfig) {
    for (VfState& vf : vfs) vf.stats.reset();
  }
  return vfs;
}

Status FakeVfApi::setVfRate(const std::string& pf, uint32_t vf, uint32_t minTxRateMbps,
                            uint32_t maxTxRateMbps) {
  RETURN_IF_ERROR(enter("setVfRate"));
  const std::string what = "set rate of VF " + std::to_string(vf) + " on " + pf;
  auto it = pfs_.find(pf);
  if (it == pfs_.end()) return vfKernelError(what, ENODEV);
  Pf& entry = it->second;
  // rtnetlink core checks in this order (rtnl_set_vf_rate), then the driver checks the VF number.
  if (!entry.rateSupported) return vfKernelError(what, EOPNOTSUPP);
  if (maxTxRateMbps != 0 && maxTxRateMbps < minTxRateMbps) return vfKernelError(what, EINVAL);
  if (vf >= entry.vfs.size()) return vfKernelError(what, EINVAL);
  entry.vfs[vf].minTxRateMbps = keepBits(minTxRateMbps, entry.rateBits);
  entry.vfs[vf].maxTxRateMbps = keepBits(maxTxRateMbps, entry.rateBits);
  ++mutations_;
  return Status::ok();
}

}  // namespace bwfloor::dataplane::sriov
