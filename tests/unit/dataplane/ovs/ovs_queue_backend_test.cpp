// OvsQueueBackend through its real logic, against FakeOvsdbQosApi (the OVSDB tables) and
// FakeTcApi (the kernel), with FakeVswitchd playing ovs-vswitchd between the two: every test
// programs through the backend and reads back through the same seams, as in FBOSS's
// QueueManagerTest.
#include "dataplane/ovs/ovs_queue_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <map>
#include <set>

#include "core/logging.h"
#include "dataplane/ovs/testing/fake_ovsdb_qos_api.h"
#include "dataplane/tc/testing/fake_tc_api.h"

namespace bwfloor::dataplane {
namespace {

using tc::EthernetHeader;
using tc::FakeTcApi;
using tc::HtbClass;
using tc::makeHandle;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacA = "fa:16:3e:00:00:0a";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";

EthernetHeader fromVm(const std::string& mac) {
  EthernetHeader eth{0x02, 0, 0, 0, 0, 0x01};
  tc::MacAddress src = tc::parseMac(mac).value();
  std::copy(src.begin(), src.end(), eth.begin() + 6);
  eth[12] = 0x08;
  return eth;
}

QosSpec spec(const std::string& port, const std::string& mac, uint64_t egr, uint64_t igr = 0,
             const std::string& bridge = "br-test") {
  QosSpec s;
  s.port = PortIdentity{port, mac, bridge, std::nullopt};
  s.minEgress = Kbps(egr);
  s.minIngress = Kbps(igr);
  return s;
}

class OvsQueueBackendTest : public ::testing::Test {
 protected:
  OvsQueueBackendTest() {
    LogOptions quiet;
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    // Neutron's shape: br-int patched to the physical bridge br-test, whose uplink is up0.
    ovsdb_->addBridgeForTest("br-int", "netdev",
                             {{"int-br-test", "patch"}, {"tap-a", ""}, {"tap-b", ""}});
    ovsdb_->addBridgeForTest("br-test", "netdev", {{"phy-br-test", "patch"}, {"up0", ""}});
    tc_->addDeviceForTest("up0");
    tc_->modelClassInUseForTest(true);
    ovsdb_->onCommitForTest([this](const OvsQosTables& tables) { vswitchd_.apply(tables); });
    config_.bridges = {OvsQueueBridgeConfig{"br-test", Kbps(100000)}};
    restart();
  }
  ~OvsQueueBackendTest() override { initLogging(LogOptions{}); }

  void restart() { backend_ = std::make_unique<OvsQueueBackend>(config_, ovsdb_, tc_); }

  const OvsdbQosRow* onlyQos() {
    return ovsdb_->tablesForTest().qos.size() == 1 ? &ovsdb_->tablesForTest().qos.begin()->second
                                                   : nullptr;
  }
  OvsdbPortRow* port(const std::string& name) {
    for (OvsdbBridgeRow& b : ovsdb_->tablesForTest().bridges) {
      for (OvsdbPortRow& p : b.ports) {
        if (p.name == name) return &p;
      }
    }
    return nullptr;
  }
  std::optional<HtbClass> cls(const std::string& dev, uint32_t handle) {
    const std::vector<HtbClass> classes = tc_->listClasses(dev).value();
    for (const HtbClass& c : classes) {
      if (c.handle == handle) return c;
    }
    return std::nullopt;
  }
  std::vector<tc::Qdisc> leaves(const std::string& dev) {
    std::vector<tc::Qdisc> out;
    const std::vector<tc::Qdisc> qdiscs = tc_->listQdiscs(dev).value();
    for (const tc::Qdisc& q : qdiscs) {
      if (q.kind == "pfifo") out.push_back(q);
    }
    return out;
  }
  bool hasHtb(const std::string& dev) {
    const std::vector<tc::Qdisc> qdiscs = tc_->listQdiscs(dev).value();
    for (const tc::Qdisc& q : qdiscs) {
      if (q.kind == "htb") return true;
    }
    return false;
  }
  // The queue number of a port in the only QoS row.
  std::optional<int64_t> queueOf(const std::string& portId) {
    const OvsdbQosRow* qos = onlyQos();
    if (qos == nullptr) return std::nullopt;
    for (const auto& [id, uuid] : qos->queues) {
      const OvsdbQueueRow* row = ovsdb_->tablesForTest().findQueue(uuid);
      auto tag = row->externalIds.find(kOvsTagPortId);
      if (tag != row->externalIds.end() && tag->second == portId) return id;
    }
    return std::nullopt;
  }

