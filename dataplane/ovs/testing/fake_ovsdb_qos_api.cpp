#include "dataplane/ovs/testing/fake_ovsdb_qos_api.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace bwfloor::dataplane {
namespace {

constexpr int kMaxAttempts = 5;

Error txnError(const std::string& what) {
  return makeError(ErrorCode::kConflict, "fake ovsdb: transaction error: " + what);
}

uint64_t bitsOr(const OvsdbMap& map, const char* key, uint64_t fallback) {
  auto it = map.find(key);
  if (it == map.end()) return fallback;
  try {
    return std::stoull(it->second);
  } catch (...) {
    return fallback;
  }
}

}  // namespace

std::string FakeOvsdbQosApi::newUuid() {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012x", nextUuid_++);
  return buf;
}

void FakeOvsdbQosApi::addBridgeForTest(
    const std::string& name, const std::string& datapathType,
    const std::vector<std::pair<std::string, std::string>>& ports) {
  OvsdbBridgeRow bridge{name, datapathType, {}};
  bridge.ports.push_back(
      OvsdbPortRow{newUuid(), name, "", {OvsInterface{name, "internal", "", 65534}}});
  int64_t ofport = 1;
  for (const auto& [port, type] : ports) {
    bridge.ports.push_back(
        OvsdbPortRow{newUuid(), port, "", {OvsInterface{port, type, "", ofport++}}});
  }
  tables_.bridges.push_back(std::move(bridge));
}

void FakeOvsdbQosApi::addBondForTest(const std::string& bridge, const std::string& port,
                                     const std::vector<std::string>& members) {
  for (OvsdbBridgeRow& b : tables_.bridges) {
    if (b.name != bridge) continue;
    OvsdbPortRow row{newUuid(), port, "", {}};
    for (const std::string& m : members) row.interfaces.push_back(OvsInterface{m, "", "", 10});
    b.ports.push_back(std::move(row));
  }
}

void FakeOvsdbQosApi::removePortForTest(const std::string& bridge, const std::string& port) {
  for (OvsdbBridgeRow& b : tables_.bridges) {
    if (b.name != bridge) continue;
    std::erase_if(b.ports, [&](const OvsdbPortRow& p) { return p.name == port; });
  }
}

std::string FakeOvsdbQosApi::portUuidForTest(const std::string& name) const {
  for (const OvsdbBridgeRow& b : tables_.bridges) {
    for (const OvsdbPortRow& p : b.ports) {
      if (p.name == name) return p.uuid;
    }
  }
  return "";
}

std::string FakeOvsdbQosApi::insertQosForTest(OvsdbQosRow row) {
  row.uuid = newUuid();
  const std::string uuid = row.uuid;
  tables_.qos[uuid] = std::move(row);
  return uuid;
}

std::string FakeOvsdbQosApi::insertQueueForTest(OvsdbQueueRow row) {
  row.uuid = newUuid();
  const std::string uuid = row.uuid;
  tables_.queues[uuid] = std::move(row);
  return uuid;
}

void FakeOvsdbQosApi::failNextForTest(const std::string& method, Error error) {
  failures_.insert_or_assign(method, std::move(error));
}

void FakeOvsdbQosApi::interleaveOnceForTest(std::function<void(OvsQosTables&)> write) {
  interleave_ = std::move(write);
}

Result<OvsQosTables> FakeOvsdbQosApi::read() {
  if (auto it = failures_.find("read"); it != failures_.end()) {
    Error error = it->second;
    failures_.erase(it);
    return error;
  }
  return tables_;
}

OvsdbPortRow* FakeOvsdbQosApi::findPort(OvsQosTables& tables, const std::string& uuid) {
  for (OvsdbBridgeRow& b : tables.bridges) {
    for (OvsdbPortRow& p : b.ports) {
      if (p.uuid == uuid) return &p;
    }
  }
  return nullptr;
}

// The columns an operation writes on an existing row, compared between the snapshot the plan saw
// and the tables now: what ovsdb_idl_txn_verify would catch.
bool FakeOvsdbQosApi::verifyFails(const std::vector<OvsdbOp>& ops,
                                  const OvsQosTables& snapshot) const {
  auto& self = const_cast<FakeOvsdbQosApi&>(*this);
  for (const OvsdbOp& op : ops) {
    switch (op.kind) {
      case OvsdbOp::Kind::kUpdateQueue: {
        const OvsdbQueueRow* before = snapshot.findQueue(op.row);
        const OvsdbQueueRow* now = tables_.findQueue(op.row);
        if (before == nullptr || now == nullptr) return true;
        if (op.otherConfig && before->otherConfig != now->otherConfig) return true;
        if (op.externalIds && before->externalIds != now->externalIds) return true;
        break;
      }
      case OvsdbOp::Kind::kUpdateQos: {
        const OvsdbQosRow* before = snapshot.findQos(op.row);
        const OvsdbQosRow* now = tables_.findQos(op.row);
        if (before == nullptr || now == nullptr) return true;
        if (op.type && before->type != now->type) return true;
        if (op.otherConfig && before->otherConfig != now->otherConfig) return true;
        if (op.externalIds && before->externalIds != now->externalIds) return true;
        if (op.queues && before->queues != now->queues) return true;
        break;
      }
      case OvsdbOp::Kind::kSetPortQos: {
        OvsQosTables copy = snapshot;
        const OvsdbPortRow* before = self.findPort(copy, op.row);
        const OvsdbPortRow* now = self.findPort(self.tables_, op.row);
        if (before == nullptr || now == nullptr || before->qos != now->qos) return true;
        break;
      }
      default:
        break;
    }
  }
  return false;
}

