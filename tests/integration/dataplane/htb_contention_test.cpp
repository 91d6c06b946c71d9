// The proof: under contention, HtbBackend gives a port its minimum. Root only (the test fails,
// never skips, without it).
//
//   ns appA (1 TCP stream) -- ns vmA --+                                      (iperf3 servers)
//                                      br0 --- up0 ==veth== ns rtr ==veth== ns net
//   ns appB (8 TCP streams) - ns vmB --+   ns host
//
// up0 is the uplink: total 100 Mbit/s each way (the HTB root rate is the link),
// port A (vmA's MAC) guaranteed 60 Mbit/s, port B unguaranteed. Egress: iperf3 from the apps to ns
// net, classified on up0 by source MAC. Ingress: iperf3 -R, classified on ifb-up0 by destination
// MAC.
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

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "agent/binding/guarantee_monitor.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/iperf_contention.h"
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

// The uplink's rate: 100 Mbit/s, or BWFLOOR_TEST_UPLINK_MBPS. A gets 60 % of it guaranteed and
// must receive at least 95 % of that. The vf-vm rig runs the proof at 50: its emulated CPUs make
// iperf3 (one thread for B's 8 streams) the bottleneck near 100 Mbit/s, so B could no longer
// fill the link and the control run would measure the CPU instead of the queue. (Two B processes
// fill it, but under a guarantee the second one's connection set-up loses SYN-ACKs in the full
// default class and starts 3-13 s late: iperf_contention.h.)
double uplinkMbps() {
  const char* env = std::getenv("BWFLOOR_TEST_UPLINK_MBPS");
  return env == nullptr ? 100.0 : std::atof(env);
}
const double kUplinkMbps = uplinkMbps();
const double kGuaranteeMbps = kUplinkMbps * 0.6;
const double kRequiredMbps = kGuaranteeMbps * 0.95;

class HtbContentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0) << "integration tests need root (network namespaces, tc, iperf3)";
    for (const Netns* ns : {&net_, &rtr_, &host_, &vmA_, &vmB_, &appA_, &appB_}) {
      ASSERT_TRUE(ns->created()) << ns->name();
    }
    buildRig();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(iperf_.start());
    test::EnterNetns inside(host_.name());
    ASSERT_TRUE(inside.ok());
    Result<std::unique_ptr<LibnlTcApi>> api = LibnlTcApi::open();
    ASSERT_TRUE(api) << api.error();
    HtbBackendConfig config;
    ASSERT_GE(kUplinkMbps, 10.0) << "BWFLOOR_TEST_UPLINK_MBPS: at least 10";
    const Kbps total(static_cast<uint64_t>(kUplinkMbps * 1000));
    config.devices = {HtbDeviceConfig{"up0", total, total}};
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

  // A (1 stream) and B (8 streams) at once, each from its app namespace.
  test::ContentionRates contend(bool ingress) { return iperf_.contend(appA_, appB_, ingress); }

  static QosSpec spec(const char* port, const char* mac, uint64_t minKbps) {
    QosSpec s;
    s.port = PortIdentity{port, mac, "up0", std::nullopt};
    s.minEgress = Kbps(minKbps);
    s.minIngress = Kbps(minKbps);
    return s;
  }

  void proveGuarantee(bool ingress) {
    const char* direction = ingress ? "ingress" : "egress";
    // Control: the same tree, A without a guarantee.
    Result<AppliedQos> other = backend_->program(spec(kPortC, kMacC, 1000));
    ASSERT_TRUE(other) << other.error();
    test::ContentionRates control = iperf_.control(appA_, appB_, kRequiredMbps, ingress);

    const auto guaranteeKbps = static_cast<uint64_t>(kGuaranteeMbps * 1000);
    Result<AppliedQos> a = backend_->program(spec(kPortA, kMacA, guaranteeKbps));
    ASSERT_TRUE(a) << a.error();
    ASSERT_TRUE(a->overall().isEnforced()) << a->overall().toString();
    test::ContentionRates guaranteed = contend(ingress);

    std::printf(
        "[ %-8s] uplink %.0f Mbit/s; A (1 stream, %s %.0f Mbit/s): %5.1f Mbit/s guaranteed vs "
        "%5.1f control; B (8 streams): %5.1f vs %5.1f\n",
        direction, kUplinkMbps, ingress ? "min_igr" : "min_egr", kGuaranteeMbps, guaranteed.a,
        control.a, guaranteed.b, control.b);
    RecordProperty(std::string(direction) + "_guaranteed_a_mbps", std::to_string(guaranteed.a));
    RecordProperty(std::string(direction) + "_control_a_mbps", std::to_string(control.a));
    EXPECT_GE(guaranteed.a, kRequiredMbps) << direction << ": the guarantee did not hold";
    // The control must leave A below its minimum: otherwise the rig made no contention and the
    // guaranteed run proves nothing. (At 100 Mbit/s: 5-40 Mbit/s on this host.)
    EXPECT_LT(control.a, kRequiredMbps)
        << direction
        << ": without a guarantee A got its minimum anyway, the control run is no control";
    // A flowed for all of B's measured seconds and the rates fit the link (iperf_contention.h);
    // each rate on its own never exceeds the link.
    EXPECT_TRUE(iperf_.overlapped(control))
        << direction << ": the control's clients never overlapped";
    EXPECT_TRUE(iperf_.overlapped(guaranteed)) << direction << ": the clients never overlapped";
    for (double rate : {guaranteed.a, guaranteed.b, control.a, control.b}) {
      EXPECT_LE(rate, kUplinkMbps * 1.05) << direction << ": the root rate did not cap the link";
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

  // The agent's guarantee-held signal over one contention run: the counters sampled every second
  // on a thread of its own while `run` contends, A watched with its 60 % minimum.
  template <typename Run>
  agent::GuaranteeRecord watchWhile(double minimumMbps, Run run) {
    agent::GuaranteeMonitor monitor;
    const agent::WatchedDirection watched{kPortA, Direction::kEgress,
                                          Kbps(static_cast<uint64_t>(minimumMbps * 1000)),
                                          Kbps(static_cast<uint64_t>(kUplinkMbps * 1000))};
    std::atomic<bool> stop{false};
    std::thread sampler([&] {
      auto next = std::chrono::steady_clock::now();
      while (!stop) {
        Result<std::vector<QosCounters>> counters = backend_->counters();
        if (counters) monitor.observe({watched}, *counters, std::chrono::steady_clock::now());
        next += 1s;
        std::this_thread::sleep_until(next);
      }
    });
    run();
    stop = true;
    sampler.join();
    return monitor.records().at({kPortA, Direction::kEgress});
  }

  Netns net_{test::uniqueName("n")};
  Netns rtr_{test::uniqueName("r")};
  Netns host_{test::uniqueName("h")};
  Netns vmA_{test::uniqueName("a")};
  Netns vmB_{test::uniqueName("b")};
  Netns appA_{test::uniqueName("p")};
  Netns appB_{test::uniqueName("q")};
  test::IperfContention iperf_{net_, kServer,
                               kUplinkMbps};  // its servers die before the namespaces go
  std::unique_ptr<HtbBackend> backend_;
};

TEST_F(HtbContentionTest, EgressMinimumHoldsAgainstEightStreams) { proveGuarantee(false); }

TEST_F(HtbContentionTest, IngressMinimumHoldsAgainstEightStreams) { proveGuarantee(true); }

// The guarantee-held signal (agent/binding/guarantee_monitor.h) on the real kernel: with A's
// 60 % minimum programmed, no second counts; with only 1 Mbit/s programmed for A (its class
// still counts its traffic, but the guarantee is not in force), A gets less than its promised
// minimum while the 8 streams fill the uplink, and the seconds count.
TEST_F(HtbContentionTest, GuaranteeHeldSignalStaysZeroWithTheGuaranteeAndCountsWithout) {
  // The control: A promised 80 % of the link (watched at that minimum) while its class holds
  // only 1 Mbit/s. Watched at 60 %, A's share in this control (50.9 and 53.1 Mbit/s in two runs)
  // hovers near the 57 Mbit/s threshold, so whether a second counts depends on the run; at 80 %
  // every second of the contention is clearly below.
  const double promisedMbps = kUplinkMbps * 0.8;
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 1000)));
  test::ContentionRates control{};
  const agent::GuaranteeRecord without = watchWhile(
      promisedMbps, [&] { control = iperf_.control(appA_, appB_, promisedMbps * 0.95); });
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, static_cast<uint64_t>(kGuaranteeMbps * 1000))));
  test::ContentionRates guaranteed{};
  const agent::GuaranteeRecord with =
      watchWhile(kGuaranteeMbps, [&] { guaranteed = contend(false); });
  std::printf(
      "[ signal  ] A promised %.0f Mbit/s with a 1 Mbit/s class: %.1f Mbit/s, %.0f of %.0f s "
      "missed; with its %.0f Mbit/s guarantee: %.1f Mbit/s, %.0f of %.0f s missed\n",
      promisedMbps, control.a, without.missedSeconds, without.checkedSeconds, kGuaranteeMbps,
      guaranteed.a, with.missedSeconds, with.checkedSeconds);
  RecordProperty("missed_seconds_without", std::to_string(without.missedSeconds));
  RecordProperty("missed_seconds_with", std::to_string(with.missedSeconds));
  ASSERT_LT(control.a, promisedMbps * 0.95) << "the 1 Mbit/s class gave A its minimum: no control";
  EXPECT_GE(without.missedSeconds, 2.0) << "A was starved but the signal did not count it";
  EXPECT_GE(guaranteed.a, kRequiredMbps) << "the guarantee did not hold";
  EXPECT_EQ(with.missedSeconds, 0.0) << "the signal counted while the guarantee held";
  EXPECT_GE(with.checkedSeconds, 5.0) << "the signal was not checked during the run";
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