  std::shared_ptr<FakeOvsdbQosApi> ovsdb_ = std::make_shared<FakeOvsdbQosApi>();
  std::shared_ptr<FakeTcApi> tc_ = std::make_shared<FakeTcApi>();
  FakeVswitchd vswitchd_{tc_};
  OvsQueueBackendConfig config_;
  std::unique_ptr<OvsQueueBackend> backend_;
};

TEST_F(OvsQueueBackendTest, ProgramMakesTaggedQosAndQueuesOnTheUplink) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(applied->backend, "ovs");
  EXPECT_EQ(applied->port.portId, kPortA);
  EXPECT_EQ(applied->port.mac, kMacA);
  EXPECT_EQ(applied->port.device, "br-test");
  ASSERT_TRUE(applied->egress);
  EXPECT_EQ(applied->egress->minKbps, Kbps(60000));
  EXPECT_EQ(applied->egress->maxKbps, std::nullopt);
  EXPECT_EQ(applied->ingress, std::nullopt);
  EXPECT_TRUE(applied->overall().isEnforced()) << applied->overall().toString();

  const OvsdbQosRow* qos = onlyQos();
  ASSERT_NE(qos, nullptr);
  EXPECT_EQ(qos->type, "linux-htb");
  EXPECT_EQ(qos->otherConfig, (OvsdbMap{{"max-rate", "100000000"}}));
  EXPECT_EQ(qos->externalIds, (OvsdbMap{{"bwfloor-bridge", "br-test"}}));
  EXPECT_EQ(port("up0")->qos, qos->uuid);
  EXPECT_EQ(port("phy-br-test")->qos, "");  // patch ports and other bridges stay untouched
  EXPECT_EQ(port("tap-a")->qos, "");
  ASSERT_THAT(qos->queues, SizeIs(2));
  const OvsdbQueueRow* def = ovsdb_->tablesForTest().findQueue(qos->queues.at(0));
  EXPECT_EQ(def->otherConfig,
            (OvsdbMap{{"min-rate", "1000000"}, {"max-rate", "100000000"}, {"burst", "524288"}}));
  EXPECT_EQ(def->externalIds,
            (OvsdbMap{{"bwfloor-bridge", "br-test"}, {"bwfloor-role", "default"}}));
  const std::optional<int64_t> queue = queueOf(kPortA);
  ASSERT_TRUE(queue);
  EXPECT_GE(*queue, 15);
  EXPECT_LE(*queue, 0xffe);
  const OvsdbQueueRow* row = ovsdb_->tablesForTest().findQueue(qos->queues.at(*queue));
  EXPECT_EQ(row->otherConfig,
            (OvsdbMap{{"min-rate", "60000000"}, {"max-rate", "100000000"}, {"burst", "524288"}}));
  EXPECT_EQ(row->externalIds, (OvsdbMap{{"bwfloor-bridge", "br-test"},
                                        {"bwfloor-mac", kMacA},
                                        {"bwfloor-port-id", kPortA}}));
  const uint32_t classA = makeHandle(1, static_cast<uint32_t>(*queue + 1));
  EXPECT_THAT(applied->egress->location,
              HasSubstr("bridge=br-test queue=" + std::to_string(*queue) +
                        " dev=up0 classid=" + tc::formatHandle(classA)));
}

TEST_F(OvsQueueBackendTest, TheFilterPutsThePortsFramesIntoItsQueueClass) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const uint32_t classA = makeHandle(1, static_cast<uint32_t>(*queueOf(kPortA) + 1));
  ASSERT_TRUE(cls("up0", classA));  // made by "ovs-vswitchd"
  EXPECT_EQ(cls("up0", classA)->rateBytesPerSec, Kbps(60000).toBytesPerSec());
  EXPECT_EQ(cls("up0", classA)->ceilBytesPerSec, Kbps(100000).toBytesPerSec());
  EXPECT_EQ(tc_->classifyForTest("up0", fromVm(kMacA)), classA);
  EXPECT_EQ(tc_->classifyForTest("up0", fromVm(kMacB)), 0u);  // HTB default 1:1 = queue 0
  EXPECT_TRUE(cls("up0", makeHandle(1, 1)));
}

