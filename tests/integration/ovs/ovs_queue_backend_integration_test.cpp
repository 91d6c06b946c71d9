// OvsQueueBackend on the real thing (label integration, root; it fails, never skips, without
// root): a private ovsdb-server and ovs-vswitchd (userspace datapath) in a network namespace,
// Neutron's topology br-int -- patch ports -- br-test -- up0 (a veth), bwfloor writing through the
// OVSDB IDL (OvsdbIdlQosApi) and libnl (LibnlTcApi). What it wrote is read back independently
// with ovs-vsctl and tc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "core/logging.h"
#include "dataplane/ovs/ovs_queue_backend.h"
#include "dataplane/ovs/ovsdb_idl_qos_api.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"
#include "tests/integration/ovs/ovsdb_server_rig.h"

namespace bwfloor::dataplane {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using namespace std::chrono_literals;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacA = "fa:16:3e:00:00:0a";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";

// Counts the OVSDB transactions that changed something.
class CountingOvsdb : public OvsdbQosApi {
 public:
  explicit CountingOvsdb(std::shared_ptr<OvsdbQosApi> inner) : inner_(std::move(inner)) {}
  Result<OvsQosTables> read() override { return inner_->read(); }
  Result<OvsdbCommit> transact(const Planner& plan) override {
    Result<OvsdbCommit> commit = inner_->transact(plan);
    if (commit && commit->committed) ++commits_;
    return commit;
  }
  int commits() const { return commits_; }

 private:
  std::shared_ptr<OvsdbQosApi> inner_;
  int commits_ = 0;
};

QosSpec spec(const char* port, const char* mac, uint64_t egr, uint64_t igr = 0) {
  QosSpec s;
  s.port = PortIdentity{port, mac, "br-test", std::nullopt};
  s.minEgress = Kbps(egr);
  s.minIngress = Kbps(igr);
  return s;
}

class OvsQueueBackendIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0U) << "integration tests need root (netns, ovs-vswitchd, tc)";
    ASSERT_TRUE(ns_.created());
    inside_ = std::make_unique<test::EnterNetns>(ns_.name());
    ASSERT_TRUE(inside_->ok());
    ASSERT_TRUE(
        ns_.exec({"ip", "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "up0", "up"}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "up0p", "up"}).ok());
    ASSERT_TRUE(ovs_.start()) << ovs_.logTail();
    ASSERT_TRUE(ovs_.startVswitchd()) << ovs_.logTail();
    ASSERT_TRUE(ovs_.addNeutronBridges("br-test", "up0")) << ovs_.logTail();
    LogOptions capture;
    capture.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    initLogging(capture);
    Result<std::unique_ptr<tc::LibnlTcApi>> tc = tc::LibnlTcApi::open();
    ASSERT_TRUE(tc) << tc.error();
    tc_ = std::shared_ptr<tc::TcApi>(std::move(tc).value());
    ovsdb_ = std::make_shared<CountingOvsdb>(std::make_shared<OvsdbIdlQosApi>(ovs_.remote()));
    config_.bridges = {OvsQueueBridgeConfig{"br-test", Kbps(100000)}};
    restart();
  }
  void TearDown() override { initLogging(LogOptions{}); }

  void restart() { backend_ = std::make_unique<OvsQueueBackend>(config_, ovsdb_, tc_); }

  std::string vsctl(const std::vector<std::string>& args) {
    std::string out;
    EXPECT_TRUE(ovs_.vsctl(args, &out)) << ovs_.logTail();
    return out;
  }
  std::string tc(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"tc"};
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandResult r = ns_.exec(argv);
    EXPECT_TRUE(r.ok()) << test::describe(argv) << ": " << r.output;
    return r.output;
  }
  // The queue number ovs-vsctl finds for the port, from its tags.
  int64_t queueOf(const char* port) {
    const std::string qos = vsctl({"get", "Port", "up0", "qos"});
    const std::string queues = vsctl({"get", "QoS", qos.substr(0, qos.find('\n')), "queues"});
    const std::string queue = vsctl({"--bare", "--columns=_uuid", "find", "Queue",
                                     std::string("external_ids:bwfloor-port-id=") + port});
    std::smatch m;
    const std::string uuid = queue.substr(0, queue.find('\n'));
    if (!std::regex_search(queues, m, std::regex("([0-9]+)=" + uuid))) return -1;
    return std::stoll(m[1]);
  }
  static std::string classOf(int64_t queue) {
    std::ostringstream out;
    out << "1:" << std::hex << queue + 1;
    return out.str();
  }

  test::Netns ns_{test::uniqueName("o")};
  std::unique_ptr<test::EnterNetns> inside_;  // the daemons and the tc socket live in ns_
  test::OvsdbServerRig ovs_;
  std::ostringstream log_;
  std::shared_ptr<tc::TcApi> tc_;
  std::shared_ptr<CountingOvsdb> ovsdb_;
  OvsQueueBackendConfig config_;
  std::unique_ptr<OvsQueueBackend> backend_;
};

