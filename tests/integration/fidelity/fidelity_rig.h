#pragma once
// The rig of the fidelity matrix (bench/fidelity/): guaranteed ports and a neighbour on one shaped
// uplink, on each datapath bwfloor claims, with the backend the agent would pick. Root only.
//
//   kLinuxBridge (the kernel path; the uplink is a veth on a Linux bridge: a MAC-classified
//   uplink needs L2 to carry the VMs' MACs, so a "plain veth" uplink is this rig too)
//     ns app<i> -- ns vm<i> --+                                    ns net (iperf3 servers)
//                             br0 --- up0 ==veth== ns rtr ==veth==
//     ns appB  --- ns vmB  ---+   ns host
//   Every TCP endpoint sits one IP hop from the shaped queue (app -> vm, net -> rtr): across a
//   veth into another namespace the kernel keeps the sending socket on the skb, so TCP small
//   queues would throttle a sender from the HTB queue as if it were its own. A guest behind
//   virtio does not see the host's queues; the IP hop (ip_rcv orphans the skb) gives that.
//
//   kOvsUserspace / kOvsKernel (Neutron's topology, datapath_type netdev / system)
//     ns vm<i> -- v<i>-h --+                                          ns net (iperf3 servers)
//                          br-int ==patch== br-test -- up0 ==veth==
//     ns vmB  --- vB-h ----+     ns host: ovsdb-server + ovs-vswitchd
//   On the userspace datapath the VMs' veths send without checksum and segmentation offload
//   (ovs-vswitchd forwards what it reads from its packet sockets as it is, as a tap-backed VM
//   would hand it over). The kernel datapath needs the openvswitch module: the vf-vm rig.
//
// Backends: "htb" (HtbBackend on up0, configured as the agent configures it for that datapath:
// on the userspace datapath with leaves sized to ovs-vswitchd's send buffer and no ingress tree)
// or "ovs" (OvsQueueBackend on br-test; OVS datapaths only, egress only).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/api/qos_backend.h"
#include "dataplane/tc/tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"
#include "tests/integration/ovs/ovsdb_server_rig.h"

namespace bwfloor::test {

enum class Datapath { kLinuxBridge, kOvsUserspace, kOvsKernel };
// "bridge", "ovs-netdev", "ovs-system"; nullopt for anything else.
std::optional<Datapath> parseDatapath(const std::string& text);
std::string datapathName(Datapath datapath);

class FidelityRig {
 public:
  // `ports` guaranteed ports (0 .. ports-1) and one neighbour, B.
  FidelityRig(Datapath datapath, int ports);
  ~FidelityRig();
  FidelityRig(const FidelityRig&) = delete;
  FidelityRig& operator=(const FidelityRig&) = delete;

  // Namespaces, links, bridges, daemons; the tc socket in the host namespace.
  ::testing::AssertionResult build();
  // The backend the agent would run here for `kind` ("htb" or "ovs"), the uplink's total `total`
  // each way; nullptr and a failure for a combination that does not exist.
  std::unique_ptr<dataplane::QosBackend> makeBackend(const std::string& kind, Kbps total);
  // The QosSpec device a backend of `kind` is given: the uplink (htb) or the bridge (ovs).
  std::string backendDevice(const std::string& kind) const;

  Datapath datapath() const { return datapath_; }
  int ports() const { return ports_; }
  // Where port i's / B's iperf3 client runs, and the MACs classified on.
  const Netns& portClient(int i) const;
  const Netns& neighbourClient() const;
  std::string portMac(int i) const;
  const Netns& servers() const { return net_; }
  std::string serverAddress() const;

  // Frames that entered the host from port i's VM (-1: B's), by the host-side veth's counter.
  uint64_t framesFromVm(int i) const;
  // `tc -s` of the uplink's qdiscs and classes, and ovs-vswitchd's warnings, for a failure message.
  std::string evidence() const;

 private:
  ::testing::AssertionResult ip(const Netns& ns, const std::vector<std::string>& args) const;
  ::testing::AssertionResult buildBridge();
  ::testing::AssertionResult buildOvs();
  std::string hostSide(int i) const;  // the host-side veth of port i (-1: B)
  const Netns& vm(int i) const;

  Datapath datapath_;
  int ports_;
  Netns host_{uniqueName("h")};
  Netns net_{uniqueName("n")};
  Netns rtr_{uniqueName("r")};
  std::vector<std::unique_ptr<Netns>> vms_;   // ports_ + 1: the last is B's
  std::vector<std::unique_ptr<Netns>> apps_;  // bridge datapath only, as vms_
  OvsdbServerRig ovs_;                        // declared after the namespaces: stopped first
  std::shared_ptr<dataplane::tc::TcApi> tc_;
};

}  // namespace bwfloor::test
