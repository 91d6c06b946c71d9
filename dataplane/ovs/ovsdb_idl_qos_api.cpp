#include "dataplane/ovs/ovsdb_idl_qos_api.h"

#include <algorithm>
#include <climits>
#include <deque>
#include <exception>
#include <utility>

#include "core/logging.h"
#include "dataplane/ovs/ovsdb_idl_shim.h"

namespace bwfloor::dataplane {
namespace {

class TablesGuard {
 public:
  explicit TablesGuard(bwfloor_ovsdb_qos_tables* tables) : tables_(tables) {}
  ~TablesGuard() { bwfloor_ovsdb_qos_tables_free(tables_); }
  TablesGuard(const TablesGuard&) = delete;
  TablesGuard& operator=(const TablesGuard&) = delete;

 private:
  bwfloor_ovsdb_qos_tables* tables_;
};

OvsdbMap toMap(const bwfloor_ovsdb_smap& in) {
  OvsdbMap out;
  for (size_t i = 0; i < in.n; ++i) out.emplace(in.keys[i], in.values[i]);
  return out;
}

OvsInterface toInterface(const bwfloor_ovsdb_interface& in) {
  OvsInterface iface{in.name, in.type, in.peer, std::nullopt};
  if (in.has_ofport != 0) iface.ofport = in.ofport;
  return iface;
}

template <typename T>
void sortByName(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

OvsQosTables toTables(const bwfloor_ovsdb_qos_tables& in) {
  OvsQosTables out;
  for (size_t b = 0; b < in.n_bridges; ++b) {
    const bwfloor_ovsdb_qos_bridge& br = in.bridges[b];
    OvsdbBridgeRow bridge{br.name, br.datapath_type, {}};
    for (size_t p = 0; p < br.n_ports; ++p) {
      const bwfloor_ovsdb_qos_port& port = br.ports[p];
      OvsdbPortRow row{port.uuid, port.name, port.qos, {}};
      for (size_t i = 0; i < port.n_interfaces; ++i)
        row.interfaces.push_back(toInterface(port.interfaces[i]));
      sortByName(row.interfaces);
      bridge.ports.push_back(std::move(row));
    }
    sortByName(bridge.ports);
    out.bridges.push_back(std::move(bridge));
  }
  sortByName(out.bridges);
  for (size_t i = 0; i < in.n_qos; ++i) {
    const bwfloor_ovsdb_qos_row& q = in.qos[i];
    OvsdbQosRow row{q.uuid, q.type, toMap(q.other_config), toMap(q.external_ids), {}};
    for (size_t k = 0; k < q.n_queues; ++k) row.queues[q.queue_ids[k]] = q.queue_uuids[k];
    out.qos.emplace(row.uuid, std::move(row));
  }
  for (size_t i = 0; i < in.n_queues; ++i) {
    const bwfloor_ovsdb_queue_row& q = in.queues[i];
    out.queues.emplace(q.uuid, OvsdbQueueRow{q.uuid, toMap(q.other_config), toMap(q.external_ids)});
  }
  return out;
}

// The C view of one OvsdbMap; the strings live in the OvsdbOp the plan returned.
struct SmapStorage {
  std::vector<char*> keys;
  std::vector<char*> values;
  bwfloor_ovsdb_smap map{};

  const bwfloor_ovsdb_smap* set(OvsdbMap& in) {
    for (auto& [key, value] : in) {
      keys.push_back(const_cast<char*>(key.c_str()));
      values.push_back(value.data());
    }
    map = bwfloor_ovsdb_smap{keys.data(), values.data(), keys.size()};
    return &map;
  }
};

struct OpStorage {
  std::string qosRef;
  SmapStorage otherConfig;
  SmapStorage externalIds;
  std::vector<int64_t> queueIds;
  std::vector<std::string> queueRefs;
  std::vector<const char*> queueRefPointers;
};

int shimKind(OvsdbOp::Kind kind) {
  switch (kind) {
    case OvsdbOp::Kind::kInsertQueue:
      return BWFLOOR_OVSDB_OP_INSERT_QUEUE;
    case OvsdbOp::Kind::kUpdateQueue:
      return BWFLOOR_OVSDB_OP_UPDATE_QUEUE;
    case OvsdbOp::Kind::kDeleteQueue:
      return BWFLOOR_OVSDB_OP_DELETE_QUEUE;
    case OvsdbOp::Kind::kInsertQos:
      return BWFLOOR_OVSDB_OP_INSERT_QOS;
    case OvsdbOp::Kind::kUpdateQos:
      return BWFLOOR_OVSDB_OP_UPDATE_QOS;
    case OvsdbOp::Kind::kDeleteQos:
      return BWFLOOR_OVSDB_OP_DELETE_QOS;
    case OvsdbOp::Kind::kSetPortQos:
      return BWFLOOR_OVSDB_OP_SET_PORT_QOS;
  }
  return 0;
}

std::string refText(const OvsdbRowRef& ref) {
  return ref.isInserted() ? "#" + std::to_string(ref.insertedBy) : ref.uuid;
}

// What the plan callback hands the shim, kept alive until the next plan or the end.
struct PlanContext {
  const OvsdbQosApi::Planner* plan = nullptr;
  std::optional<Error> error;
  std::vector<OvsdbOp> ops;
  std::deque<OpStorage> storage;
  std::vector<bwfloor_ovsdb_op> cOps;

  void expose() {
    storage.clear();
    cOps.clear();
    for (OvsdbOp& op : ops) {
      OpStorage& s = storage.emplace_back();
      bwfloor_ovsdb_op c{};
      c.kind = shimKind(op.kind);
      c.row = op.row.c_str();
      c.type = op.type ? op.type->c_str() : nullptr;
      c.other_config = op.otherConfig ? s.otherConfig.set(*op.otherConfig) : nullptr;
      c.external_ids = op.externalIds ? s.externalIds.set(*op.externalIds) : nullptr;
      if (op.queues) {
        for (const auto& [id, ref] : *op.queues) {
          s.queueIds.push_back(id);
          s.queueRefs.push_back(refText(ref));
        }
        for (const std::string& ref : s.queueRefs) s.queueRefPointers.push_back(ref.c_str());
        c.set_queues = 1;
        c.queue_ids = s.queueIds.data();
        c.queue_refs = s.queueRefPointers.data();
        c.n_queues = s.queueIds.size();
      }
      if (op.kind == OvsdbOp::Kind::kSetPortQos) {
        s.qosRef = op.qos ? refText(*op.qos) : "";
        c.qos_ref = s.qosRef.c_str();
      }
      cOps.push_back(c);
    }
  }
};

// The shim's plan callback: C in, C out, no exception across the boundary.
int planTrampoline(const bwfloor_ovsdb_qos_tables* tables, void* ctx, const bwfloor_ovsdb_op** ops,
                   size_t* nOps) {
  auto* context = static_cast<PlanContext*>(ctx);
  try {
    Result<std::vector<OvsdbOp>> planned = (*context->plan)(toTables(*tables));
    if (!planned) {
      context->error = planned.error();
      return 1;
    }
    context->ops = std::move(planned).value();
    context->expose();
    *ops = context->cOps.data();
    *nOps = context->cOps.size();
    return 0;
  } catch (const std::exception& e) {
    context->error = makeError(ErrorCode::kInternal, std::string("plan threw: ") + e.what());
  } catch (...) {
    context->error = makeError(ErrorCode::kInternal, "plan threw");
  }
  return 1;
}

ErrorCode toErrorCode(int status) {
  switch (status) {
    case BWFLOOR_OVSDB_BAD_REMOTE:
      return ErrorCode::kInvalidArgument;
    case BWFLOOR_OVSDB_UNSUPPORTED:
      return ErrorCode::kUnsupported;
    case BWFLOOR_OVSDB_UNAVAILABLE:
    case BWFLOOR_OVSDB_TIMEOUT:
      return ErrorCode::kUnavailable;
    case BWFLOOR_OVSDB_CONFLICT:
    case BWFLOOR_OVSDB_TXN_ERROR:
      return ErrorCode::kConflict;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

OvsdbIdlQosApi::OvsdbIdlQosApi(std::string remote, std::chrono::milliseconds timeout,
                               bool waitForVswitchd)
    : remote_(std::move(remote)), timeout_(timeout), waitForVswitchd_(waitForVswitchd) {}

Result<OvsQosTables> OvsdbIdlQosApi::read() {
  const auto timeoutMs =
      static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(timeout_.count(), 1, INT_MAX));
  bwfloor_ovsdb_qos_tables tables{};
  bwfloor_ovsdb_error error{};
  const int status = bwfloor_ovsdb_qos_read(remote_.c_str(), timeoutMs, &tables, &error);
  TablesGuard guard(&tables);
  if (status != BWFLOOR_OVSDB_OK) {
    return makeError(toErrorCode(status), "ovsdb remote=" + remote_ + ": " + error.reason,
                     error.sys_errno);
  }
  return toTables(tables);
}

Result<OvsdbCommit> OvsdbIdlQosApi::transact(const Planner& plan) {
  const auto timeoutMs =
      static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(timeout_.count(), 1, INT_MAX));
  PlanContext context;
  context.plan = &plan;
  bwfloor_ovsdb_commit commit{};
  bwfloor_ovsdb_error error{};
  const int status =
      bwfloor_ovsdb_qos_transact(remote_.c_str(), timeoutMs, waitForVswitchd_ ? 1 : 0,
                                 planTrampoline, &context, &commit, &error);
  if (status == BWFLOOR_OVSDB_PLAN_FAILED && context.error) return *context.error;
  if (status == BWFLOOR_OVSDB_NOT_APPLIED) {
    logger("ovs")->warn("ovsdb remote={}: {}", remote_, error.reason);
    return OvsdbCommit{true, commit.attempts, false};
  }
  if (status != BWFLOOR_OVSDB_OK) {
    return makeError(toErrorCode(status), "ovsdb remote=" + remote_ + ": " + error.reason,
                     error.sys_errno);
  }
  logger("ovs")->debug("ovsdb transact remote={} committed={} attempts={} ops={}", remote_,
                       commit.committed != 0, commit.attempts, context.ops.size());
  return OvsdbCommit{commit.committed != 0, commit.attempts};
}

}  // namespace bwfloor::dataplane