TEST_F(OvsQueueBackendIntegrationTest, ProgramObserveRemoveRoundTrip) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_TRUE(applied) << applied.error() << "\n" << log_.str() << ovs_.logTail();
  EXPECT_TRUE(applied->egress && applied->egress->enforcement.isEnforced())
      << applied->overall().toString();
  EXPECT_EQ(applied->egress->minKbps, Kbps(60000));
  EXPECT_EQ(applied->ingress->enforcement.state(), Enforcement::State::kPlacementOnly);

  // OVSDB, as ovs-vsctl reads it.
  EXPECT_THAT(vsctl({"--bare", "--columns=type,other_config,external_ids", "list", "QoS"}),
              HasSubstr("linux-htb\nmax-rate=100000000\nbwfloor-bridge=br-test"));
  const int64_t queueA = queueOf(kPortA);
  ASSERT_GE(queueA, 15);
  EXPECT_EQ(vsctl({"--bare", "--columns=other_config", "find", "Queue",
                   std::string("external_ids:bwfloor-port-id=") + kPortA}),
            "burst=524288 max-rate=100000000 min-rate=60000000\n");
  EXPECT_THAT(vsctl({"--bare", "--columns=external_ids", "find", "Queue",
                     std::string("external_ids:bwfloor-port-id=") + kPortA}),
              HasSubstr(std::string("bwfloor-mac=") + kMacA + " bwfloor-min-ingress-kbps=20000"));
  // The kernel, as tc reads it: ovs-vswitchd's HTB with A's class, bwfloor's filter and leaves.
  const std::string classA = classOf(queueA);
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("qdisc htb 1: root"));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}),
              HasSubstr("class htb " + classA + " parent 1:fffe"));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}), HasSubstr("rate 60Mbit ceil 100Mbit"));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), HasSubstr("flowid " + classA));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), HasSubstr("match fa163e00/ffffffff at -8"));
  // Leaves sized to ovs-vswitchd's send buffer (92 frames): A 92/2 * 60 %, queue 0 92/8.
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("parent " + classA + " limit 27p"));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("parent 1:1 limit 11p"));

  // Idempotent: nothing written the second time, in OVSDB or in the kernel.
  const int commits = ovsdb_->commits();
  const size_t logBefore = log_.str().size();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  EXPECT_EQ(ovsdb_->commits(), commits);
  EXPECT_THAT(log_.str().substr(logBefore), Not(HasSubstr("op=")));

  // A restart adopts it, from the tags.
  restart();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed) << observed.error();
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_EQ(observed->front().port.portId, kPortA);
  EXPECT_EQ(observed->front().port.mac, kMacA);
  EXPECT_EQ(observed->front().egress->minKbps, Kbps(60000));
  EXPECT_TRUE(observed->front().egress->enforcement.isEnforced());
  EXPECT_EQ(observed->front().ingress->minKbps, Kbps(20000));

  // A rate change reaches the kernel before program() returns (ovs-vswitchd's cur_cfg).
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 30000)));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}), HasSubstr("rate 30Mbit ceil 100Mbit"));

  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000)));
  const std::string classB = classOf(queueOf(kPortB));
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}), Not(HasSubstr("class htb " + classA + " ")));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), Not(HasSubstr("flowid " + classA)));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), HasSubstr("flowid " + classB));
  EXPECT_THAT(ovs_.logTail(), Not(HasSubstr("Device or resource busy")));
  EXPECT_THAT(backend_->observe().value(), SizeIs(1));

  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_EQ(vsctl({"list", "QoS"}), "");
  EXPECT_EQ(vsctl({"list", "Queue"}), "");
  EXPECT_EQ(vsctl({"get", "Port", "up0", "qos"}), "[]\n");
  EXPECT_TRUE(test::waitUntil(
      [&] {
        return tc({"qdisc", "show", "dev", "up0"}).find("htb") == std::string::npos;
      },
      10s))
      << tc({"qdisc", "show", "dev", "up0"});
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(OvsQueueBackendIntegrationTest, DriftIsReportedAndRepaired) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000))) << log_.str();
  const std::string classA = classOf(queueOf(kPortA));

  // An operator deletes bwfloor's filter: observe() names it, program() puts it back.
  tc({"filter", "del", "dev", "up0", "parent", "1:", "prio", "10"});
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_TRUE(observed->front().overall().isFailed());
  EXPECT_THAT(observed->front().overall().reason(), HasSubstr("missing on up0"));
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), HasSubstr("flowid " + classA));

  // An operator clears the uplink's QoS: ovs-vswitchd removes the HTB with everything on it.
  vsctl({"clear", "Port", "up0", "qos"});
  observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_THAT(observed->front().overall().reason(), HasSubstr("not on uplink port up0"));
  Result<AppliedQos> repaired = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(repaired) << repaired.error();
  EXPECT_TRUE(repaired->overall().isEnforced()) << repaired->overall().toString();
  EXPECT_THAT(tc({"filter", "show", "dev", "up0"}), HasSubstr("flowid " + classA));
  ASSERT_TRUE(backend_->remove(kPortA));
}

