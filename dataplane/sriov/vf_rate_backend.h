#pragma once
// VfRateBackend: guaranteed egress minimums on SR-IOV VFs through the PF driver's VF rate limiter
// (IFLA_VF_RATE min_tx_rate, what `ip link set PF vf N min_tx_rate M` sets).
//
// What it can and cannot enforce:
// - Egress (VM -> network): min_tx_rate, in whole Mbit/s, rounded UP from the guarantee's kbit/s
//   so the guarantee is never weakened (Kbps::toMbpsRoundUp). The VF's max_tx_rate is kept as the
//   NIC holds it, unless the spec carries a max (bandwidth_limit), which then replaces it (also
//   rounded up, so min <= max survives the rounding). Both go in one IFLA_VF_RATE, so the kernel
//   checks the pair it will hold, never a half-written one.
// - Ingress (network -> VM): VF rate limiting has none; a spec with an ingress minimum gets
//   "placement-only" for that direction. Placement still counts it.
//
// Finding the VF: by spec.port.vfIndex when given (the PCI slot Nova chose is authoritative; a
// different MAC on that VF is logged at warn, since Nova may set it after binding), otherwise by
// spec.port.mac among the PF's VFs (zero MACs never match; two VFs with the same MAC are a
// conflict). spec.port.device is the PF and must be one of the configured devices.
//
// Adoption after a restart. A VF has no place to store a tag, so unlike HTB filters and OVS rows
// it cannot carry the port id, and the kernel is not the only store: this backend remembers
// port id -> (PF, VF, MAC) for what it programmed, in memory. observe() returns one entry per VF
// with a nonzero min_tx_rate; portId is filled in only for VFs this instance programmed (and whose
// MAC is still the one it saw), otherwise it is empty and the entry carries device (the PF),
// vfIndex and the VF's mac. The agent adopts an untagged entry by matching its desired specs on
// (device, vfIndex), or (device, mac) for specs without an index, and calling program() with the
// matching spec: when the VF already holds the rates nothing is written, and the backend learns
// the port id, so remove() works from then on. An untagged entry that matches no desired spec is
// stale; the agent clears it with program() of a spec with the same device/vfIndex (or mac) and no
// egress minimum (portId may be empty there), which sets min_tx_rate 0 and keeps max_tx_rate.
//
// Errors: an unknown device, a spec with max < min, a VF that is not there (kNotFound, retried:
// the VF may appear later) and a VF whose current max_tx_rate is below the minimum (kConflict,
// nothing written) are errors, as are the kernel's refusals, which keep its errno and name the PF
// and the VF. A write the kernel acknowledged but that does not read back (a driver that keeps
// fewer bits) gives the egress direction a failed Enforcement.
//
// Not thread-safe by itself; calls are serialised with a mutex.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/api/qos_backend.h"
#include "dataplane/sriov/vf_api.h"

namespace bwfloor::dataplane::sriov {

struct VfRateBackendConfig {
  // The PFs this backend may program, e.g. the netdevs of Neutron's SR-IOV agent's
  // physical_device_mappings. observe() and counters() look at these only.
  std::vector<std::string> devices;
};

// Every problem at once, one per line: empty, too long or duplicate device names.
Status validateVfRateConfig(const VfRateBackendConfig& config);

inline constexpr const char* kVfNoIngressMinimum = "VF rate limiting has no ingress minimum";

class VfRateBackend : public QosBackend {
 public:
  // `api` is shared so that tests can keep the fake VF table across backend instances.
  VfRateBackend(VfRateBackendConfig config, std::shared_ptr<VfApi> api);

  std::string name() const override { return "sriov"; }
  Result<std::vector<AppliedQos>> observe() override;
  Result<AppliedQos> program(const QosSpec& spec) override;
  Status remove(const std::string& portId) override;
  // Per programmed VF (nonzero min_tx_rate), egress: the VF's tx bytes / packets / drops from
  // IFLA_VF_STATS. Nothing (and no error) for a PF whose kernel reports no VF statistics.
  Result<std::vector<QosCounters>> counters() override;

 private:
  struct Request {  // a validated QosSpec
    std::string portId;
    std::string pf;
    std::optional<uint32_t> vfIndex;
    std::string mac;  // normalised; may be empty when vfIndex is set
    uint32_t minTxRateMbps = 0;
    std::optional<uint32_t> maxTxRateMbps;  // from the spec; nullopt = keep the VF's
    bool wantsIngress = false;
  };
  struct VfRef {  // where a port's guarantee lives
    std::string pf;
    uint32_t vf = 0;
    std::string mac;  // the VF's MAC when it was programmed
  };

  Result<Request> validate(const QosSpec& spec) const;
  Result<VfState> findVf(const std::vector<VfState>& vfs, const Request& request) const;
  Result<std::vector<VfState>> listVfs(const std::string& pf, const std::string& context);
  // Sets min_tx_rate 0 on the VF `ref` names (keeping max), unless its MAC shows that the VF now
  // belongs to someone else. A missing PF or VF is not an error.
  Status clearVf(const std::string& portId, const VfRef& ref);
  // The port id this instance programmed on VF `vf` of `pf`, if its MAC still matches.
  std::string taggedPort(const std::string& pf, const VfState& vf) const;
  AppliedQos applied(const std::string& portId, const std::string& pf, const VfState& vf) const;

  VfRateBackendConfig config_;
  std::shared_ptr<VfApi> api_;
  std::mutex mutex_;
  std::map<std::string, VfRef> ports_;  // by port id
};

}  // namespace bwfloor::dataplane::sriov
