#include "dataplane/sriov/vf_rate_backend.h"

#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "core/logging.h"

namespace bwfloor::dataplane::sriov {
namespace {

constexpr size_t kIfNameMax = 15;

std::shared_ptr<spdlog::logger> sriovLog() { return logger("sriov"); }

Error withContext(const Error& error, const std::string& context) {
  return makeError(error.code(), context + ": " + error.message(), error.sysErrno());
}

std::string vfName(const std::string& pf, uint32_t vf) {
  return "VF " + std::to_string(vf) + " of " + pf;
}

std::string location(const std::string& pf, uint32_t vf) {
  return "dev=" + pf + " vf=" + std::to_string(vf);
}

std::string portLabel(const std::string& portId) {
  return "port " + (portId.empty() ? std::string("(untagged)") : portId);
}

// Mbit/s for the kernel's u32, rounded up from kbit/s; nullopt when it does not fit.
std::optional<uint32_t> toTxRateMbps(Kbps rate) {
  const uint64_t mbps = rate.toMbpsRoundUp();
  if (mbps > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(mbps);
}

const VfState* findByIndex(const std::vector<VfState>& vfs, uint32_t index) {
  for (const VfState& vf : vfs) {
    if (vf.index == index) return &vf;
  }
  return nullptr;
}

}  // namespace

Status validateVfRateConfig(const VfRateBackendConfig& config) {
  std::ostringstream problems;
  std::set<std::string> names;
  for (const std::string& dev : config.devices) {
    if (dev.empty() || dev.size() > kIfNameMax) {
      problems << "device name \"" << dev << "\" must have 1 to 15 characters\n";
    }
    if (!names.insert(dev).second) problems << "device " << dev << " listed twice\n";
  }
  std::string text = problems.str();
  if (text.empty()) return Status::ok();
  text.pop_back();
  return makeError(ErrorCode::kInvalidArgument, "sriov backend config: " + text);
}

VfRateBackend::VfRateBackend(VfRateBackendConfig config, std::shared_ptr<VfApi> api)
    : config_(std::move(config)), api_(std::move(api)) {}

Result<VfRateBackend::Request> VfRateBackend::validate(const QosSpec& spec) const {
  Request req;
  req.portId = spec.port.portId;
  const std::string label = portLabel(req.portId);
  bool configured = false;
  for (const std::string& dev : config_.devices) configured = configured || dev == spec.port.device;
  if (!configured) {
    return makeError(ErrorCode::kInvalidArgument, label + ": device \"" + spec.port.device +
                                                      "\" is not configured for the sriov backend");
  }
  req.pf = spec.port.device;
  if (spec.port.vfIndex) {
    if (*spec.port.vfIndex < 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       label + ": negative VF index " + std::to_string(*spec.port.vfIndex));
    }
    req.vfIndex = static_cast<uint32_t>(*spec.port.vfIndex);
  }
  req.mac = normalizeMac(spec.port.mac);
  if (!req.vfIndex && req.mac.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     label + ": neither a VF index nor a MAC to find the VF on " + req.pf);
  }
  const bool hasMax = spec.maxEgress && !spec.maxEgress->isZero();  // Neutron: max 0 = no cap
  if (hasMax && *spec.maxEgress < spec.minEgress) {
    return makeError(ErrorCode::kInvalidArgument,
                     label + ": egress max " + spec.maxEgress->toString() + " is below the min " +
                         spec.minEgress.toString());
  }
  std::optional<uint32_t> min = toTxRateMbps(spec.minEgress);
  std::optional<uint32_t> max = hasMax ? toTxRateMbps(*spec.maxEgress) : std::optional<uint32_t>(0);
  if (!min || !max) {
    return makeError(ErrorCode::kInvalidArgument,
                     label + ": egress rate does not fit a VF rate (32-bit Mbit/s)");
  }
  req.minTxRateMbps = *min;
  if (hasMax) req.maxTxRateMbps = *max;
  req.wantsIngress = !spec.minIngress.isZero();
  return req;
}

Result<VfState> VfRateBackend::findVf(const std::vector<VfState>& vfs,
                                      const Request& request) const {
  const std::string label = portLabel(request.portId);
  if (request.vfIndex) {
    if (const VfState* vf = findByIndex(vfs, *request.vfIndex); vf != nullptr) {
      if (!request.mac.empty() && !vf->mac.empty() && vf->mac != request.mac) {
        sriovLog()->warn("op=vf_mac_mismatch port={} dev={} vf={} vf_mac={} port_mac={}",
                         request.portId, request.pf, vf->index, vf->mac, request.mac);
      }
      return *vf;
    }
    return makeError(ErrorCode::kNotFound, label + ": " + request.pf + " has no VF " +
                                               std::to_string(*request.vfIndex) + " (it reports " +
                                               std::to_string(vfs.size()) + " VFs)");
  }
  const VfState* found = nullptr;
  for (const VfState& vf : vfs) {
    if (vf.mac != request.mac) continue;
    if (found != nullptr) {
      return makeError(ErrorCode::kConflict, label + ": VFs " + std::to_string(found->index) +
                                                 " and " + std::to_string(vf.index) + " of " +
                                                 request.pf + " both have MAC " + request.mac);
    }
    found = &vf;
  }
  if (found == nullptr) {
    return makeError(ErrorCode::kNotFound, label + ": no VF of " + request.pf + " has MAC " +
                                               request.mac + " (it reports " +
                                               std::to_string(vfs.size()) + " VFs)");
  }
  return *found;
}

