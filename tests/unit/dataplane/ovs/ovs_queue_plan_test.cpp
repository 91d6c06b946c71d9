// The OVSDB plans of OvsQueueBackend as pure functions over a snapshot: which operations a given
// state of the tables needs, and that applying them (FakeOvsdbQosApi) reaches the wanted state in
// one transaction.
#include "dataplane/ovs/ovs_queue_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/ovs/testing/fake_ovsdb_qos_api.h"
#include "dataplane/tc/htb_layout.h"

namespace bwfloor::dataplane {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";

OvsPortQueueSpec portSpec(const std::string& id, uint64_t minKbps) {
  return OvsPortQueueSpec{id, "fa:16:3e:00:00:0a", "br-test", Kbps(minKbps), Kbps(100000), Kbps(0)};
}

std::vector<OvsdbOp::Kind> kinds(const std::vector<OvsdbOp>& ops) {
  std::vector<OvsdbOp::Kind> out;
  for (const OvsdbOp& op : ops) out.push_back(op.kind);
  return out;
}

class OvsQueuePlanTest : public ::testing::Test {
 protected:
  OvsQueuePlanTest() {
    db_.addBridgeForTest("br-test", "netdev", {{"phy-br-test", "patch"}, {"up0", ""}});
  }

  // Plans and commits (through the fake's transaction rules).
  std::vector<OvsdbOp> program(const OvsPortQueueSpec& port) {
    std::vector<OvsdbOp> planned;
    Result<OvsdbCommit> commit = db_.transact([&](const OvsQosTables& t) {
      Result<std::vector<OvsdbOp>> ops = planProgram(t, bridges_, Kbps(1000), port);
      if (ops) planned = *ops;
      return ops;
    });
    EXPECT_TRUE(commit) << commit.error();
    return planned;
  }
  std::vector<OvsdbOp> remove(const std::string& portId) {
    std::vector<OvsdbOp> planned;
    Result<OvsdbCommit> commit = db_.transact([&](const OvsQosTables& t) {
      planned = planRemove(t, bridges_, portId);
      return planned;
    });
    EXPECT_TRUE(commit) << commit.error();
    return planned;
  }
  const OvsQosTables& tables() { return db_.tablesForTest(); }