TEST_F(OvsQueueBackendIntegrationTest, EverythingSurvivesAnOvsVswitchdRestart) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000))) << log_.str();
  ASSERT_TRUE(ovs_.stopVswitchd());
  ASSERT_TRUE(ovs_.startVswitchd()) << ovs_.logTail();
  // ovs-vswitchd finds its HTB in the kernel and keeps it, with bwfloor's filters and leaves:
  // nothing bwfloor made lives in a flow table that a restart would empty.
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed) << observed.error();
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_TRUE(observed->front().overall().isEnforced()) << observed->front().overall().toString();
  const int commits = ovsdb_->commits();
  const size_t logBefore = log_.str().size();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  EXPECT_EQ(ovsdb_->commits(), commits);
  EXPECT_THAT(log_.str().substr(logBefore), Not(HasSubstr("op=")));
  ASSERT_TRUE(backend_->remove(kPortA));
}

TEST_F(OvsQueueBackendIntegrationTest, WithoutOvsVswitchdTheCommitStandsAndProgramSaysWhy) {
  ASSERT_TRUE(ovs_.stopVswitchd());
  auto api = std::make_shared<OvsdbIdlQosApi>(ovs_.remote(), 500ms);
  OvsQueueBackend backend(config_, api, tc_);
  Result<AppliedQos> applied = backend.program(spec(kPortA, kMacA, 60000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(applied.error().message(), HasSubstr("ovs-vswitchd has not applied the QoS"));
  EXPECT_THAT(log_.str(), HasSubstr("ovs-vswitchd did not apply it within 500 ms"));
  // The queue is in the database, named: a restarted agent finds it; ovs-vswitchd applies it as
  // soon as it runs, and the retry completes.
  ASSERT_THAT(backend.observe().value(), SizeIs(1));
  ASSERT_TRUE(ovs_.startVswitchd()) << ovs_.logTail();
  Result<AppliedQos> retried = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(retried) << retried.error();
  EXPECT_TRUE(retried->overall().isEnforced());
  ASSERT_TRUE(backend_->remove(kPortA));
}

// The shim's verify: a column written on a row another client changed after the snapshot makes
// the server refuse the transaction, and the plan runs again on the new contents.
TEST_F(OvsQueueBackendIntegrationTest, ATransactionIsPlannedAgainWhenAnotherClientWroteFirst) {
  OvsdbIdlQosApi api(ovs_.remote());
  int plans = 0;
  Result<OvsdbCommit> commit =
      api.transact([&](const OvsQosTables& tables) -> Result<std::vector<OvsdbOp>> {
        ++plans;
        const OvsdbPortRow* up0 = nullptr;
        for (const OvsdbPortRow& p : tables.findBridge("br-test")->ports) {
          if (p.name == "up0") up0 = &p;
        }
        if (up0 == nullptr || !up0->qos.empty()) return std::vector<OvsdbOp>{};  // not ours
        if (plans == 1) {  // another client attaches its QoS between our read and our commit
          EXPECT_TRUE(ovs_.vsctl({"--", "set", "Port", "up0", "qos=@q", "--", "--id=@q", "create",
                                  "QoS", "type=linux-htb"}));
        }
        OvsdbOp insert;
        insert.kind = OvsdbOp::Kind::kInsertQos;
        insert.type = "linux-htb";
        OvsdbOp attach;
        attach.kind = OvsdbOp::Kind::kSetPortQos;
        attach.row = up0->uuid;
        attach.qos = OvsdbRowRef::inserted(0);
        return std::vector<OvsdbOp>{insert, attach};
      });
  ASSERT_TRUE(commit) << commit.error();
  EXPECT_EQ(plans, 2);
  EXPECT_EQ(commit->attempts, 2);
  EXPECT_FALSE(commit->committed);
  EXPECT_EQ(vsctl({"--bare", "--columns=_uuid", "list", "QoS"}).size(), 37U);  // one row
}

}  // namespace
}  // namespace bwfloor::dataplane
