#pragma once
// OvsdbQosApi: the thin OVSDB API under OvsQueueBackend (STYLE.md §3). It reads the rows a QoS
// backend needs (bridges with their ports' qos column, every QoS and Queue row) and commits a list
// of row operations as one OVSDB transaction. No policy: the backend decides what to change.
//
// OvsdbIdlQosApi (ovsdb_idl_qos_api.h) implements it with libopenvswitch's IDL through the C shim;
// FakeOvsdbQosApi (dataplane/ovs/testing/) models the same tables in memory for unit tests. Pure
// data and an interface: bwfloor_dataplane_ovs_model, no libopenvswitch.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "dataplane/ovs/ovs_bridge.h"

namespace bwfloor::dataplane {

// An OVSDB map<string,string> column: other_config, external_ids.
using OvsdbMap = std::map<std::string, std::string>;

struct OvsdbPortRow {
  std::string uuid;
  std::string name;
  std::string qos;  // UUID of the QoS row in Port.qos, "" for none
  std::vector<OvsInterface> interfaces;
  bool operator==(const OvsdbPortRow&) const = default;
};

struct OvsdbBridgeRow {
  std::string name;
  std::string datapathType;  // "" / "system" = kernel datapath, "netdev" = userspace
  std::vector<OvsdbPortRow> ports;
  bool operator==(const OvsdbBridgeRow&) const = default;
};

struct OvsdbQosRow {
  std::string uuid;
  std::string type;  // "linux-htb", ...
  OvsdbMap otherConfig;
  OvsdbMap externalIds;
  std::map<int64_t, std::string> queues;  // queue number -> Queue UUID
  bool operator==(const OvsdbQosRow&) const = default;
};

struct OvsdbQueueRow {
  std::string uuid;
  OvsdbMap otherConfig;
  OvsdbMap externalIds;
  bool operator==(const OvsdbQueueRow&) const = default;
};

// One consistent snapshot. QoS and Queue are root tables: a row lives until it is deleted, even
// when nothing references it.
struct OvsQosTables {
  std::vector<OvsdbBridgeRow> bridges;
  std::map<std::string, OvsdbQosRow> qos;  // by UUID
  std::map<std::string, OvsdbQueueRow> queues;

  const OvsdbBridgeRow* findBridge(const std::string& name) const;
  const OvsdbQosRow* findQos(const std::string& uuid) const;
  const OvsdbQueueRow* findQueue(const std::string& uuid) const;
};

// A row an operation refers to: an existing row (by UUID), or the row inserted by an earlier
// operation of the same transaction (by its index in the operation list).
struct OvsdbRowRef {
  std::string uuid;
  int insertedBy = -1;

  static OvsdbRowRef existing(std::string uuid) { return OvsdbRowRef{std::move(uuid), -1}; }
  static OvsdbRowRef inserted(int opIndex) { return OvsdbRowRef{"", opIndex}; }
  bool isInserted() const { return insertedBy >= 0; }
  bool operator==(const OvsdbRowRef&) const = default;
};

// One change. Columns left unset are not written. Every column written on an existing row is
// verified: if another client changed it since the snapshot, the transaction is planned again.
struct OvsdbOp {
  enum class Kind {
    kInsertQueue,
    kUpdateQueue,
    kDeleteQueue,
    kInsertQos,
    kUpdateQos,
    kDeleteQos,
    kSetPortQos,  // row = the Port; qos = the QoS row, or nullopt to clear Port.qos
  };
  Kind kind = Kind::kInsertQueue;
  std::string row;  // UUID of the updated / deleted row, or of the Port
  std::optional<std::string> type;
  std::optional<OvsdbMap> otherConfig;
  std::optional<OvsdbMap> externalIds;
  std::optional<std::map<int64_t, OvsdbRowRef>> queues;  // replaces QoS.queues
  std::optional<OvsdbRowRef> qos;

  bool operator==(const OvsdbOp&) const = default;
};

// "insert-queue", "set-port-qos", ...: for logs.
const char* opKindName(OvsdbOp::Kind kind);

struct OvsdbCommit {
  bool committed = false;  // something was written
  int attempts = 0;        // plans run (more than 1 after verify conflicts)
  // False when the implementation waits for the switch to apply what was committed and it did not
  // within the timeout (the commit stands; what depends on the switch will find it missing).
  bool switchApplied = true;
};

class OvsdbQosApi {
 public:
  virtual ~OvsdbQosApi() = default;

  virtual Result<OvsQosTables> read() = 0;

  // Plans on a consistent snapshot and commits the plan's operations in one transaction. Runs the
  // plan again on fresh contents when another client changed a verified column meanwhile (a few
  // times at most, then kConflict). An empty plan commits nothing. A plan's error is returned as
  // is and nothing is written. Implementations may also wait until the switch has applied what was
  // committed (OvsdbIdlQosApi: ovs-vswitchd's cur_cfg), see OvsdbCommit::switchApplied.
  using Planner = std::function<Result<std::vector<OvsdbOp>>(const OvsQosTables&)>;
  virtual Result<OvsdbCommit> transact(const Planner& plan) = 0;
};

}  // namespace bwfloor::dataplane
