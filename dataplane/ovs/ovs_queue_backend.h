#pragma once
// OvsQueueBackend: guaranteed egress minimums with Open vSwitch linux-htb queues on a physical
// bridge's uplink, as Neutron's OVS agent makes them, plus the classification that makes them
// hold on both OVS datapaths.
//
// - OVSDB (ovs_queue_plan.h): one QoS row per bridge on every uplink port, a default queue 0 and a
//   Queue per guaranteed port, tagged in external_ids (bwfloor-port-id, bwfloor-mac, ...), written
//   through OvsdbQosApi in one transaction per change. ovs-vswitchd turns them into an HTB tree on
//   each uplink interface (classid 1:<N+1> for queue N).
// - tc (ovs_queue_tc.h): a u32 source-MAC filter per port on that HTB, and short leaf queues on the
//   userspace datapath. Why filters rather than OpenFlow set_queue, and why the leaves: there.
//
// Directions: egress (VM -> network) only. A minimum towards the VM is reported
// "placement-only": OVS queues shape what leaves a port, and on the userspace datapath
// ovs-vswitchd reads the uplink's frames from an AF_PACKET socket, which the kernel serves before
// the tc ingress hook, so no queue can be put in front of it (HtbBackend's IFB trick shapes frames
// that OVS has already taken). On the kernel datapath OVS receives after tc ingress, so an IFB
// tree in front of the uplink would work there; this backend does not build one (yet). The
// requested minimum is recorded in the queue's tags.
//
// State: OVSDB and the kernel are the only stores; every call reads them again (observe() after a
// restart adopts what the tags name). program(): the port's filters on other bridges go first,
// then one OVSDB transaction (which, with OvsdbIdlQosApi, returns once ovs-vswitchd has applied
// it), then the filters and leaves, then a read-back. remove(): filters first (the kernel refuses
// to delete a class a filter points to), then the queue; the last queue takes the QoS along.
//
// Not thread-safe by itself; calls are serialised with a mutex.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/api/qos_backend.h"
#include "dataplane/ovs/ovs_queue_plan.h"
#include "dataplane/ovs/ovs_queue_tc.h"
#include "dataplane/ovs/ovsdb_qos_api.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane {

struct OvsQueueBackendConfig {
  std::vector<OvsQueueBridgeConfig> bridges;
  // min-rate of queue 0, the floor of all unguaranteed traffic (its ceiling is the total).
  Kbps defaultQueueRate{1000};
  // Userspace (netdev) datapath only: the bytes of ovs-vswitchd's one send buffer that each uplink
  // may fill; every class gets a pfifo leaf sized to it as HtbBackend's are (tc/htb_layout.h,
  // ovs_queue_tc.h). 0 keeps HTB's default leaves.
  uint64_t netdevSenderBufferBytes = 212992;
};

// Every problem at once, one per line: empty or duplicate bridges, a zero total or one above what
// linux-htb can hold (34359738 kbit/s), a zero default rate.
Status validateOvsQueueConfig(const OvsQueueBackendConfig& config);

// The "placement-only" reason for ingress minimums.
extern const char* const kOvsIngressNotEnforced;

class OvsQueueBackend : public QosBackend {
 public:
  // The APIs are shared so that tests can keep the fake database and kernel across instances.
  OvsQueueBackend(OvsQueueBackendConfig config, std::shared_ptr<OvsdbQosApi> ovsdb,
                  std::shared_ptr<tc::TcApi> tc);

  std::string name() const override { return "ovs"; }
  Result<std::vector<AppliedQos>> observe() override;
  Result<AppliedQos> program(const QosSpec& spec) override;
  Status remove(const std::string& portId) override;
  Result<std::vector<QosCounters>> counters() override;

 private:
  Result<OvsPortQueueSpec> validate(const QosSpec& spec) const;
  const OvsQueueBridgeConfig* bridgeConfig(const std::string& bridge) const;
  // Reads the uplinks' tc state of every configured bridge that has a QoS.
  Result<std::map<std::string, UplinkTcState>> readUplinks(const OvsQosTables& tables);
  std::vector<AppliedQos> appliedOn(const OvsQosTables& tables, const OvsQueueBridgeConfig& bridge,
                                    const std::map<std::string, UplinkTcState>& uplinks) const;
  // Filters of `portId` on the configured bridges' uplinks, except on `keepBridge`.
  Status unclassify(const OvsQosTables& tables, const std::string& portId,
                    const std::string& keepBridge);
  Status classify(const OvsQosTables& tables, const OvsPortQueueSpec& port);
  Status removeLocked(const std::string& portId);  // canonical id, mutex held
  // The pfifo lengths on a bridge's uplink (0: HTB's own leaves): a queue with `min`, queue 0.
  LeafPackets leafPackets(const OvsdbBridgeRow& bridge, Kbps min) const;

  OvsQueueBackendConfig config_;
  std::shared_ptr<OvsdbQosApi> ovsdb_;
  std::shared_ptr<tc::TcApi> tc_;
  std::mutex mutex_;
};

}  // namespace bwfloor::dataplane
