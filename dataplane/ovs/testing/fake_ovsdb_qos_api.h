#pragma once
// FakeOvsdbQosApi: the Open_vSwitch database's Bridge/Port/Interface/QoS/Queue tables in memory,
// with OVSDB's rules for what OvsQueueBackend does: one transaction applies all of a plan's
// operations or none, references must resolve (an operation on an unknown row fails the
// transaction, as an inserted row's "#N" must name an earlier insert), and at commit every
// reference must hold ("referential integrity violation": a Queue still in a QoS, a QoS still on
// a Port). A column written on a row someone else changed since the snapshot makes the plan run
// again (verify), as libopenvswitch's IDL does. Tests only (bwfloor_dataplane_ovs_testing).
//
// FakeVswitchd plays ovs-vswitchd for unit tests: after each commit it makes a FakeTcApi hold what
// ovs-vswitchd would create for the QoS rows on the uplinks (htb 1: default 1, 1:fffe, 1:<N+1>).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/ovs/ovsdb_qos_api.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane {

class FakeOvsdbQosApi : public OvsdbQosApi {
 public:
  // Adds a bridge with an internal local port and the given ports, each with one interface named
  // like the port (type "" = system, "patch", "internal", ...). Returns nothing; UUIDs are made up.
  void addBridgeForTest(const std::string& name, const std::string& datapathType,
                        const std::vector<std::pair<std::string, std::string>>& ports);
  // A port with several interfaces (a bond).
  void addBondForTest(const std::string& bridge, const std::string& port,
                      const std::vector<std::string>& members);
  void removePortForTest(const std::string& bridge, const std::string& port);

  // Direct access, as `ovs-vsctl` would have: changes are not verified and run no hook.
  OvsQosTables& tablesForTest() { return tables_; }
  // UUID of the port named `name`, "" if none.
  std::string portUuidForTest(const std::string& name) const;
  // A row inserted by hand (what an operator's `ovs-vsctl create` leaves).
  std::string insertQosForTest(OvsdbQosRow row);
  std::string insertQueueForTest(OvsdbQueueRow row);

  // The next read() / transact() fails with `error`.
  void failNextForTest(const std::string& method, Error error);
  // Runs once, between the next plan and its commit: a concurrent writer.
  void interleaveOnceForTest(std::function<void(OvsQosTables&)> write);
  // Runs after every commit that changed something (FakeVswitchd::apply).
  void onCommitForTest(std::function<void(const OvsQosTables&)> hook) {
    onCommit_ = std::move(hook);
  }

  int commitsForTest() const { return commits_; }
  int plansForTest() const { return plans_; }
  std::vector<OvsdbOp> lastOpsForTest() const { return lastOps_; }

  Result<OvsQosTables> read() override;
  Result<OvsdbCommit> transact(const Planner& plan) override;

 private:
  std::string newUuid();
  Status apply(const std::vector<OvsdbOp>& ops, OvsQosTables& tables);
  static Status checkIntegrity(const OvsQosTables& tables);
  bool verifyFails(const std::vector<OvsdbOp>& ops, const OvsQosTables& snapshot) const;
  OvsdbPortRow* findPort(OvsQosTables& tables, const std::string& uuid);

  OvsQosTables tables_;
  std::map<std::string, Error> failures_;
  std::function<void(OvsQosTables&)> interleave_;
  std::function<void(const OvsQosTables&)> onCommit_;
  std::vector<OvsdbOp> lastOps_;
  int nextUuid_ = 1;
  int commits_ = 0;
  int plans_ = 0;
};

// What ovs-vswitchd's netdev-linux does with a linux-htb QoS (lib/netdev-linux.c, OVS 3.1), on
// a FakeTcApi: for every system interface of a port with a linux-htb QoS, "htb 1: default 1" at
// the root (kept if it is there), class 1:fffe (rate = ceil = QoS max-rate), class 1:<N+1> per
// queue (rate = max(min-rate, MTU), ceil = max-rate), and classes of removed queues deleted; an
// interface whose port lost its QoS gets its root qdisc deleted. A change the kernel refuses
// (e.g. deleting a class a filter points to, FakeTcApi::modelClassInUseForTest) is counted, as
// ovs-vswitchd logs it and tries again at its next reconfiguration.
class FakeVswitchd {
 public:
  explicit FakeVswitchd(std::shared_ptr<tc::TcApi> tc, uint32_t mtu = 1500)
      : tc_(std::move(tc)), mtu_(mtu) {}
  void apply(const OvsQosTables& tables);
  int failuresForTest() const { return failures_; }

 private:
  void applyQos(const std::string& dev, const OvsdbQosRow& qos, const OvsQosTables& tables);

  std::shared_ptr<tc::TcApi> tc_;
  uint32_t mtu_;
  int failures_ = 0;
};

}  // namespace bwfloor::dataplane
