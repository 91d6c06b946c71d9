#include "dataplane/ovs/ovs_queue_backend.h"

#include <set>
#include <sstream>
#include <utility>

#include "core/logging.h"
#include "core/uuid.h"
#include "dataplane/tc/htb_layout.h"

namespace bwfloor::dataplane {

const char* const kOvsIngressNotEnforced =
    "the ovs backend shapes egress only: ovs-vswitchd takes the uplink's frames ahead of any tc "
    "ingress queue";

namespace {

std::shared_ptr<spdlog::logger> ovsLog() { return logger("ovs"); }

Error withContext(const Error& error, const std::string& context) {
  return makeError(error.code(), context + ": " + error.message(), error.sysErrno());
}

const std::string* tagOf(const OvsdbMap& map, const char* key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

// "op=insert-queue", "op=update-qos row=… queues=0,17": one line per OVSDB change.
std::string describeOp(const OvsdbOp& op) {
  std::ostringstream out;
  out << "op=" << opKindName(op.kind);
  if (!op.row.empty()) out << " row=" << op.row;
  if (op.type) out << " type=" << *op.type;
  auto map = [&](const char* name, const std::optional<OvsdbMap>& m) {
    if (!m) return;
    for (const auto& [k, v] : *m) out << ' ' << name << ':' << k << '=' << v;
  };
  map("other_config", op.otherConfig);
  map("external_ids", op.externalIds);
  if (op.queues) {
    out << " queues=";
    const char* separator = "";
    for (const auto& [id, ref] : *op.queues) {
      out << separator << id;
      separator = ",";
    }
  }
  if (op.kind == OvsdbOp::Kind::kSetPortQos) {
    out << " qos=" << (!op.qos ? "none" : op.qos->isInserted() ? "new" : op.qos->uuid);
  }
  return out.str();
}

}  // namespace

Status validateOvsQueueConfig(const OvsQueueBackendConfig& config) {
  std::ostringstream problems;
  std::set<std::string> names;
  for (const OvsQueueBridgeConfig& b : config.bridges) {
    if (b.bridge.empty()) problems << "a bridge has no name\n";
    if (!names.insert(b.bridge).second) problems << "bridge " << b.bridge << " listed twice\n";
    if (b.egressTotal.isZero()) problems << "bridge " << b.bridge << ": egress total is 0\n";
    if (b.egressTotal.kbps() > kOvsHtbMaxKbps) {
      problems << "bridge " << b.bridge << ": egress total " << b.egressTotal.toString()
               << " exceeds what linux-htb can hold (" << kOvsHtbMaxKbps << " kbit/s)\n";
    }
  }
  if (config.defaultQueueRate.isZero()) problems << "default queue rate is 0\n";
  std::string text = problems.str();
  if (text.empty()) return Status::ok();
  text.pop_back();
  return makeError(ErrorCode::kInvalidArgument, "ovs backend config: " + text);
}

OvsQueueBackend::OvsQueueBackend(OvsQueueBackendConfig config, std::shared_ptr<OvsdbQosApi> ovsdb,
                                 std::shared_ptr<tc::TcApi> tc)
    : config_(std::move(config)), ovsdb_(std::move(ovsdb)), tc_(std::move(tc)) {}

const OvsQueueBridgeConfig* OvsQueueBackend::bridgeConfig(const std::string& bridge) const {
  for (const OvsQueueBridgeConfig& b : config_.bridges) {
    if (b.bridge == bridge) return &b;
  }
  return nullptr;
}

LeafPackets OvsQueueBackend::leafPackets(const OvsdbBridgeRow& bridge, Kbps min) const {
  const OvsQueueBridgeConfig* config = bridgeConfig(bridge.name);
  if (bridge.datapathType != "netdev" || config_.netdevSenderBufferBytes == 0 ||
      config == nullptr) {
    return {};
  }
  const uint32_t frames = tc::framesInBuffer(config_.netdevSenderBufferBytes, 0);
  return {tc::portLeafPackets(frames, min, config->egressTotal), tc::defaultLeafPackets(frames)};
}

Result<OvsPortQueueSpec> OvsQueueBackend::validate(const QosSpec& spec) const {
  OvsPortQueueSpec port;
  ASSIGN_OR_RETURN(Uuid id, Uuid::parse(spec.port.portId));
  port.portId = id.toString();
  const OvsQueueBridgeConfig* bridge = bridgeConfig(spec.port.device);
  if (bridge == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, "port " + port.portId + ": bridge " +
                                                      spec.port.device +
                                                      " is not configured for the ovs backend");
  }
  port.bridge = bridge->bridge;
  ASSIGN_OR_RETURN(tc::MacAddress mac, tc::parseMac(spec.port.mac));
  port.mac = tc::formatMac(mac);
  const Kbps total = bridge->egressTotal;
  const bool hasMax = spec.maxEgress && !spec.maxEgress->isZero();  // Neutron: 0 = unlimited
  if (hasMax && *spec.maxEgress < spec.minEgress) {
    return makeError(ErrorCode::kInvalidArgument,
                     "port " + port.portId + ": egress max " + spec.maxEgress->toString() +
                         " is below the min " + spec.minEgress.toString());
  }
  // Above the bridge's total (lowered below what is allocated): held at the total, and the agent
  // reports the bridge over-committed (agent/binding/reconcile_plan.h).
  port.minEgress = std::min(spec.minEgress, total);
  port.ceilEgress = hasMax ? std::min(*spec.maxEgress, total) : total;
  port.minIngress = spec.minIngress;
  return port;
}

Result<std::map<std::string, UplinkTcState>> OvsQueueBackend::readUplinks(
    const OvsQosTables& tables) {
  std::map<std::string, UplinkTcState> out;
  for (const OvsQueueBridgeConfig& bridge : config_.bridges) {
    const OvsBridgeQos view = viewBridge(tables, bridge.bridge);
    if (view.qos == nullptr) continue;
    for (const std::string& dev : uplinkDevices(view)) {
      Result<UplinkTcState> state = readUplink(*tc_, dev);
      if (!state) return withContext(state.error(), "read tc state of " + dev);
      out[dev] = std::move(state).value();
    }
  }
  return out;
}

std::vector<AppliedQos> OvsQueueBackend::appliedOn(
    const OvsQosTables& tables, const OvsQueueBridgeConfig& bridge,
    const std::map<std::string, UplinkTcState>& uplinks) const {
  std::vector<AppliedQos> out;
  const OvsBridgeQos view = viewBridge(tables, bridge.bridge);
  if (view.qos == nullptr) return out;
  // Problems of the whole bridge: every port's guarantee depends on them.
  std::optional<std::string> bridgeProblem;
  for (const OvsdbPortRow* uplink : view.uplinks) {
    if (uplink->qos != view.qos->uuid) {
      bridgeProblem = "QoS " + view.qos->uuid + " is not on uplink port " + uplink->name;
    }
  }
  if (view.qos->type != kOvsQosType) bridgeProblem = "QoS type is " + view.qos->type;
  if (!view.defaultQueue) bridgeProblem = "default queue 0 missing from QoS " + view.qos->uuid;
  const std::vector<std::string> devices = uplinkDevices(view);
  for (const auto& [portId, queue] : view.portQueues) {
    const OvsdbQueueRow& row = *tables.findQueue(view.qos->queues.at(queue));
    const uint32_t minor = ovsClassMinor(queue);
    AppliedQos applied;
    applied.backend = name();
    const std::string* mac = tagOf(row.externalIds, kOvsTagMac);
    applied.port = PortIdentity{portId, mac != nullptr ? *mac : "", bridge.bridge, std::nullopt};
    AppliedDirection egress;
    const std::string* minRate = tagOf(row.otherConfig, "min-rate");
    const std::string* maxRate = tagOf(row.otherConfig, "max-rate");
    egress.minKbps = parseOvsBitsPerSec(minRate ? *minRate : "").value_or(Kbps(0));
    std::optional<Kbps> ceil = parseOvsBitsPerSec(maxRate ? *maxRate : "");
    if (ceil && *ceil < bridge.egressTotal) egress.maxKbps = ceil;
    std::optional<std::string> problem = bridgeProblem;
    const Result<tc::MacAddress> parsed = tc::parseMac(mac != nullptr ? *mac : "");
    if (!parsed && !problem) problem = "queue " + std::to_string(queue) + " has no valid MAC tag";
    std::string location = "bridge=" + bridge.bridge + " queue=" + std::to_string(queue);
    for (const std::string& dev : devices) {
      location += " dev=" + dev + " classid=" + tc::formatHandle(tc::makeHandle(1, minor));
      auto state = uplinks.find(dev);
      if (state == uplinks.end() || !parsed) continue;
      if (!problem) {
        problem = classificationProblem(state->second, portId, *parsed, minor,
                                        leafPackets(*view.bridge, egress.minKbps));
      }
      auto cls = state->second.classes.find(minor);
      if (cls != state->second.classes.end()) {  // what the kernel holds, not what OVSDB says
        const Kbps kernelMin = Kbps::fromBytesPerSec(cls->second.rateBytesPerSec);
        if (kernelMin < egress.minKbps && !problem) {
          problem = "class " + tc::formatHandle(cls->second.handle) + " on " + dev + " has rate " +
                    kernelMin.toString() + ", queue " + std::to_string(queue) + " wants " +
                    egress.minKbps.toString();
        }
        egress.minKbps = std::min(egress.minKbps, kernelMin);
      }
    }
    if (devices.empty() && !problem) problem = "bridge " + bridge.bridge + " has no uplink";
    egress.location = location;
    if (problem) egress.enforcement = Enforcement::failed(*problem);
    if (!egress.minKbps.isZero() || problem) applied.egress = egress;
    if (const std::string* ingress = tagOf(row.externalIds, kOvsTagMinIngressKbps)) {
      AppliedDirection in;
      in.minKbps = parseKbps(*ingress).value_or(Kbps(0));
      in.enforcement = Enforcement::placementOnly(kOvsIngressNotEnforced);
      in.location = "bridge=" + bridge.bridge;
      applied.ingress = in;
    }
    out.push_back(std::move(applied));
  }
  return out;
}

Result<std::vector<AppliedQos>> OvsQueueBackend::observe() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(OvsQosTables tables, ovsdb_->read());
  ASSIGN_OR_RETURN(auto uplinks, readUplinks(tables));
  std::vector<AppliedQos> out;
  for (const OvsQueueBridgeConfig& bridge : config_.bridges) {
    for (AppliedQos& a : appliedOn(tables, bridge, uplinks)) out.push_back(std::move(a));
  }
  return out;
}

