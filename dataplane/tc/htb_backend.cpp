#include "dataplane/tc/htb_backend.h"

#include <set>
#include <sstream>
#include <utility>

#include "core/logging.h"

namespace bwfloor::dataplane::tc {
namespace {

constexpr Direction kDirections[] = {Direction::kEgress, Direction::kIngress};
constexpr size_t kIfNameMax = 15;

std::shared_ptr<spdlog::logger> tcLog() { return logger("tc"); }

Direction opposite(Direction d) {
  return d == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
}

Error withContext(const Error& error, const std::string& context) {
  return makeError(error.code(), context + ": " + error.message(), error.sysErrno());
}

}  // namespace

Status validateHtbConfig(const HtbBackendConfig& config) {
  std::ostringstream problems;
  std::set<std::string> names;
  std::set<std::string> ifbs;
  for (const HtbDeviceConfig& dev : config.devices) {
    if (dev.device.empty() || dev.device.size() > kIfNameMax) {
      problems << "device name \"" << dev.device << "\" must have 1 to 15 characters\n";
    }
    if (!names.insert(dev.device).second) problems << "device " << dev.device << " listed twice\n";
    if (!ifbs.insert(ifbNameFor(dev.device)).second) {
      problems << "device " << dev.device << ": IFB name " << ifbNameFor(dev.device)
               << " is taken by another device\n";
    }
    if (dev.egressTotal.isZero()) problems << "device " << dev.device << ": egress total is 0\n";
  }
  if (config.defaultClassRate.isZero()) problems << "default class rate is 0\n";
  std::string text = problems.str();
  if (text.empty()) return Status::ok();
  text.pop_back();
  return makeError(ErrorCode::kInvalidArgument, "htb backend config: " + text);
}

HtbBackend::HtbBackend(HtbBackendConfig config, std::shared_ptr<TcApi> api)
    : config_(std::move(config)), api_(std::move(api)) {
  for (const HtbDeviceConfig& dev : config_.devices) {
    DeviceState state;
    state.config = dev;
    devices_.emplace(dev.device, std::move(state));
  }
}

Result<HtbBackend::Request> HtbBackend::validate(const QosSpec& spec) const {
  Request req;
  ASSIGN_OR_RETURN(req.id, Uuid::parse(spec.port.portId));
  req.portId = req.id.toString();
  auto dev = devices_.find(spec.port.device);
  if (dev == devices_.end()) {
    return makeError(ErrorCode::kInvalidArgument, "port " + req.portId + ": device " +
                                                      spec.port.device +
                                                      " is not configured for the htb backend");
  }
  req.device = spec.port.device;
  ASSIGN_OR_RETURN(req.mac, parseMac(spec.port.mac));
  const std::optional<Kbps> max[2] = {spec.maxEgress, spec.maxIngress};
  const Kbps min[2] = {spec.minEgress, spec.minIngress};
  for (Direction d : kDirections) {
    const size_t i = Request::index(d);
    const Kbps total = dev->second.total(d);
    const bool hasMax = max[i] && !max[i]->isZero();  // Neutron: max 0 = unlimited
    if (hasMax && *max[i] < min[i]) {
      return makeError(ErrorCode::kInvalidArgument, "port " + req.portId + ": " + directionName(d) +
                                                        " max " + max[i]->toString() +
                                                        " is below the min " + min[i].toString());
    }
    // A minimum above the device's total (the total was lowered below what is allocated) is
    // held at the total: the port keeps priority over unguaranteed traffic, and the agent
    // reports the device over-committed (agent/binding/reconcile_plan.h).
    req.min[i] = total.isZero() ? min[i] : std::min(min[i], total);
    req.ceil[i] = hasMax ? std::min(*max[i], total) : total;
  }
  return req;
}

Status HtbBackend::reload(DeviceState& device) {
  Status status = readDevice(*api_, device.config, device);
  if (!status) {
    device.loaded = false;
    return withContext(status.error(), "read tc state of " + device.config.device);
  }
  return Status::ok();
}

Status HtbBackend::loadAll() {
  for (auto& [name, device] : devices_) {
    if (!device.loaded) RETURN_IF_ERROR(reload(device));
  }
  return Status::ok();
}

AppliedQos HtbBackend::applied(const DeviceState& device, const Uuid& port) const {
  AppliedQos result;
  result.backend = name();
  result.port.portId = port.toString();
  result.port.device = device.config.device;
  for (Direction d : kDirections) {
    auto it = device.tree(d).ports.find(port);
    if (it != device.tree(d).ports.end()) result.port.mac = formatMac(it->second.mac);
  }
  result.egress = appliedDirection(device, Direction::kEgress, port);
  result.ingress = appliedDirection(device, Direction::kIngress, port);
  return result;
}

Result<std::vector<AppliedQos>> HtbBackend::observe() {
  std::lock_guard lock(mutex_);
  std::vector<AppliedQos> out;
  for (auto& [name, device] : devices_) {
    RETURN_IF_ERROR(reload(device));
    std::set<Uuid> ports;
    for (Direction d : kDirections) {
      for (const auto& [id, entry] : device.tree(d).ports) ports.insert(id);
    }
    for (const Uuid& id : ports) out.push_back(applied(device, id));
  }
  return out;
}

Result<AppliedQos> HtbBackend::program(const QosSpec& spec) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(Request req, validate(spec));
  RETURN_IF_ERROR(loadAll());
  DeviceState& device = devices_.at(req.device);
  if (!device.uplinkPresent) {
    RETURN_IF_ERROR(reload(device));  // it may have appeared since
    if (!device.uplinkPresent) {
      return makeError(ErrorCode::kNotFound,
                       "port " + req.portId + ": device " + req.device + " not found");
    }
  }
  for (auto& [name, other] : devices_) {  // a port that moved to another uplink
    if (name == req.device) continue;
    if (Status st = removeFromDevice(other, req.id); !st) {
      other.loaded = false;
      return withContext(st.error(), "port " + req.portId);
    }
  }
  for (Direction d : kDirections) {
    if (Status st = programDirection(device, d, req); !st) {
      device.loaded = false;  // re-read before the retry: the failure may have been a stale view
      return withContext(st.error(), "port " + req.portId);
    }
  }
  AppliedQos result = applied(device, req.id);
  if (req.wants(Direction::kIngress) && device.config.ingressTotal.isZero()) {
    AppliedDirection ingress;
    ingress.enforcement = Enforcement::placementOnly(
        device.config.noIngressReason.empty() ? "no ingress total configured for " + req.device
                                              : device.config.noIngressReason);
    result.ingress = ingress;
  }
  return result;
}