Status FakeOvsdbQosApi::apply(const std::vector<OvsdbOp>& ops, OvsQosTables& tables) {
  std::vector<std::string> inserted(ops.size());
  auto resolve = [&](const OvsdbRowRef& ref, OvsdbOp::Kind insertKind) -> Result<std::string> {
    if (!ref.isInserted()) return ref.uuid;
    const auto index = static_cast<size_t>(ref.insertedBy);
    if (index >= ops.size() || inserted[index].empty() || ops[index].kind != insertKind) {
      return txnError("reference #" + std::to_string(ref.insertedBy) + " names no earlier insert");
    }
    return inserted[index];
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    const OvsdbOp& op = ops[i];
    const std::string what = std::string(opKindName(op.kind)) + " " + op.row;
    switch (op.kind) {
      case OvsdbOp::Kind::kInsertQueue:
      case OvsdbOp::Kind::kUpdateQueue: {
        OvsdbQueueRow* row = nullptr;
        if (op.kind == OvsdbOp::Kind::kInsertQueue) {
          inserted[i] = newUuid();
          row = &tables.queues[inserted[i]];
          row->uuid = inserted[i];
        } else if (auto it = tables.queues.find(op.row); it != tables.queues.end()) {
          row = &it->second;
        } else {
          return makeError(ErrorCode::kInternal, "fake ovsdb: " + what + ": no such row");
        }
        if (op.otherConfig) row->otherConfig = *op.otherConfig;
        if (op.externalIds) row->externalIds = *op.externalIds;
        break;
      }
      case OvsdbOp::Kind::kInsertQos:
      case OvsdbOp::Kind::kUpdateQos: {
        OvsdbQosRow* row = nullptr;
        if (op.kind == OvsdbOp::Kind::kInsertQos) {
          inserted[i] = newUuid();
          row = &tables.qos[inserted[i]];
          row->uuid = inserted[i];
        } else if (auto it = tables.qos.find(op.row); it != tables.qos.end()) {
          row = &it->second;
        } else {
          return makeError(ErrorCode::kInternal, "fake ovsdb: " + what + ": no such row");
        }
        if (op.type) row->type = *op.type;
        if (op.otherConfig) row->otherConfig = *op.otherConfig;
        if (op.externalIds) row->externalIds = *op.externalIds;
        if (op.queues) {
          std::map<int64_t, std::string> queues;
          for (const auto& [id, ref] : *op.queues) {
            ASSIGN_OR_RETURN(queues[id], resolve(ref, OvsdbOp::Kind::kInsertQueue));
          }
          row->queues = std::move(queues);
        }
        break;
      }
      case OvsdbOp::Kind::kDeleteQueue:
      case OvsdbOp::Kind::kDeleteQos: {
        const bool erased = op.kind == OvsdbOp::Kind::kDeleteQueue ? tables.queues.erase(op.row)
                                                                   : tables.qos.erase(op.row);
        if (!erased)
          return makeError(ErrorCode::kInternal, "fake ovsdb: " + what + ": no such row");
        break;
      }
      case OvsdbOp::Kind::kSetPortQos: {
        OvsdbPortRow* port = findPort(tables, op.row);
        if (port == nullptr) {
          return makeError(ErrorCode::kInternal, "fake ovsdb: " + what + ": no such port");
        }
        std::string qos;
        if (op.qos) {
          ASSIGN_OR_RETURN(qos, resolve(*op.qos, OvsdbOp::Kind::kInsertQos));
        }
        port->qos = qos;
        break;
      }
    }
  }
  return checkIntegrity(tables);
}

Status FakeOvsdbQosApi::checkIntegrity(const OvsQosTables& tables) {
  for (const auto& [uuid, qos] : tables.qos) {
    for (const auto& [id, queue] : qos.queues) {
      if (tables.queues.count(queue) == 0) {
        return txnError("referential integrity violation: QoS " + uuid + " queue " +
                        std::to_string(id) + " references deleted Queue " + queue);
      }
    }
  }
  for (const OvsdbBridgeRow& b : tables.bridges) {
    for (const OvsdbPortRow& p : b.ports) {
      if (!p.qos.empty() && tables.qos.count(p.qos) == 0) {
        return txnError("referential integrity violation: Port " + p.name +
                        " references missing QoS " + p.qos);
      }
    }
  }
  return Status::ok();
}