TEST_F(OvsQueueBackendTest, ProgramIsIdempotent) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const int commits = ovsdb_->commitsForTest();
  const int mutations = tc_->mutationsForTest();
  Result<AppliedQos> again = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(again) << again.error();
  EXPECT_TRUE(again->overall().isEnforced());
  EXPECT_EQ(ovsdb_->commitsForTest(), commits);
  EXPECT_EQ(tc_->mutationsForTest(), mutations);
}

TEST_F(OvsQueueBackendTest, RateChangeIsOneQueueUpdate) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const int64_t queue = *queueOf(kPortA);
  QosSpec changed = spec(kPortA, kMacA, 30000);
  changed.maxEgress = Kbps(50000);
  Result<AppliedQos> applied = backend_->program(changed);
  ASSERT_TRUE(applied) << applied.error();
  ASSERT_THAT(ovsdb_->lastOpsForTest(), SizeIs(1));
  EXPECT_EQ(ovsdb_->lastOpsForTest()[0].kind, OvsdbOp::Kind::kUpdateQueue);
  EXPECT_EQ(*queueOf(kPortA), queue);
  EXPECT_EQ(applied->egress->minKbps, Kbps(30000));
  EXPECT_EQ(applied->egress->maxKbps, Kbps(50000));
  const uint32_t classA = makeHandle(1, static_cast<uint32_t>(queue + 1));
  EXPECT_EQ(cls("up0", classA)->rateBytesPerSec, Kbps(30000).toBytesPerSec());
  EXPECT_EQ(cls("up0", classA)->ceilBytesPerSec, Kbps(50000).toBytesPerSec());
}

TEST_F(OvsQueueBackendTest, NewMacReplacesTheFilter) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const uint32_t classA = tc_->classifyForTest("up0", fromVm(kMacA));
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacB, 60000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_TRUE(applied->overall().isEnforced());
  EXPECT_EQ(applied->port.mac, kMacB);
  EXPECT_EQ(tc_->classifyForTest("up0", fromVm(kMacB)), classA);
  EXPECT_EQ(tc_->classifyForTest("up0", fromVm(kMacA)), 0u);
}

TEST_F(OvsQueueBackendTest, UserspaceDatapathGetsShortLeafQueuesKernelDatapathDoesNot) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const uint32_t minorA = static_cast<uint32_t>(*queueOf(kPortA) + 1);
  std::vector<tc::Qdisc> netdev = leaves("up0");
  ASSERT_THAT(netdev, SizeIs(2));
  // Sized to the default send buffer (92 frames) as HtbBackend's: queue 0 gets 92/8, A 92/2 times
  // its share of the bridge's 100 Mbit/s.
  std::map<uint32_t, uint32_t> packets;
  for (const tc::Qdisc& q : netdev) packets[q.parent] = q.fifoLimitPackets;
  EXPECT_EQ(packets,
            (std::map<uint32_t, uint32_t>{{makeHandle(1, 1), 11}, {makeHandle(1, minorA), 27}}));

  // A leaf removed by hand makes the guarantee "failed" until the next program repairs it.
  ASSERT_TRUE(tc_->deleteQdisc("up0", netdev[0]));
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_THAT(observed->front().overall().toString(), HasSubstr("pfifo leaf"));
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  EXPECT_THAT(leaves("up0"), SizeIs(2));

  // Kernel datapath: HTB's own leaves stay.
  ASSERT_TRUE(backend_->remove(kPortA));
  ovsdb_->tablesForTest().bridges[1].datapathType = "system";
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  EXPECT_THAT(leaves("up0"), IsEmpty());
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());
}

