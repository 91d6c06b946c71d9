#include "dataplane/ovs/ovsdb_qos_api.h"

namespace bwfloor::dataplane {

const OvsdbBridgeRow* OvsQosTables::findBridge(const std::string& name) const {
  for (const OvsdbBridgeRow& bridge : bridges) {
    if (bridge.name == name) return &bridge;
  }
  return nullptr;
}

const OvsdbQosRow* OvsQosTables::findQos(const std::string& uuid) const {
  auto it = qos.find(uuid);
  return it == qos.end() ? nullptr : &it->second;
}

const OvsdbQueueRow* OvsQosTables::findQueue(const std::string& uuid) const {
  auto it = queues.find(uuid);
  return it == queues.end() ? nullptr : &it->second;
}

const char* opKindName(OvsdbOp::Kind kind) {
  switch (kind) {
    case OvsdbOp::Kind::kInsertQueue:
      return "insert-queue";
    case OvsdbOp::Kind::kUpdateQueue:
      return "update-queue";
    case OvsdbOp::Kind::kDeleteQueue:
      return "delete-queue";
    case OvsdbOp::Kind::kInsertQos:
      return "insert-qos";
    case OvsdbOp::Kind::kUpdateQos:
      return "update-qos";
    case OvsdbOp::Kind::kDeleteQos:
      return "delete-qos";
    case OvsdbOp::Kind::kSetPortQos:
      return "set-port-qos";
  }
  return "unknown";
}

}  // namespace bwfloor::dataplane