Result<OvsdbCommit> FakeOvsdbQosApi::transact(const Planner& plan) {
  if (auto it = failures_.find("transact"); it != failures_.end()) {
    Error error = it->second;
    failures_.erase(it);
    return error;
  }
  OvsdbCommit commit;
  while (true) {
    const OvsQosTables snapshot = tables_;
    ++commit.attempts;
    ++plans_;
    ASSIGN_OR_RETURN(std::vector<OvsdbOp> ops, plan(snapshot));
    if (ops.empty()) return commit;
    if (interleave_) {
      auto write = std::move(interleave_);
      interleave_ = nullptr;
      write(tables_);
    }
    if (verifyFails(ops, snapshot)) {
      if (commit.attempts >= kMaxAttempts) {
        return makeError(ErrorCode::kConflict, "fake ovsdb: the database kept changing");
      }
      continue;
    }
    OvsQosTables next = tables_;
    RETURN_IF_ERROR(apply(ops, next));
    tables_ = std::move(next);
    lastOps_ = ops;
    ++commits_;
    commit.committed = true;
    if (onCommit_) onCommit_(tables_);
    return commit;
  }
}

// --- FakeVswitchd -------------------------------------------------------------------------------

void FakeVswitchd::applyQos(const std::string& dev, const OvsdbQosRow& qos,
                            const OvsQosTables& tables) {
  using namespace tc;
  const uint32_t root = makeHandle(1, 0xfffe);
  Result<std::vector<Qdisc>> qdiscs = tc_->listQdiscs(dev);
  if (!qdiscs) return;  // the device is not there: ovs-vswitchd logs and goes on
  const bool haveHtb = std::any_of(qdiscs->begin(), qdiscs->end(), [](const Qdisc& q) {
    return q.parent == kParentRoot && q.kind == "htb" && q.handle == makeHandle(1, 0);
  });
  if (!haveHtb) {
    Qdisc htb{makeHandle(1, 0), kParentRoot, "htb", 1, 10};
    if (!tc_->addQdisc(dev, htb)) ++failures_;
  }
  const uint64_t maxBytes = bitsOr(qos.otherConfig, "max-rate", 100000000) / 8;
  std::map<uint32_t, HtbClass> existing;
  if (auto classes = tc_->listClasses(dev)) {
    for (const HtbClass& c : *classes) existing[c.handle] = c;
  }
  auto put = [&](uint32_t handle, uint32_t parent, uint64_t rate, uint64_t ceil) {
    HtbClass cls{handle, parent, rate, ceil, mtu_ + 64, mtu_ + 64, mtu_};
    Status st = existing.count(handle) != 0 ? tc_->changeClass(dev, cls) : tc_->addClass(dev, cls);
    if (!st) ++failures_;
  };
  put(root, kParentRoot, maxBytes, maxBytes);
  std::set<uint32_t> wanted{root};
  for (const auto& [id, uuid] : qos.queues) {
    const OvsdbQueueRow* queue = tables.findQueue(uuid);
    if (queue == nullptr) continue;
    const uint64_t minBytes = std::min<uint64_t>(
        std::max<uint64_t>(bitsOr(queue->otherConfig, "min-rate", 0) / 8, mtu_), maxBytes);
    const uint64_t ceil = std::min<uint64_t>(
        std::max<uint64_t>(bitsOr(queue->otherConfig, "max-rate", maxBytes * 8) / 8, minBytes),
        maxBytes);
    const uint32_t handle = makeHandle(1, static_cast<uint32_t>(id + 1));
    put(handle, root, minBytes, ceil);
    wanted.insert(handle);
  }
  for (const auto& [handle, cls] : existing) {
    if (wanted.count(handle) == 0 && !tc_->deleteClass(dev, handle)) ++failures_;
  }
}

void FakeVswitchd::apply(const OvsQosTables& tables) {
  for (const OvsdbBridgeRow& bridge : tables.bridges) {
    for (const OvsdbPortRow& port : bridge.ports) {
      const OvsdbQosRow* qos = tables.findQos(port.qos);
      for (const OvsInterface& iface : port.interfaces) {
        if (!isSystemInterfaceType(iface.type) || iface.name == bridge.name) continue;
        if (qos != nullptr && qos->type == "linux-htb") {
          applyQos(iface.name, *qos, tables);
          continue;
        }
        Result<std::vector<tc::Qdisc>> qdiscs = tc_->listQdiscs(iface.name);
        if (!qdiscs) continue;
        for (const tc::Qdisc& q : *qdiscs) {
          if (q.parent == tc::kParentRoot && q.kind == "htb" && !tc_->deleteQdisc(iface.name, q)) {
            ++failures_;
          }
        }
      }
    }
  }
}

}  // namespace bwfloor::dataplane