TEST_F(OvsQueueBackendTest, IngressIsRecordedAndReportedPlacementOnly) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000, 40000));
  ASSERT_TRUE(applied);
  ASSERT_TRUE(applied->ingress);
  EXPECT_EQ(applied->ingress->minKbps, Kbps(40000));
  EXPECT_EQ(applied->ingress->enforcement.state(), Enforcement::State::kPlacementOnly);
  EXPECT_THAT(applied->overall().toString(), HasSubstr("placement-only (the ovs backend shapes"));
  restart();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_EQ(observed->front().ingress, applied->ingress);

  // An ingress-only port needs no queue at all.
  Result<AppliedQos> ingressOnly = backend_->program(spec(kPortB, kMacB, 0, 10000));
  ASSERT_TRUE(ingressOnly);
  EXPECT_EQ(ingressOnly->egress, std::nullopt);
  EXPECT_EQ(ingressOnly->ingress->enforcement.state(), Enforcement::State::kPlacementOnly);
  EXPECT_EQ(queueOf(kPortB), std::nullopt);
}

TEST_F(OvsQueueBackendTest, RestartAdoptsEverythingFromTheTags) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000)));
  restart();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed) << observed.error();
  ASSERT_THAT(*observed, SizeIs(2));
  for (const AppliedQos& a : *observed) {
    EXPECT_TRUE(a.overall().isEnforced()) << a.port.portId << ": " << a.overall().toString();
    EXPECT_EQ(a.port.device, "br-test");
    EXPECT_EQ(a.egress->minKbps, Kbps(a.port.portId == kPortA ? 60000 : 10000));
    EXPECT_EQ(a.port.mac, a.port.portId == kPortA ? kMacA : kMacB);
  }
  const int commits = ovsdb_->commitsForTest();
  const int mutations = tc_->mutationsForTest();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  EXPECT_EQ(ovsdb_->commitsForTest(), commits);
  EXPECT_EQ(tc_->mutationsForTest(), mutations);
}

TEST_F(OvsQueueBackendTest, RemoveTakesFiltersFirstThenTheQueueAndFinallyTheQos) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000)));
  const uint32_t classA = tc_->classifyForTest("up0", fromVm(kMacA));
  ASSERT_TRUE(backend_->remove(kPortA));
  // The fake kernel refuses to delete a class a filter points to, as the real one does: had the
  // queue gone first, "ovs-vswitchd" could not have deleted class A.
  EXPECT_EQ(vswitchd_.failuresForTest(), 0);
  EXPECT_FALSE(cls("up0", classA));
  EXPECT_EQ(tc_->classifyForTest("up0", fromVm(kMacA)), 0u);
  EXPECT_EQ(queueOf(kPortA), std::nullopt);
  EXPECT_THAT(onlyQos()->queues, SizeIs(2));  // default + B
  EXPECT_THAT(ovsdb_->tablesForTest().queues, SizeIs(2));

  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_EQ(vswitchd_.failuresForTest(), 0);
  EXPECT_THAT(ovsdb_->tablesForTest().qos, IsEmpty());
  EXPECT_THAT(ovsdb_->tablesForTest().queues, IsEmpty());
  EXPECT_EQ(port("up0")->qos, "");
  EXPECT_FALSE(hasHtb("up0"));
  EXPECT_THAT(backend_->observe().value(), IsEmpty());

  // Removing what is not there is a success and writes nothing.
  const int commits = ovsdb_->commitsForTest();
  EXPECT_TRUE(backend_->remove(kPortB));
  EXPECT_TRUE(backend_->remove("not-a-uuid"));
  EXPECT_EQ(ovsdb_->commitsForTest(), commits);
}

