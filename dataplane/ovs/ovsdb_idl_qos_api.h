#pragma once
// OvsdbQosApi over libopenvswitch's OVSDB IDL (the C shim, ovsdb_qos_shim.c). Like
// OvsdbBridgeReader, every call is one short session: connect, wait for the rows, (plan, commit,
// wait for ovs-vswitchd,) disconnect. No state survives between calls and a restarted ovsdb-server
// needs no reconnect logic; calls are serialized process-wide (libopenvswitch keeps global state).
// See ovsdb_bridge_reader.h for what linking libopenvswitch means for the process (signals, vlog).

#include <chrono>
#include <string>

#include "dataplane/ovs/ovsdb_qos_api.h"

namespace bwfloor::dataplane {

class OvsdbIdlQosApi : public OvsdbQosApi {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  // `remote`: "unix:PATH" or "tcp:IP:PORT". `timeout` bounds a whole call, waiting for
  // ovs-vswitchd included. With `waitForVswitchd`, a transaction that changed something returns
  // once ovs-vswitchd has applied it (the QoS is in the kernel), or at the timeout with
  // switchApplied = false (logged at warn).
  explicit OvsdbIdlQosApi(std::string remote, std::chrono::milliseconds timeout = kDefaultTimeout,
                          bool waitForVswitchd = true);

  // Errors: kUnavailable (cannot connect, timeout),
  // kConflict (the rows kept changing, or the server refused: referential integrity),
  // kInvalidArgument (not an active remote), kInternal (an operation names an unknown row),
  // kUnsupported (built without libopenvswitch). Messages name the remote.
  Result<OvsQosTables> read() override;
  Result<OvsdbCommit> transact(const Planner& plan) override;

  const std::string& remote() const { return remote_; }

 private:
  std::string remote_;
  std::chrono::milliseconds timeout_;
  bool waitForVswitchd_;
};

}  // namespace bwfloor::dataplane
