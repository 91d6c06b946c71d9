// The proof: under contention, HtbBackend gives a port its minimum. Root only (the test fails,
// never skips, without it).
//
//   ns appA (1 TCP stream) -- ns vmA --+                                      (iperf3 servers)
//                                      br0 --- up0 ==veth== ns rtr ==veth== ns net
//   ns appB (8 TCP streams) - ns vmB --+   ns host
//
// up0 is the uplink: total 100 Mbit/s each way (the HTB root rate is the link), port A (vmA's MAC)
// guaranteed 60 Mbit/s, port B unguaranteed. Egress: iperf3 from the apps to ns net, classified
// on up0 by source MAC. Ingress: iperf3 -R, classified on ifb-up0 by destination MAC.
//
// Why every TCP endpoint sits one IP hop away from the shaped queue (app -> vm, net -> rtr): across
// a veth into another namespace the kernel keeps the sending socket on the skb, so TCP small
// queues would throttle a sender from the HTB queue as if it were its own, and the share of a FIFO
// becomes history-dependent (a single stream can starve eight). A guest behind virtio/vhost does
// not see the host's queues, and neither does a server behind a real link; an IP hop (ip_rcv
// orphans the skb) gives the rig that property. vmA and vmB forward, so their frames still leave
// up0 with their own MAC as source.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::dataplane::tc {
namespace {

using test::Netns;
using namespace std::chrono_literals;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortC = "7a1c2e4f-8d3b-4c5e-9f10-1122334455cc";
constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";
constexpr const char* kMacC = "02:00:00:00:00:0c";  // a port with no traffic: keeps the tree up
constexpr const char* kServer = "10.78.0.1";
constexpr double kGuaranteeMbps = 60.0;
constexpr double kRequiredMbps = 57.0;

struct Rates {
  double a = 0;
  double b = 0;
};

class HtbContentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0) << "integration tests need root (network namespaces, tc, iperf3)";
    for (const Netns* ns : {&net_, &rtr_, &host_, &vmA_, &vmB_, &appA_, &appB_}) {
      ASSERT_TRUE(ns->created()) << ns->name();
    }
    buildRig();
    if (HasFatalFailure()) return;
    startServer(5201);
    startServer(5202);
    test::EnterNetns inside(host_.name());
    ASSERT_TRUE(inside.ok());
    Result<std::unique_ptr<LibnlTcApi>> api = LibnlTcApi::open();
    ASSERT_TRUE(api) << api.error();
    HtbBackendConfig config;
    config.devices = {HtbDeviceConfig{"up0", Kbps(100000), Kbps(100000)}};
    backend_ = std::make_unique<HtbBackend>(config, std::shared_ptr<TcApi>(std::move(api).value()));
  }

  void ip(const Netns& ns, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandResult r = ns.exec(argv);
    ASSERT_TRUE(r.ok()) << ns.name() << ": " << test::describe(argv) << ": " << r.output;
  }

  void buildRig() {
    ip(host_,
       {"link", "add", "up0", "type", "veth", "peer", "name", "rdown", "netns", rtr_.name()});
    ip(rtr_, {"link", "add", "rup", "type", "veth", "peer", "name", "netu", "netns", net_.name()});
    ip(host_, {"link", "add", "br0", "type", "bridge"});
    ip(host_, {"link", "set", "up0", "master", "br0"});
    ip(host_, {"link", "set", "up0", "up"});
    ip(host_, {"link", "set", "br0", "up"});
    ip(rtr_, {"addr", "add", "10.77.0.254/24", "dev", "rdown"});
    ip(rtr_, {"addr", "add", "10.78.0.254/24", "dev", "rup"});
    ip(rtr_, {"link", "set", "rdown", "up"});
    ip(rtr_, {"link", "set", "rup", "up"});
    ASSERT_TRUE(rtr_.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).ok());
    const struct {
      const Netns& vm;
      const Netns& app;
      const char* hostSide;
      const char* mac;
      const char* addr;    // the VM's address on the uplink's network
      const char* subnet;  // between VM and app: app .2, VM .1
    } vms[] = {{vmA_, appA_, "vA-h", kMacA, "10.77.0.11", "10.79.1"},
               {vmB_, appB_, "vB-h", kMacB, "10.77.0.12", "10.79.2"}};
    for (const auto& v : vms) {
      const std::string subnet = v.subnet;
      ip(host_,
         {"link", "add", v.hostSide, "type", "veth", "peer", "name", "eth0", "netns", v.vm.name()});
      ip(host_, {"link", "set", v.hostSide, "master", "br0"});
      ip(host_, {"link", "set", v.hostSide, "up"});
      ip(v.vm, {"link", "set", "eth0", "address", v.mac});
      ip(v.vm, {"addr", "add", std::string(v.addr) + "/24", "dev", "eth0"});
      ip(v.vm, {"link", "set", "eth0", "up"});
      ip(v.vm, {"route", "add", "default", "via", "10.77.0.254"});
      ip(v.vm,
         {"link", "add", "inner", "type", "veth", "peer", "name", "eth0", "netns", v.app.name()});
      ip(v.vm, {"addr", "add", subnet + ".1/24", "dev", "inner"});
      ip(v.vm, {"link", "set", "inner", "up"});
      ASSERT_TRUE(v.vm.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).ok());
      ip(v.app, {"addr", "add", subnet + ".2/24", "dev", "eth0"});
      ip(v.app, {"link", "set", "eth0", "up"});
      ip(v.app, {"route", "add", "default", "via", subnet + ".1"});
      ip(rtr_, {"route", "add", subnet + ".0/24", "via", v.addr});
    }
    ip(net_, {"addr", "add", std::string(kServer) + "/24", "dev", "netu"});
    ip(net_, {"link", "set", "netu", "up"});
    ip(net_, {"route", "add", "default", "via", "10.78.0.254"});
  }

  void startServer(int port) {
    servers_.push_back(std::make_unique<test::Background>(
        net_.execArgv({"iperf3", "-s", "-p", std::to_string(port)})));
    const bool listening = test::waitUntil(
        [&] {
          test::CommandResult ss =
              net_.exec({"ss", "-Hltn", "sport = :" + std::to_string(port)}, 2s);
          return ss.ok() && ss.output.find("LISTEN") != std::string::npos;
        },
        10s);
    ASSERT_TRUE(listening) << "iperf3 server on port " << port << ": " << servers_.back()->output();
  }

  static double receivedMbps(const test::Background& client) {
    try {
      nlohmann::json j = nlohmann::json::parse(client.output());
      return j.at("end").at("sum_received").at("bits_per_second").get<double>() / 1e6;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iperf3 output: " << e.what() << "\n" << client.output();
      return 0;
    }
  }

  // A with 1 stream and B with 8, at the same time, 5 s measured after a 1 s warm-up.
  Rates contend(bool ingress) {
    auto client = [&](const Netns& vm, int port, int streams) {
      std::vector<std::string> argv{"iperf3", "-c", kServer, "-p", std::to_string(port),    "-t",
                                    "5",      "-O", "1",     "-P", std::to_string(streams), "-J"};
      if (ingress) argv.push_back("-R");
      return std::make_unique<test::Background>(vm.execArgv(argv));
    };
    std::unique_ptr<test::Background> a = client(appA_, 5201, 1);
    std::unique_ptr<test::Background> b = client(appB_, 5202, 8);
    EXPECT_EQ(a->wait(30s), 0) << a->output();
    EXPECT_EQ(b->wait(30s), 0) << b->output();
    return Rates{receivedMbps(*a), receivedMbps(*b)};
  }

  static QosSpec spec(const char* port, const char* mac, uint64_t minKbps) {
    QosSpec s;
    s.port = PortIdentity{port, mac, "up0", std::nullopt};
    s.minEgress = Kbps(minKbps);
    s.minIngress = Kbps(minKbps);
    return s;
  }

  void proveGuarantee(bool ingress) {
    const char* direction = ingress ? "ingress" : "egress";
    // Control: the same 100 Mbit/s tree, A without a guarantee.
    Result<AppliedQos> other = backend_->program(spec(kPortC, kMacC, 1000));
    ASSERT_TRUE(other) << other.error();
    Rates control = contend(ingress);

    Result<AppliedQos> a = backend_->program(spec(kPortA, kMacA, 60000));
    ASSERT_TRUE(a) << a.error();
    ASSERT_TRUE(a->overall().isEnforced()) << a->overall().toString();
    Rates guaranteed = contend(ingress);

    std::printf(
        "[ %-8s] A (1 stream, %s 60 Mbit/s): %5.1f Mbit/s guaranteed vs %5.1f control; "
        "B (8 streams): %5.1f vs %5.1f\n",
        direction, ingress ? "min_igr" : "min_egr", guaranteed.a, control.a, guaranteed.b,
        control.b);
    RecordProperty(std::string(direction) + "_guaranteed_a_mbps", std::to_string(guaranteed.a));
    RecordProperty(std::string(direction) + "_control_a_mbps", std::to_string(control.a));
    EXPECT_GE(guaranteed.a, kRequiredMbps) << direction << ": the guarantee did not hold";
    // The control must leave A below its minimum: otherwise the rig made no contention and the
    // guaranteed run proves nothing. (How far below depends on the CPU: 5-40 Mbit/s on this
    // host, 25-46 under the vf-vm rig's emulated CPUs, where one stream keeps a larger share.)
    EXPECT_LT(control.a, kRequiredMbps)
        << direction
        << ": without a guarantee A got its minimum anyway, the control run is no control";
    // The clients' 5 s windows are not exactly the same, so A + B may exceed the link a little
    // (one measures while the other has stopped); each on its own never may.
    for (double rate : {guaranteed.a, guaranteed.b, control.a, control.b}) {
      EXPECT_LE(rate, 100.0 * 1.05) << direction << ": the root rate did not cap the link";
    }

    // The traffic went through A's class (counted by the kernel), not around it.
    Result<std::vector<QosCounters>> counters = backend_->counters();
    ASSERT_TRUE(counters) << counters.error();
    uint64_t bytes = 0;
    for (const QosCounters& c : *counters) {
      if (c.portId == kPortA &&
          c.direction == (ingress ? Direction::kIngress : Direction::kEgress)) {
        bytes = c.bytes;
      }
    }
    EXPECT_GT(bytes, static_cast<uint64_t>(kRequiredMbps * 1e6 / 8 * 5)) << direction;
    ASSERT_TRUE(backend_->remove(kPortA));
    ASSERT_TRUE(backend_->remove(kPortC));
  }

  Netns net_{test::uniqueName("n")};
  Netns rtr_{test::uniqueName("r")};
  Netns host_{test::uniqueName("h")};
  Netns vmA_{test::uniqueName("a")};
  Netns vmB_{test::uniqueName("b")};
  Netns appA_{test::uniqueName("p")};
  Netns appB_{test::uniqueName("q")};
  std::vector<std::unique_ptr<test::Background>> servers_;  // killed before the namespaces go
  std::unique_ptr<HtbBackend> backend_;
};

TEST_F(HtbContentionTest, EgressMinimumHoldsAgainstEightStreams) { proveGuarantee(false); }

TEST_F(HtbContentionTest, IngressMinimumHoldsAgainstEightStreams) { proveGuarantee(true); }

}  // namespace
}  // namespace bwfloor::dataplane::tc