Status HtbBackend::remove(const std::string& portId) {
  std::lock_guard lock(mutex_);
  Result<Uuid> id = Uuid::parse(portId);
  if (!id) return Status::ok();  // never programmed: this backend only takes UUIDs
  RETURN_IF_ERROR(loadAll());
  for (auto& [name, device] : devices_) {
    if (Status st = removeFromDevice(device, *id); !st) {
      device.loaded = false;
      return withContext(st.error(), "port " + portId);
    }
  }
  return Status::ok();
}

Result<std::vector<QosCounters>> HtbBackend::counters() {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(loadAll());
  std::vector<QosCounters> out;
  for (auto& [name, device] : devices_) {
    for (Direction d : kDirections) {
      const TreeState& tree = device.tree(d);
      if (tree.empty()) continue;
      ASSIGN_OR_RETURN(std::vector<HtbClass> classes, api_->listClasses(tree.dev));
      std::map<uint32_t, TcStats> stats;
      for (const HtbClass& cls : classes) stats[cls.handle] = cls.stats;
      auto add = [&](const std::string& port, uint32_t minor) {
        auto it = stats.find(makeHandle(kHtbMajor, minor));
        if (it == stats.end()) return;
        const TcStats& s = it->second;
        out.push_back(QosCounters{port, d, tree.dev, "classid " + formatHandle(it->first), s.bytes,
                                  s.packets, s.drops, s.overlimits, s.backlogBytes});
      };
      for (const auto& [id, entry] : tree.ports) add(id.toString(), entry.minor);
      add("", kDefaultClassMinor);
    }
  }
  return out;
}