TEST_F(OvsQueueBackendTest, ObserveReportsDriftAndProgramRepairsIt) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  // Someone clears the uplink's QoS: ovs-vswitchd removes the HTB, filters included.
  port("up0")->qos = "";
  vswitchd_.apply(ovsdb_->tablesForTest());
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_TRUE(observed->front().overall().isFailed());
  EXPECT_THAT(observed->front().overall().reason(), HasSubstr("not on uplink port up0"));

  Result<AppliedQos> repaired = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(repaired) << repaired.error();
  EXPECT_TRUE(repaired->overall().isEnforced()) << repaired->overall().toString();
  EXPECT_NE(tc_->classifyForTest("up0", fromVm(kMacA)), 0u);
}

TEST_F(OvsQueueBackendTest, AForeignQosOnTheUplinkIsAConflictNotATakeover) {
  const std::string foreign = ovsdb_->insertQosForTest(OvsdbQosRow{"", "linux-hfsc", {}, {}, {}});
  port("up0")->qos = foreign;
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(applied.error().message(), HasSubstr("uplink port up0 of bridge br-test uses QoS"));
  EXPECT_EQ(port("up0")->qos, foreign);
  EXPECT_EQ(ovsdb_->commitsForTest(), 0);
}

TEST_F(OvsQueueBackendTest, WithoutVswitchdTheProgramFailsAndSaysWhy) {
  ovsdb_->onCommitForTest(nullptr);  // nobody applies the QoS to the kernel
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(applied.error().message(), HasSubstr("ovs-vswitchd has not applied the QoS"));
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));  // the queue is there, named: the agent can retry or remove
  EXPECT_THAT(observed->front().overall().reason(), HasSubstr("no htb qdisc 1: on up0"));
  vswitchd_.apply(ovsdb_->tablesForTest());  // ovs-vswitchd comes back
  Result<AppliedQos> retried = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(retried) << retried.error();
  EXPECT_TRUE(retried->overall().isEnforced());
}

TEST_F(OvsQueueBackendTest, APortThatMovesBridgeLeavesNothingBehind) {
  ovsdb_->addBridgeForTest("br-ex", "netdev", {{"up1", ""}});
  tc_->addDeviceForTest("up1");
  config_.bridges.push_back(OvsQueueBridgeConfig{"br-ex", Kbps(50000)});
  restart();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 20000)));
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 20000, 0, "br-ex")));
  EXPECT_EQ(vswitchd_.failuresForTest(), 0);
  EXPECT_FALSE(hasHtb("up0"));
  EXPECT_EQ(port("up0")->qos, "");
  EXPECT_NE(tc_->classifyForTest("up1", fromVm(kMacA)), 0u);
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_THAT(observed.value(), SizeIs(1));
  EXPECT_EQ(observed->front().port.device, "br-ex");
}

TEST_F(OvsQueueBackendTest, EveryInterfaceOfABondedUplinkIsClassified) {
  ovsdb_->addBondForTest("br-test", "bond0", {"eth-a", "eth-b"});
  tc_->addDeviceForTest("eth-a");
  tc_->addDeviceForTest("eth-b");
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_TRUE(applied->overall().isEnforced());
  EXPECT_EQ(port("bond0")->qos, port("up0")->qos);
  const uint32_t classA = tc_->classifyForTest("up0", fromVm(kMacA));
  EXPECT_NE(classA, 0u);
  EXPECT_EQ(tc_->classifyForTest("eth-a", fromVm(kMacA)), classA);
  EXPECT_EQ(tc_->classifyForTest("eth-b", fromVm(kMacA)), classA);
}

