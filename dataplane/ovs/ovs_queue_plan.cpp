#include "dataplane/ovs/ovs_queue_plan.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "dataplane/tc/htb_layout.h"

namespace bwfloor::dataplane {
namespace {

const std::string* tag(const OvsdbMap& map, const char* key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

bool taggedFor(const OvsdbMap& externalIds, const std::string& bridge) {
  const std::string* value = tag(externalIds, kOvsTagBridge);
  return value != nullptr && *value == bridge;
}

bool isUplink(const OvsdbBridgeRow& bridge, const OvsdbPortRow& port) {
  return std::any_of(port.interfaces.begin(), port.interfaces.end(), [&](const OvsInterface& i) {
    return isSystemInterfaceType(i.type) && i.name != bridge.name;
  });
}

// Collects operations; QoS queue maps are edited in place and written once, at the end.
class PlanBuilder {
 public:
  explicit PlanBuilder(const OvsQosTables& tables) : tables_(tables) {}

  OvsdbRowRef insertQueue(OvsdbMap otherConfig, OvsdbMap externalIds) {
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kInsertQueue;
    op.otherConfig = std::move(otherConfig);
    op.externalIds = std::move(externalIds);
    return push(std::move(op));
  }

  // Writes the columns that differ from the row's.
  void updateQueue(const OvsdbQueueRow& row, const OvsdbMap& otherConfig,
                   const OvsdbMap& externalIds) {
    if (row.otherConfig == otherConfig && row.externalIds == externalIds) return;
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kUpdateQueue;
    op.row = row.uuid;
    if (row.otherConfig != otherConfig) op.otherConfig = otherConfig;
    if (row.externalIds != externalIds) op.externalIds = externalIds;
    push(std::move(op));
  }

  void deleteQueue(const std::string& uuid) {
    if (!deletedQueues_.insert(uuid).second) return;
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kDeleteQueue;
    op.row = uuid;
    push(std::move(op));
  }

  OvsdbRowRef insertQos(const std::string& type, OvsdbMap otherConfig, OvsdbMap externalIds,
                        std::map<int64_t, OvsdbRowRef> queues) {
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kInsertQos;
    op.type = type;
    op.otherConfig = std::move(otherConfig);
    op.externalIds = std::move(externalIds);
    op.queues = std::move(queues);
    return push(std::move(op));
  }

  void updateQos(const OvsdbQosRow& row, const std::string& type, const OvsdbMap& otherConfig,
                 const OvsdbMap& externalIds) {
    if (row.type == type && row.otherConfig == otherConfig && row.externalIds == externalIds) {
      return;
    }
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kUpdateQos;
    op.row = row.uuid;
    if (row.type != type) op.type = type;
    if (row.otherConfig != otherConfig) op.otherConfig = otherConfig;
    if (row.externalIds != externalIds) op.externalIds = externalIds;
    push(std::move(op));
  }

  // The queues column of an existing QoS row, as this plan leaves it.
  std::map<int64_t, OvsdbRowRef>& queuesOf(const OvsdbQosRow& row) {
    auto [it, added] = queues_.try_emplace(row.uuid);
    if (added) {
      for (const auto& [id, uuid] : row.queues) it->second[id] = OvsdbRowRef::existing(uuid);
    }
    return it->second;
  }

  void deleteQos(const OvsdbQosRow& row) {
    if (!deletedQos_.insert(row.uuid).second) return;
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kDeleteQos;
    op.row = row.uuid;
    push(std::move(op));
  }

  void setPortQos(const OvsdbPortRow& port, std::optional<OvsdbRowRef> qos) {
    OvsdbOp op;
    op.kind = OvsdbOp::Kind::kSetPortQos;
    op.row = port.uuid;
    op.qos = std::move(qos);
    push(std::move(op));
  }

  std::vector<OvsdbOp> finish() {
    for (auto& [uuid, queues] : queues_) {
      if (deletedQos_.count(uuid) != 0) continue;
      const OvsdbQosRow* row = tables_.findQos(uuid);
      std::map<int64_t, OvsdbRowRef> before;
      for (const auto& [id, queue] : row->queues) before[id] = OvsdbRowRef::existing(queue);
      if (before == queues) continue;
      OvsdbOp op;
      op.kind = OvsdbOp::Kind::kUpdateQos;
      op.row = uuid;
      op.queues = queues;
      ops_.push_back(std::move(op));
    }
    queues_.clear();
    return std::move(ops_);
  }

 private:
  OvsdbRowRef push(OvsdbOp op) {
    ops_.push_back(std::move(op));
    return OvsdbRowRef::inserted(static_cast<int>(ops_.size() - 1));
  }

  const OvsQosTables& tables_;
  std::vector<OvsdbOp> ops_;
  std::map<std::string, std::map<int64_t, OvsdbRowRef>> queues_;
  std::set<std::string> deletedQos_;
  std::set<std::string> deletedQueues_;
};

OvsdbMap qosConfig(const OvsQueueBridgeConfig& bridge) {
  return {{"max-rate", ovsBitsPerSec(bridge.egressTotal)}};
}

OvsdbMap qosTags(const std::string& bridge) { return {{kOvsTagBridge, bridge}}; }

OvsdbMap defaultQueueTags(const std::string& bridge) {
  return {{kOvsTagBridge, bridge}, {kOvsTagRole, kOvsRoleDefault}};
}

// Takes `portId`'s queues out of the bridge's QoS (all of them, or all but `keep`); tears the QoS
// down when no port queue is left.
void removePortQueues(PlanBuilder& plan, const OvsQosTables& tables, const OvsBridgeQos& view,
                      const std::string& portId, std::optional<int64_t> keep = std::nullopt) {
  if (view.qos == nullptr) return;
  std::map<int64_t, OvsdbRowRef>& queues = plan.queuesOf(*view.qos);
  size_t portQueuesLeft = 0;
  for (const auto& [id, uuid] : view.qos->queues) {
    const OvsdbQueueRow* row = tables.findQueue(uuid);
    const std::string* owner = row != nullptr ? tag(row->externalIds, kOvsTagPortId) : nullptr;
    if (owner == nullptr) continue;
    if (*owner != portId || id == keep) {
      ++portQueuesLeft;
      continue;
    }
    queues.erase(id);
    plan.deleteQueue(uuid);
  }
  if (portQueuesLeft > 0 || keep) return;
  // The last guarantee went: nothing of bwfloor stays on the bridge.
  for (const OvsdbBridgeRow& bridge : tables.bridges) {
    for (const OvsdbPortRow& port : bridge.ports) {
      if (port.qos == view.qos->uuid) plan.setPortQos(port, std::nullopt);
    }
  }
  plan.deleteQos(*view.qos);
  for (const auto& [id, uuid] : view.qos->queues) {
    const OvsdbQueueRow* row = tables.findQueue(uuid);
    if (row != nullptr && tag(row->externalIds, kOvsTagBridge) != nullptr) plan.deleteQueue(uuid);
  }
}

// bwfloor Queue rows of the bridges that no QoS row references (someone edited QoS.queues).
void deleteOrphanQueues(PlanBuilder& plan, const OvsQosTables& tables,
                        const std::set<std::string>& bridges) {
  std::set<std::string> referenced;
  for (const auto& [uuid, qos] : tables.qos) {
    for (const auto& [id, queue] : qos.queues) referenced.insert(queue);
  }
  for (const auto& [uuid, queue] : tables.queues) {
    const std::string* bridge = tag(queue.externalIds, kOvsTagBridge);
    if (bridge != nullptr && bridges.count(*bridge) != 0 && referenced.count(uuid) == 0) {
      plan.deleteQueue(uuid);
    }
  }
}

std::set<std::string> bridgeNames(const std::vector<OvsQueueBridgeConfig>& bridges) {
  std::set<std::string> names;
  for (const OvsQueueBridgeConfig& b : bridges) names.insert(b.bridge);
  return names;
}

Status checkUplinks(const OvsQosTables& tables, const OvsBridgeQos& view,
                    const std::string& bridge) {
  if (view.bridge == nullptr) {
    return makeError(ErrorCode::kNotFound, "bridge " + bridge + " is not in the OVS database");
  }
  if (view.uplinks.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "bridge " + bridge + " has no uplink (no port with a system interface)");
  }
  for (const OvsdbPortRow* uplink : view.uplinks) {
    if (uplink->qos.empty() || (view.qos != nullptr && uplink->qos == view.qos->uuid)) continue;
    const OvsdbQosRow* other = tables.findQos(uplink->qos);
    if (other != nullptr && taggedFor(other->externalIds, bridge)) continue;  // a duplicate of ours
    return makeError(ErrorCode::kConflict,
                     "uplink port " + uplink->name + " of bridge " + bridge + " uses QoS " +
                         uplink->qos + (other != nullptr ? " (type " + other->type + ")" : "") +
                         ", which bwfloor does not manage: clear it (ovs-vsctl clear Port " +
                         uplink->name + " qos) or take the bridge out of bwfloor's configuration");
  }
  return Status::ok();
}

}  // namespace

std::string ovsBitsPerSec(Kbps rate) { return std::to_string(rate.toBitsPerSec()); }

std::optional<Kbps> parseOvsBitsPerSec(const std::string& text) {
  uint64_t bits = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return Kbps::fromBitsPerSec(bits);
}

OvsBridgeQos viewBridge(const OvsQosTables& tables, const std::string& bridge) {
  OvsBridgeQos view;
  view.bridge = tables.findBridge(bridge);
  if (view.bridge == nullptr) return view;
  for (const OvsdbPortRow& port : view.bridge->ports) {
    if (isUplink(*view.bridge, port)) view.uplinks.push_back(&port);
  }
  for (const OvsdbPortRow* uplink : view.uplinks) {
    const OvsdbQosRow* qos = tables.findQos(uplink->qos);
    if (qos != nullptr && taggedFor(qos->externalIds, bridge)) {
      view.qos = qos;
      break;
    }
  }
  if (view.qos == nullptr) {
    for (const auto& [uuid, qos] : tables.qos) {
      if (taggedFor(qos.externalIds, bridge)) {
        view.qos = &qos;
        break;
      }
    }
  }
  if (view.qos == nullptr) return view;
  for (const auto& [id, uuid] : view.qos->queues) {
    const OvsdbQueueRow* row = tables.findQueue(uuid);
    if (row == nullptr) continue;
    if (const std::string* port = tag(row->externalIds, kOvsTagPortId)) {
      view.portQueues.try_emplace(*port, id);  // ascending ids: the lower number wins
    } else if (id == kOvsDefaultQueue) {
      const std::string* role = tag(row->externalIds, kOvsTagRole);
      if (role != nullptr && *role == kOvsRoleDefault) view.defaultQueue = id;
    }
  }
  return view;
}

std::vector<std::string> uplinkDevices(const OvsBridgeQos& view) {
  std::vector<std::string> devices;
  for (const OvsdbPortRow* port : view.uplinks) {
    for (const OvsInterface& iface : port->interfaces) {
      if (isSystemInterfaceType(iface.type) && iface.name != view.bridge->name) {
        devices.push_back(iface.name);
      }
    }
  }
  return devices;
}

std::string ovsBurstBits(Kbps rate) {
  return std::to_string(uint64_t{tc::htbBurstBytes(rate.toBytesPerSec())} * 8);
}

OvsdbMap defaultQueueConfig(const OvsQueueBridgeConfig& bridge, Kbps defaultRate) {
  const Kbps rate = std::min(defaultRate, bridge.egressTotal);
  return {{"min-rate", ovsBitsPerSec(rate)},
          {"max-rate", ovsBitsPerSec(bridge.egressTotal)},
          {"burst", ovsBurstBits(rate)}};
}

OvsdbMap portQueueConfig(const OvsPortQueueSpec& port) {
  return {{"min-rate", ovsBitsPerSec(port.minEgress)},
          {"max-rate", ovsBitsPerSec(std::max(port.ceilEgress, port.minEgress))},
          {"burst", ovsBurstBits(port.minEgress)}};
}

OvsdbMap portQueueTags(const OvsPortQueueSpec& port) {
  OvsdbMap tags{{kOvsTagBridge, port.bridge}, {kOvsTagPortId, port.portId}, {kOvsTagMac, port.mac}};
  if (!port.minIngress.isZero()) {
    tags[kOvsTagMinIngressKbps] = std::to_string(port.minIngress.kbps());
  }
  return tags;
}

Result<std::vector<OvsdbOp>> planProgram(const OvsQosTables& tables,
                                         const std::vector<OvsQueueBridgeConfig>& bridges,
                                         Kbps defaultRate, const OvsPortQueueSpec& port) {
  auto config = std::find_if(bridges.begin(), bridges.end(), [&](const OvsQueueBridgeConfig& b) {
    return b.bridge == port.bridge;
  });
  if (config == bridges.end()) {
    return makeError(ErrorCode::kInvalidArgument, "bridge " + port.bridge + " is not configured");
  }
  const OvsBridgeQos view = viewBridge(tables, port.bridge);
  RETURN_IF_ERROR(checkUplinks(tables, view, port.bridge));

  PlanBuilder plan(tables);
  for (const OvsQueueBridgeConfig& other : bridges) {  // a port that moved to another bridge
    if (other.bridge != port.bridge) {
      removePortQueues(plan, tables, viewBridge(tables, other.bridge), port.portId);
    }
  }
  const OvsdbMap queueConfig = portQueueConfig(port);
  const OvsdbMap queueTags = portQueueTags(port);
  std::optional<OvsdbRowRef> qosRef;
  if (view.qos == nullptr) {
    const std::optional<uint32_t> minor =
        tc::allocatePortMinor(port.portId, [](uint32_t) { return true; });
    const OvsdbRowRef defaultQueue =
        plan.insertQueue(defaultQueueConfig(*config, defaultRate), defaultQueueTags(port.bridge));
    const OvsdbRowRef portQueue = plan.insertQueue(queueConfig, queueTags);
    qosRef = plan.insertQos(kOvsQosType, qosConfig(*config), qosTags(port.bridge),
                            {{kOvsDefaultQueue, defaultQueue}, {*minor - 1, portQueue}});
  } else {
    const OvsdbQosRow& qos = *view.qos;
    plan.updateQos(qos, kOvsQosType, qosConfig(*config), qosTags(port.bridge));
    std::map<int64_t, OvsdbRowRef>& queues = plan.queuesOf(qos);
    // Queue 0 is the default queue, whatever it was made as: repaired in place.
    const OvsdbQueueRow* defaultRow = qos.queues.count(kOvsDefaultQueue) != 0
                                          ? tables.findQueue(qos.queues.at(kOvsDefaultQueue))
                                          : nullptr;
    if (defaultRow == nullptr) {
      queues[kOvsDefaultQueue] =
          plan.insertQueue(defaultQueueConfig(*config, defaultRate), defaultQueueTags(port.bridge));
    } else {
      plan.updateQueue(*defaultRow, defaultQueueConfig(*config, defaultRate),
                       defaultQueueTags(port.bridge));
    }
    auto mine = view.portQueues.find(port.portId);
    if (mine != view.portQueues.end()) {
      removePortQueues(plan, tables, view, port.portId, mine->second);  // duplicates
      plan.updateQueue(*tables.findQueue(qos.queues.at(mine->second)), queueConfig, queueTags);
    } else {
      const std::optional<uint32_t> minor = tc::allocatePortMinor(
          port.portId, [&](uint32_t m) { return queues.count(static_cast<int64_t>(m) - 1) == 0; });
      if (!minor) {
        return makeError(ErrorCode::kUnavailable,
                         "bridge " + port.bridge + ": no free queue number (all " +
                             std::to_string(tc::kPortMinorCount) + " are in use)");
      }
      queues[*minor - 1] = plan.insertQueue(queueConfig, queueTags);
    }
    qosRef = OvsdbRowRef::existing(qos.uuid);
  }
  for (const OvsdbPortRow* uplink : view.uplinks) {
    if (view.qos == nullptr || uplink->qos != view.qos->uuid) plan.setPortQos(*uplink, qosRef);
  }
  deleteOrphanQueues(plan, tables, bridgeNames(bridges));
  return plan.finish();
}

std::vector<OvsdbOp> planRemove(const OvsQosTables& tables,
                                const std::vector<OvsQueueBridgeConfig>& bridges,
                                const std::string& portId) {
  PlanBuilder plan(tables);
  for (const OvsQueueBridgeConfig& bridge : bridges) {
    const OvsBridgeQos view = viewBridge(tables, bridge.bridge);
    if (view.portQueues.count(portId) != 0) removePortQueues(plan, tables, view, portId);
  }
  deleteOrphanQueues(plan, tables, bridgeNames(bridges));
  return plan.finish();
}

}  // namespace bwfloor::dataplane