Result<std::vector<VfState>> VfRateBackend::listVfs(const std::string& pf,
                                                    const std::string& context) {
  Result<std::vector<VfState>> vfs = api_->listVfs(pf, VfRead::kConfig);
  if (!vfs) return withContext(vfs.error(), context);
  return vfs;
}

std::string VfRateBackend::taggedPort(const std::string& pf, const VfState& vf) const {
  for (const auto& [portId, ref] : ports_) {
    if (ref.pf == pf && ref.vf == vf.index && ref.mac == vf.mac) return portId;
  }
  return {};
}

AppliedQos VfRateBackend::applied(const std::string& portId, const std::string& pf,
                                  const VfState& vf) const {
  AppliedQos out;
  out.backend = name();
  out.port.portId = portId;
  out.port.mac = vf.mac;
  out.port.device = pf;
  out.port.vfIndex = static_cast<int>(vf.index);
  if (vf.minTxRateMbps != 0) {
    AppliedDirection egress;
    egress.minKbps = Kbps::fromMbps(vf.minTxRateMbps);
    if (vf.maxTxRateMbps != 0) egress.maxKbps = Kbps::fromMbps(vf.maxTxRateMbps);
    egress.location = location(pf, vf.index);
    out.egress = egress;
  }
  return out;
}

Result<std::vector<AppliedQos>> VfRateBackend::observe() {
  std::lock_guard lock(mutex_);
  std::vector<AppliedQos> out;
  for (const std::string& pf : config_.devices) {
    Result<std::vector<VfState>> vfs = api_->listVfs(pf, VfRead::kConfig);
    if (!vfs && vfs.error().code() == ErrorCode::kNotFound) {
      sriovLog()->debug("op=observe dev={} missing", pf);
      continue;  // nothing can be programmed on a PF that is not there
    }
    if (!vfs) return withContext(vfs.error(), "observe VFs of " + pf);
    for (const VfState& vf : *vfs) {
      if (vf.minTxRateMbps != 0) out.push_back(applied(taggedPort(pf, vf), pf, vf));
    }
  }
  return out;
}

Result<AppliedQos> VfRateBackend::program(const QosSpec& spec) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(Request req, validate(spec));
  const std::string label = portLabel(req.portId);
  ASSIGN_OR_RETURN(std::vector<VfState> vfs, listVfs(req.pf, label + ": list VFs of " + req.pf));
  ASSIGN_OR_RETURN(VfState vf, findVf(vfs, req));
  const std::string where = vfName(req.pf, vf.index);

  // The port moved to another VF (or PF): take the old guarantee away first.
  if (auto old = ports_.find(req.portId); old != ports_.end()) {
    const VfRef previous = old->second;
    if (previous.pf != req.pf || previous.vf != vf.index) {
      RETURN_IF_ERROR(clearVf(req.portId, previous));
      ports_.erase(old);
      if (previous.pf == req.pf) {  // re-read: clearing changed the table
        ASSIGN_OR_RETURN(vfs, listVfs(req.pf, label + ": list VFs of " + req.pf));
        ASSIGN_OR_RETURN(vf, findVf(vfs, req));
      }
    }
  }

  const uint32_t min = req.minTxRateMbps;
  const uint32_t max = req.maxTxRateMbps.value_or(vf.maxTxRateMbps);
  if (max != 0 && min > max) {  // the kernel would say EINVAL; say why instead
    return makeError(ErrorCode::kConflict, label + ": " + where + " has max_tx_rate " +
                                               std::to_string(max) +
                                               " Mbit/s, below the guaranteed min_tx_rate " +
                                               std::to_string(min) + " Mbit/s; nothing changed");
  }
  if (vf.minTxRateMbps != min || vf.maxTxRateMbps != max) {
    if (Status st = api_->setVfRate(req.pf, vf.index, min, max); !st) {
      return withContext(st.error(), label + ": set min_tx_rate " + std::to_string(min) +
                                         " max_tx_rate " + std::to_string(max) + " Mbit/s on " +
                                         where);
    }
    sriovLog()->info(
        "op=set_vf_rate port={} dev={} vf={} mac={} min_tx_rate_mbps={} max_tx_rate_mbps={} "
        "was_min_tx_rate_mbps={} was_max_tx_rate_mbps={}",
        req.portId, req.pf, vf.index, vf.mac, min, max, vf.minTxRateMbps, vf.maxTxRateMbps);
    ASSIGN_OR_RETURN(vfs, listVfs(req.pf, label + ": read back " + where));
    const VfState* readBack = findByIndex(vfs, vf.index);
    if (readBack == nullptr) {
      return makeError(ErrorCode::kNotFound, label + ": " + where + " is gone after setting it");
    }
    vf = *readBack;
  }

  // Other ports this instance had on the VF: it was handed to this port.
  std::erase_if(ports_, [&](const auto& entry) {
    return entry.first != req.portId && entry.second.pf == req.pf && entry.second.vf == vf.index;
  });
  if (min != 0 && !req.portId.empty()) {
    ports_[req.portId] = VfRef{req.pf, vf.index, vf.mac};
  } else {
    ports_.erase(req.portId);
  }

  AppliedQos out = applied(req.portId, req.pf, vf);
  if (vf.minTxRateMbps != min || vf.maxTxRateMbps != max) {
    AppliedDirection egress = out.egress.value_or(AppliedDirection{});
    egress.location = location(req.pf, vf.index);
    egress.enforcement = Enforcement::failed(
        where + " reads back min_tx_rate " + std::to_string(vf.minTxRateMbps) + " max_tx_rate " +
        std::to_string(vf.maxTxRateMbps) + " Mbit/s after setting " + std::to_string(min) + "/" +
        std::to_string(max));
    out.egress = egress;
  }
  if (req.wantsIngress) {
    AppliedDirection ingress;
    ingress.enforcement = Enforcement::placementOnly(kVfNoIngressMinimum);
    ingress.location = location(req.pf, vf.index);
    out.ingress = ingress;
  }
  return out;
}