Status OvsQueueBackend::unclassify(const OvsQosTables& tables, const std::string& portId,
                                   const std::string& keepBridge) {
  for (const OvsQueueBridgeConfig& bridge : config_.bridges) {
    if (bridge.bridge == keepBridge) continue;
    const OvsBridgeQos view = viewBridge(tables, bridge.bridge);
    if (view.qos == nullptr) continue;
    for (const std::string& dev : uplinkDevices(view)) {
      ASSIGN_OR_RETURN(UplinkTcState state, readUplink(*tc_, dev));
      RETURN_IF_ERROR(removePortFilters(*tc_, state, portId));
    }
  }
  return Status::ok();
}

Status OvsQueueBackend::classify(const OvsQosTables& tables, const OvsPortQueueSpec& port) {
  const OvsBridgeQos view = viewBridge(tables, port.bridge);
  auto queue = view.portQueues.find(port.portId);
  if (view.qos == nullptr || queue == view.portQueues.end()) {
    return makeError(ErrorCode::kUnavailable,
                     "the queue is not in the database after the commit (changed concurrently)");
  }
  std::map<std::string, uint32_t> wanted;
  for (const auto& [id, q] : view.portQueues) wanted[id] = ovsClassMinor(q);
  const uint32_t minor = ovsClassMinor(queue->second);
  const tc::MacAddress mac = tc::parseMac(port.mac).value();
  const LeafPackets leaves = leafPackets(*view.bridge, port.minEgress);
  for (const std::string& dev : uplinkDevices(view)) {
    ASSIGN_OR_RETURN(UplinkTcState state, readUplink(*tc_, dev));
    RETURN_IF_ERROR(ensurePortClassified(*tc_, state, port.portId, mac, minor));
    RETURN_IF_ERROR(removeStrayFilters(*tc_, state, wanted));
    if (leaves.port > 0) RETURN_IF_ERROR(ensureLeaf(*tc_, state, minor, leaves.port));
    if (leaves.defaultQueue > 0) {
      RETURN_IF_ERROR(
          ensureLeaf(*tc_, state, ovsClassMinor(kOvsDefaultQueue), leaves.defaultQueue));
    }
  }
  return Status::ok();
}