TEST_F(OvsQueueBackendTest, AConcurrentWriterMakesThePlanRunAgainOnFreshRows) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const std::string qos = onlyQos()->uuid;
  const std::string extra = ovsdb_->insertQueueForTest(OvsdbQueueRow{"", {}, {}});
  const int plans = ovsdb_->plansForTest();
  // Between B's plan and its commit, an operator adds queue 5 to the same QoS row.
  ovsdb_->interleaveOnceForTest(
      [&](OvsQosTables& tables) { tables.qos.at(qos).queues[5] = extra; });
  Result<AppliedQos> applied = backend_->program(spec(kPortB, kMacB, 10000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(ovsdb_->plansForTest(), plans + 2);  // the first plan's QoS.queues no longer held
  EXPECT_EQ(onlyQos()->queues.at(5), extra);     // the operator's write survived
  EXPECT_TRUE(queueOf(kPortA) && queueOf(kPortB));
}

TEST_F(OvsQueueBackendTest, CountersComeFromTheKernelClasses) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
  const uint32_t classA = tc_->classifyForTest("up0", fromVm(kMacA));
  tc_->setClassStatsForTest("up0", classA, tc::TcStats{1000, 10, 1, 2});
  tc_->setClassStatsForTest("up0", makeHandle(1, 1), tc::TcStats{500, 5, 0, 0});
  Result<std::vector<QosCounters>> counters = backend_->counters();
  ASSERT_TRUE(counters) << counters.error();
  EXPECT_THAT(*counters, Contains(QosCounters{kPortA, Direction::kEgress, "up0",
                                              "classid " + tc::formatHandle(classA) + " queue " +
                                                  std::to_string(*queueOf(kPortA)),
                                              1000, 10, 1, 2}));
  EXPECT_THAT(*counters, Contains(QosCounters{"", Direction::kEgress, "up0", "classid 1:1 queue 0",
                                              500, 5, 0, 0}));
}

TEST_F(OvsQueueBackendTest, RejectsWhatCannotBeProgrammed) {
  EXPECT_EQ(backend_->program(spec("nope", kMacA, 1000)).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->program(spec(kPortA, "fa:16", 1000)).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->program(spec(kPortA, kMacA, 1000, 0, "br-nope")).error().code(),
            ErrorCode::kInvalidArgument);
  QosSpec belowMin = spec(kPortA, kMacA, 2000);
  belowMin.maxEgress = Kbps(1000);
  EXPECT_EQ(backend_->program(belowMin).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ovsdb_->commitsForTest(), 0);

  ovsdb_->removePortForTest("br-test", "up0");
  Result<AppliedQos> noUplink = backend_->program(spec(kPortA, kMacA, 1000));
  ASSERT_FALSE(noUplink);
  EXPECT_EQ(noUplink.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(noUplink.error().message(), HasSubstr("br-test has no uplink"));
}

// Above the bridge's total (lowered below what is allocated): the queue's min-rate is the total.
TEST_F(OvsQueueBackendTest, AMinimumAboveTheTotalIsHeldAtTheTotal) {
  Result<AppliedQos> r = backend_->program(spec(kPortA, kMacA, 200000));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(r->egress);
  EXPECT_EQ(r->egress->minKbps, config_.bridges[0].egressTotal);
}

TEST_F(OvsQueueBackendTest, ConfigValidationListsEveryProblem) {
  OvsQueueBackendConfig config;
  config.bridges = {OvsQueueBridgeConfig{"br-a", Kbps(0)},
                    OvsQueueBridgeConfig{"br-a", Kbps(40000000)}};
  config.defaultQueueRate = Kbps(0);
  Status status = validateOvsQueueConfig(config);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("br-a: egress total is 0"));
  EXPECT_THAT(status.error().message(), HasSubstr("bridge br-a listed twice"));
  EXPECT_THAT(status.error().message(), HasSubstr("exceeds what linux-htb can hold"));
  EXPECT_THAT(status.error().message(), HasSubstr("default queue rate is 0"));
  EXPECT_TRUE(validateOvsQueueConfig(config_));
}

TEST_F(OvsQueueBackendTest, ErrorsOfTheDatabaseArePassedOnNamed) {
  ovsdb_->failNextForTest(
      "transact", makeError(ErrorCode::kUnavailable, "ovsdb remote=unix:x: cannot connect"));
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(applied.error().message(), HasSubstr("port " + std::string(kPortA)));
  EXPECT_THAT(applied.error().message(), HasSubstr("cannot connect"));
  EXPECT_TRUE(backend_->program(spec(kPortA, kMacA, 60000)));
}

}  // namespace
}  // namespace bwfloor::dataplane