Status VfRateBackend::clearVf(const std::string& portId, const VfRef& ref) {
  const std::string label = portLabel(portId);
  const std::string where = vfName(ref.pf, ref.vf);
  Result<std::vector<VfState>> vfs = api_->listVfs(ref.pf, VfRead::kConfig);
  if (!vfs && vfs.error().code() == ErrorCode::kNotFound) return Status::ok();  // PF gone
  if (!vfs) return withContext(vfs.error(), label + ": list VFs of " + ref.pf);
  const VfState* vf = findByIndex(*vfs, ref.vf);
  if (vf == nullptr || vf->minTxRateMbps == 0) return Status::ok();  // gone, or nothing to clear
  if (vf->mac != ref.mac) {
    sriovLog()->warn("op=keep_vf_rate port={} dev={} vf={} reason=\"MAC changed from {} to {}\"",
                     portId, ref.pf, ref.vf, ref.mac, vf->mac);
    return Status::ok();  // the VF was given to another port since; its guarantee is not ours
  }
  if (Status st = api_->setVfRate(ref.pf, vf->index, 0, vf->maxTxRateMbps); !st) {
    return withContext(st.error(), label + ": clear min_tx_rate on " + where);
  }
  sriovLog()->info(
      "op=clear_vf_rate port={} dev={} vf={} mac={} min_tx_rate_mbps=0 max_tx_rate_mbps={} "
      "was_min_tx_rate_mbps={}",
      portId, ref.pf, vf->index, vf->mac, vf->maxTxRateMbps, vf->minTxRateMbps);
  return Status::ok();
}

Status VfRateBackend::remove(const std::string& portId) {
  std::lock_guard lock(mutex_);
  auto it = ports_.find(portId);
  if (it == ports_.end()) return Status::ok();
  RETURN_IF_ERROR(clearVf(portId, it->second));
  ports_.erase(it);
  return Status::ok();
}

Result<std::vector<QosCounters>> VfRateBackend::counters() {
  std::lock_guard lock(mutex_);
  std::vector<QosCounters> out;
  for (const std::string& pf : config_.devices) {
    Result<std::vector<VfState>> vfs = api_->listVfs(pf, VfRead::kWithStats);
    if (!vfs && vfs.error().code() == ErrorCode::kNotFound) continue;
    if (!vfs) return withContext(vfs.error(), "read VF statistics of " + pf);
    for (const VfState& vf : *vfs) {
      if (vf.minTxRateMbps == 0 || !vf.stats) continue;
      // Egress is what the VF transmits; the driver counts it at the VF.
      out.push_back(QosCounters{taggedPort(pf, vf), Direction::kEgress, pf,
                                "vf " + std::to_string(vf.index), vf.stats->txBytes,
                                vf.stats->txPackets, vf.stats->txDropped, 0});
    }
  }
  return out;
}

}  // namespace bwfloor::dataplane::sriov