Result<AppliedQos> OvsQueueBackend::program(const QosSpec& spec) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(OvsPortQueueSpec port, validate(spec));
  const std::string context = "port " + port.portId;
  if (port.minEgress.isZero()) {  // nothing to shape here: no queue
    AppliedQos result;
    result.backend = name();
    result.port = PortIdentity{port.portId, port.mac, port.bridge, std::nullopt};
    RETURN_IF_ERROR(removeLocked(port.portId));
    if (!port.minIngress.isZero()) {
      AppliedDirection in;
      in.minKbps = port.minIngress;
      in.enforcement = Enforcement::placementOnly(kOvsIngressNotEnforced);
      result.ingress = in;
    }
    return result;
  }

  ASSIGN_OR_RETURN(OvsQosTables before, ovsdb_->read());
  if (Status st = unclassify(before, port.portId, port.bridge); !st) {
    return withContext(st.error(), context);
  }
  std::vector<OvsdbOp> committed;
  Result<OvsdbCommit> commit =
      ovsdb_->transact([&](const OvsQosTables& tables) -> Result<std::vector<OvsdbOp>> {
        Result<std::vector<OvsdbOp>> ops =
            planProgram(tables, config_.bridges, config_.defaultQueueRate, port);
        if (ops) committed = *ops;
        return ops;
      });
  if (!commit) return withContext(commit.error(), context);
  for (const OvsdbOp& op : committed) {
    ovsLog()->info("port={} bridge={} ovsdb {}", port.portId, port.bridge, describeOp(op));
  }
  ASSIGN_OR_RETURN(OvsQosTables after, ovsdb_->read());
  if (Status st = classify(after, port); !st) return withContext(st.error(), context);
  ASSIGN_OR_RETURN(auto uplinks, readUplinks(after));
  for (AppliedQos& applied : appliedOn(after, *bridgeConfig(port.bridge), uplinks)) {
    if (applied.port.portId != port.portId) continue;
    if (commit->committed) {
      ovsLog()->info("op=program port={} {} min_kbps={} max_kbps={} status={}", port.portId,
                     applied.egress ? applied.egress->location : "bridge=" + port.bridge,
                     port.minEgress.kbps(), port.ceilEgress.kbps(), applied.overall().toString());
    }
    return std::move(applied);
  }
  return makeError(ErrorCode::kInternal, context + ": programmed, but not found on read-back");
}