Status HtbBackend::programDirection(DeviceState& device, Direction direction,
                                    const Request& request) {
  if (!request.wants(direction) || device.total(direction).isZero()) {
    RETURN_IF_ERROR(removeFromTree(device, direction, request.id));
    return teardownIfUnused(device, direction);
  }
  TreeState& tree = device.tree(direction);
  if (direction == Direction::kIngress) RETURN_IF_ERROR(ensureIfb(device));
  RETURN_IF_ERROR(ensureTree(device, direction));
  ASSIGN_OR_RETURN(uint32_t minor, chooseMinor(device, direction, request.id));
  RETURN_IF_ERROR(ensurePort(tree, request, direction, minor));
  RETURN_IF_ERROR(removeStrayClasses(tree));
  if (direction == Direction::kIngress) RETURN_IF_ERROR(ensureRedirect(device));

  Kbps sum = config_.defaultClassRate;
  for (const auto& [minor, cls] : tree.classes) sum += Kbps::fromBytesPerSec(cls.rateBytesPerSec);
  if (sum > device.total(direction)) {
    tcLog()->warn("op=overcommitted dev={} direction={} sum_min_kbps={} total_kbps={}", tree.dev,
                  directionName(direction), sum.kbps(), device.total(direction).kbps());
  }
  warnIfLeavesOverfillBuffer(device, direction);
  return Status::ok();
}

// Every leaf full at once must still fit in the shared sender's buffer (htb_layout.h); past that
// the guarantee can fail as it did without leaves, so operators are told.
void HtbBackend::warnIfLeavesOverfillBuffer(const DeviceState& device, Direction direction) const {
  if (device.leafPackets(direction, kDefaultClassMinor, Kbps(0)) == 0) return;
  uint64_t packets = 0;
  for (const auto& [minor, leaf] : device.tree(direction).leaves) packets += leaf.fifoLimitPackets;
  const uint32_t frames = framesInBuffer(device.config.senderBufferBytes, device.uplinkMtu);
  if (packets <= frames) return;
  tcLog()->warn(
      "op=sender-buffer-overcommitted dev={} leaf_packets={} buffer_frames={} buffer_bytes={}: "
      "with this many ports backlogged at once ovs-vswitchd's sends can fail for every class; "
      "raise net.core.wmem_default and restart ovs-vswitchd and the agent",
      device.config.device, packets, frames, device.config.senderBufferBytes);
}

Result<uint32_t> HtbBackend::chooseMinor(const DeviceState& device, Direction direction,
                                         const Uuid& port) const {
  const TreeState& tree = device.tree(direction);
  const TreeState& other = device.tree(opposite(direction));
  if (auto it = tree.ports.find(port); it != tree.ports.end()) return it->second.minor;
  // The same class id in both directions, when possible, reads better in `tc class show`.
  if (auto it = other.ports.find(port); it != other.ports.end()) {
    if (!tree.minorInUse(it->second.minor)) return it->second.minor;
  }
  const std::string id = port.toString();
  std::optional<uint32_t> minor = allocatePortMinor(
      id, [&](uint32_t m) { return !tree.minorInUse(m) && !other.minorInUse(m); });
  if (!minor) minor = allocatePortMinor(id, [&](uint32_t m) { return !tree.minorInUse(m); });
  if (!minor) {
    return makeError(ErrorCode::kUnavailable, "no free class id on " + tree.dev + " (all " +
                                                  std::to_string(kPortMinorCount) + " are in use)");
  }
  return *minor;
}

}  // namespace bwfloor::dataplane::tc