  FakeOvsdbQosApi db_;
  std::vector<OvsQueueBridgeConfig> bridges_{{"br-test", Kbps(100000)}};
};

TEST_F(OvsQueuePlanTest, FirstPortIsOneTransactionWithInsertsReferencedByIndex) {
  const std::vector<OvsdbOp> ops = program(portSpec(kPortA, 60000));
  EXPECT_THAT(kinds(ops), ElementsAre(OvsdbOp::Kind::kInsertQueue, OvsdbOp::Kind::kInsertQueue,
                                      OvsdbOp::Kind::kInsertQos, OvsdbOp::Kind::kSetPortQos));
  EXPECT_EQ(ops[2].queues->at(0), OvsdbRowRef::inserted(0));
  EXPECT_EQ(ops[3].qos, OvsdbRowRef::inserted(2));
  EXPECT_EQ(ops[3].row, db_.portUuidForTest("up0"));
  EXPECT_THAT(program(portSpec(kPortA, 60000)), IsEmpty());
}

TEST_F(OvsQueuePlanTest, QueueNumbersFollowTheHtbMinorAllocation) {
  program(portSpec(kPortA, 60000));
  program(portSpec(kPortB, 10000));
  const OvsBridgeQos view = viewBridge(tables(), "br-test");
  ASSERT_THAT(view.portQueues, SizeIs(2));
  EXPECT_EQ(view.defaultQueue, 0);
  const int64_t a = view.portQueues.at(kPortA);
  EXPECT_EQ(static_cast<uint32_t>(a + 1),
            tc::allocatePortMinor(kPortA, [](uint32_t) { return true; }).value());
  EXPECT_NE(a, view.portQueues.at(kPortB));
  EXPECT_EQ(uplinkDevices(view), std::vector<std::string>{"up0"});
}

TEST_F(OvsQueuePlanTest, DriftedRowsAreRepairedInPlace) {
  program(portSpec(kPortA, 60000));
  OvsQosTables& t = db_.tablesForTest();
  OvsdbQosRow& qos = t.qos.begin()->second;
  qos.otherConfig["max-rate"] = "5";
  t.queues.at(qos.queues.at(0)).externalIds.clear();  // queue 0 lost its tags
  std::vector<OvsdbOp> ops = program(portSpec(kPortA, 60000));
  EXPECT_THAT(kinds(ops), ElementsAre(OvsdbOp::Kind::kUpdateQos, OvsdbOp::Kind::kUpdateQueue));
  EXPECT_EQ(ops[0].otherConfig, (OvsdbMap{{"max-rate", "100000000"}}));
  EXPECT_FALSE(ops[0].queues);  // only what differs is written
  EXPECT_TRUE(ops[1].externalIds && !ops[1].otherConfig);
  EXPECT_THAT(program(portSpec(kPortA, 60000)), IsEmpty());
}

TEST_F(OvsQueuePlanTest, DuplicateQueuesOfAPortCollapseToTheLowerNumber) {
  program(portSpec(kPortA, 60000));
  OvsQosTables& t = db_.tablesForTest();
  OvsdbQosRow& qos = t.qos.begin()->second;
  const int64_t first = viewBridge(t, "br-test").portQueues.at(kPortA);
  const std::string copy = db_.insertQueueForTest(t.queues.at(qos.queues.at(first)));
  qos.queues[first + 1] = copy;
  std::vector<OvsdbOp> ops = program(portSpec(kPortA, 60000));
  EXPECT_THAT(kinds(ops), ElementsAre(OvsdbOp::Kind::kDeleteQueue, OvsdbOp::Kind::kUpdateQos));
  EXPECT_EQ(ops[0].row, copy);
  EXPECT_THAT(tables().qos.begin()->second.queues, SizeIs(2));
  EXPECT_EQ(viewBridge(tables(), "br-test").portQueues.at(kPortA), first);
}

TEST_F(OvsQueuePlanTest, RemoveDeletesOrphansAndTheQosWithItsLastQueue) {
  program(portSpec(kPortA, 60000));
  program(portSpec(kPortB, 10000));
  // A tagged queue that no QoS references any more (an operator edited QoS.queues).
  const std::string orphan =
      db_.insertQueueForTest(OvsdbQueueRow{"", {}, {{kOvsTagBridge, "br-test"}}});
  std::vector<OvsdbOp> ops = remove(kPortA);
  EXPECT_THAT(kinds(ops), ElementsAre(OvsdbOp::Kind::kDeleteQueue, OvsdbOp::Kind::kDeleteQueue,
                                      OvsdbOp::Kind::kUpdateQos));
  EXPECT_EQ(ops[1].row, orphan);
  EXPECT_THAT(remove(kPortA), IsEmpty());
  ops = remove(kPortB);
  EXPECT_THAT(kinds(ops), ElementsAre(OvsdbOp::Kind::kDeleteQueue, OvsdbOp::Kind::kSetPortQos,
                                      OvsdbOp::Kind::kDeleteQos, OvsdbOp::Kind::kDeleteQueue));
  EXPECT_EQ(ops[1].qos, std::nullopt);
  EXPECT_THAT(tables().qos, IsEmpty());
  EXPECT_THAT(tables().queues, IsEmpty());
}

TEST_F(OvsQueuePlanTest, UntaggedRowsAreNeverTouched) {
  const std::string foreignQueue = db_.insertQueueForTest(OvsdbQueueRow{"", {}, {}});
  const std::string foreignQos =
      db_.insertQosForTest(OvsdbQosRow{"", "linux-htb", {}, {}, {{1, foreignQueue}}});
  program(portSpec(kPortA, 60000));
  remove(kPortA);
  EXPECT_THAT(tables().qos, SizeIs(1));
  EXPECT_EQ(tables().qos.begin()->first, foreignQos);
  EXPECT_THAT(tables().queues, SizeIs(1));
  EXPECT_EQ(tables().queues.begin()->first, foreignQueue);
}

TEST_F(OvsQueuePlanTest, MissingBridgeOrUplinkIsNotFound) {
  std::vector<OvsQueueBridgeConfig> bridges{{"br-gone", Kbps(1000)}};
  OvsPortQueueSpec port = portSpec(kPortA, 100);
  port.bridge = "br-gone";
  Result<std::vector<OvsdbOp>> ops = planProgram(tables(), bridges, Kbps(1000), port);
  ASSERT_FALSE(ops);
  EXPECT_EQ(ops.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ops.error().message(), "bridge br-gone is not in the OVS database");
}

TEST_F(OvsQueuePlanTest, RatesAreBitsPerSecondAndReadBackRoundsUp) {
  EXPECT_EQ(ovsBitsPerSec(Kbps(60000)), "60000000");
  EXPECT_EQ(parseOvsBitsPerSec("60000000"), Kbps(60000));
  EXPECT_EQ(parseOvsBitsPerSec("1001"), Kbps(2));
  EXPECT_EQ(parseOvsBitsPerSec("12x"), std::nullopt);
  EXPECT_EQ(parseOvsBitsPerSec(""), std::nullopt);
  OvsPortQueueSpec port = portSpec(kPortA, 1500);
  port.minIngress = Kbps(700);
  EXPECT_EQ(portQueueTags(port).at(kOvsTagMinIngressKbps), "700");
  // The bucket: 64 KiB (in bits) up to 512 Mbit/s, then 1 ms at the rate.
  EXPECT_EQ(portQueueConfig(port),
            (OvsdbMap{{"min-rate", "1500000"}, {"max-rate", "100000000"}, {"burst", "524288"}}));
  port.minEgress = Kbps(1000000);
  EXPECT_EQ(portQueueConfig(port).at("burst"), "1000000");
}

}  // namespace
}  // namespace bwfloor::dataplane