Status OvsQueueBackend::remove(const std::string& portId) {
  std::lock_guard lock(mutex_);
  Result<Uuid> id = Uuid::parse(portId);
  if (!id) return Status::ok();  // never programmed: this backend only takes UUIDs
  return removeLocked(id->toString());
}

Status OvsQueueBackend::removeLocked(const std::string& port) {
  ASSIGN_OR_RETURN(OvsQosTables tables, ovsdb_->read());
  // The filters first: the kernel does not delete a class that a filter points to.
  if (Status st = unclassify(tables, port, ""); !st) return withContext(st.error(), "port " + port);
  std::vector<OvsdbOp> committed;
  Result<OvsdbCommit> commit =
      ovsdb_->transact([&](const OvsQosTables& now) -> Result<std::vector<OvsdbOp>> {
        committed = planRemove(now, config_.bridges, port);
        return committed;
      });
  if (!commit) return withContext(commit.error(), "port " + port);
  for (const OvsdbOp& op : committed) ovsLog()->info("port={} ovsdb {}", port, describeOp(op));
  return Status::ok();
}

Result<std::vector<QosCounters>> OvsQueueBackend::counters() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(OvsQosTables tables, ovsdb_->read());
  std::vector<QosCounters> out;
  for (const OvsQueueBridgeConfig& bridge : config_.bridges) {
    const OvsBridgeQos view = viewBridge(tables, bridge.bridge);
    if (view.qos == nullptr) continue;
    std::vector<std::pair<std::string, int64_t>> queues{{"", kOvsDefaultQueue}};
    for (const auto& [port, queue] : view.portQueues) queues.emplace_back(port, queue);
    for (const std::string& dev : uplinkDevices(view)) {
      Result<std::vector<tc::HtbClass>> classes = tc_->listClasses(dev);
      if (!classes && classes.error().code() == ErrorCode::kNotFound) continue;
      if (!classes) return withContext(classes.error(), "counters of " + dev);
      for (const auto& [port, queue] : queues) {
        const uint32_t handle = tc::makeHandle(1, ovsClassMinor(queue));
        for (const tc::HtbClass& cls : *classes) {
          if (cls.handle != handle) continue;
          const tc::TcStats& s = cls.stats;
          out.push_back(
              QosCounters{port, Direction::kEgress, dev,
                          "classid " + tc::formatHandle(handle) + " queue " + std::to_string(queue),
                          s.bytes, s.packets, s.drops, s.overlimits, s.backlogBytes});
        }
      }
    }
  }
  return out;
}

}  // namespace bwfloor::dataplane
