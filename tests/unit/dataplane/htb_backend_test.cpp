// HtbBackend through its real logic, against FakeTcApi: every test programs through the backend
// and reads back through the same TcApi the backend uses, as in FBOSS's QueueManagerTest.
#include "dataplane/tc/htb_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cerrno>
#include <map>
#include <set>
#include <sstream>

#include "core/logging.h"
#include "dataplane/tc/testing/fake_tc_api.h"

namespace bwfloor::dataplane::tc {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kPortC = "7a1c2e4f-8d3b-4c5e-9f10-1122334455cc";
constexpr const char* kMacA = "fa:16:3e:00:00:0a";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";
constexpr const char* kMacC = "fa:16:3e:00:01:0a";  // same bucket as A

EthernetHeader frame(const std::string& dst, const std::string& src) {
  EthernetHeader eth{};
  MacAddress d = parseMac(dst).value();
  MacAddress s = parseMac(src).value();
  std::copy(d.begin(), d.end(), eth.begin());
  std::copy(s.begin(), s.end(), eth.begin() + 6);
  eth[12] = 0x08;  // IPv4
  return eth;
}
EthernetHeader fromVm(const std::string& mac) { return frame("02:00:00:00:00:01", mac); }
EthernetHeader toVm(const std::string& mac) { return frame(mac, "02:00:00:00:00:01"); }

QosSpec spec(const std::string& port, const std::string& mac, uint64_t egr, uint64_t igr,
             const std::string& dev = "eth0") {
  QosSpec s;
  s.port = PortIdentity{port, mac, dev, std::nullopt};
  s.minEgress = Kbps(egr);
  s.minIngress = Kbps(igr);
  return s;
}

class HtbBackendTest : public ::testing::Test {
 protected:
  HtbBackendTest() {
    LogOptions quiet;  // every kernel change is logged at info; not on the test's terminal
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    fake_->addDeviceForTest("eth0", 1000);
    config_.devices = {HtbDeviceConfig{"eth0", Kbps(100000), Kbps(50000)}};
    backend_ = std::make_unique<HtbBackend>(config_, fake_);
  }

  ~HtbBackendTest() override { initLogging(LogOptions{}); }

  // A new backend over the same fake kernel: what the agent is after a restart.
  void restart() { backend_ = std::make_unique<HtbBackend>(config_, fake_); }

  std::vector<HtbClass> classes(const std::string& dev) { return fake_->listClasses(dev).value(); }
  const HtbClass* findClass(const std::string& dev, uint32_t handle) {
    static HtbClass found;
    for (const HtbClass& c : classes(dev)) {
      if (c.handle == handle) return &(found = c);
    }
    return nullptr;
  }
  size_t portFilterCount(const std::string& dev) {
    size_t n = 0;
    const auto list = fake_->listFilters(dev, kHtbQdiscHandle).value();
    for (const U32Filter& f : list) {
      if (u32Htid(f.handle) == kPortHtid && u32Node(f.handle) != 0) ++n;
    }
    return n;
  }
  bool hasHtb(const std::string& dev) {
    Result<std::vector<Qdisc>> qdiscs = fake_->listQdiscs(dev);
    if (!qdiscs) return false;
    for (const Qdisc& q : *qdiscs) {
      if (q.kind == "htb") return true;
    }
    return false;
  }
  bool hasIngressQdisc(const std::string& dev) {
    const auto list = fake_->listQdiscs(dev).value();
    for (const Qdisc& q : list) {
      if (q.parent == kParentIngress) return true;
    }
    return false;
  }
  bool linkExists(const std::string& dev) { return fake_->getLink(dev).value().has_value(); }

  std::shared_ptr<FakeTcApi> fake_ = std::make_shared<FakeTcApi>();
  HtbBackendConfig config_;
  std::unique_ptr<HtbBackend> backend_;
};

TEST_F(HtbBackendTest, ProgramBuildsBothTreesAndClassifiesThePortsMac) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(applied->backend, "htb");
  EXPECT_EQ(applied->port.portId, kPortA);
  EXPECT_EQ(applied->port.mac, kMacA);
  ASSERT_TRUE(applied->egress && applied->ingress);
  EXPECT_EQ(applied->egress->minKbps, Kbps(60000));
  EXPECT_EQ(applied->egress->maxKbps, std::nullopt);  // may use the whole device
  EXPECT_EQ(applied->ingress->minKbps, Kbps(20000));
  EXPECT_TRUE(applied->overall().isEnforced()) << applied->overall().toString();
  EXPECT_THAT(applied->egress->location, HasSubstr("dev=eth0 classid=1:"));
  EXPECT_THAT(applied->ingress->location, HasSubstr("dev=ifb-eth0 classid=1:"));

  // Egress tree on the uplink: root capped at the total, default class, the port's class.
  const HtbClass* root = findClass("eth0", makeHandle(1, 1));
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->rateBytesPerSec, Kbps(100000).toBytesPerSec());
  ASSERT_NE(findClass("eth0", makeHandle(1, 2)), nullptr);
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  ASSERT_NE(classA, 0u);
  const HtbClass* cls = findClass("eth0", classA);
  ASSERT_NE(cls, nullptr);
  EXPECT_EQ(cls->parent, makeHandle(1, 1));
  EXPECT_EQ(cls->rateBytesPerSec, Kbps(60000).toBytesPerSec());
  EXPECT_EQ(cls->ceilBytesPerSec, Kbps(100000).toBytesPerSec());
  EXPECT_EQ(cls->quantumBytes, 200000u);
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacB)), 0u);  // default class
  EXPECT_EQ(fake_->classifyForTest("eth0", toVm(kMacA)), 0u);    // egress looks at the source

  // Ingress: the uplink redirects everything to the IFB, which classifies on the destination.
  std::optional<TcLink> ifb = fake_->getLink("ifb-eth0").value();
  ASSERT_TRUE(ifb);
  EXPECT_TRUE(ifb->up);
  EXPECT_EQ(ifb->txQueueLen, 1000u);
  EXPECT_EQ(fake_->ingressRedirectForTest("eth0", toVm(kMacB)), ifb->ifindex);
  EXPECT_EQ(fake_->classifyForTest("ifb-eth0", toVm(kMacA)), classA);  // same class id both ways
  EXPECT_EQ(findClass("ifb-eth0", classA)->rateBytesPerSec, Kbps(20000).toBytesPerSec());
  EXPECT_EQ(findClass("ifb-eth0", makeHandle(1, 1))->rateBytesPerSec, Kbps(50000).toBytesPerSec());
  EXPECT_EQ(fake_->classifyForTest("ifb-eth0", fromVm(kMacA)), 0u);
}

TEST_F(HtbBackendTest, ProgramIsIdempotent) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const int before = fake_->mutationsForTest();
  Result<AppliedQos> again = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_TRUE(again);
  EXPECT_EQ(fake_->mutationsForTest(), before);
  EXPECT_TRUE(again->overall().isEnforced());
  EXPECT_EQ(portFilterCount("eth0"), 1u);
}

TEST_F(HtbBackendTest, RateChangeChangesOnlyThatClass) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const int before = fake_->mutationsForTest();
  Result<AppliedQos> changed = backend_->program(spec(kPortA, kMacA, 30000, 20000));
  ASSERT_TRUE(changed);
  EXPECT_EQ(fake_->mutationsForTest(), before + 1);
  EXPECT_EQ(changed->egress->minKbps, Kbps(30000));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  EXPECT_EQ(findClass("eth0", classA)->rateBytesPerSec, Kbps(30000).toBytesPerSec());
}

TEST_F(HtbBackendTest, MaxBecomesTheCeilingAndIsCappedAtTheTotal) {
  QosSpec s = spec(kPortA, kMacA, 10000, 0);
  s.maxEgress = Kbps(40000);
  Result<AppliedQos> applied = backend_->program(s);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->egress->maxKbps, Kbps(40000));
  EXPECT_EQ(applied->ingress, std::nullopt);
  s.maxEgress = Kbps(500000);
  applied = backend_->program(s);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->egress->maxKbps, std::nullopt);
  s.maxEgress = Kbps(0);  // Neutron: 0 = no limit
  EXPECT_TRUE(backend_->program(s));
}

TEST_F(HtbBackendTest, OneDirectionOnlyBuildsOnlyThatTree) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  EXPECT_TRUE(hasHtb("eth0"));
  EXPECT_FALSE(linkExists("ifb-eth0"));
  EXPECT_FALSE(hasIngressQdisc("eth0"));
  // Dropping egress and adding ingress swaps the trees.
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 0, 10000)));
  EXPECT_FALSE(hasHtb("eth0"));
  EXPECT_TRUE(linkExists("ifb-eth0"));
  EXPECT_TRUE(hasIngressQdisc("eth0"));
}

TEST_F(HtbBackendTest, RemoveKeepsTheTreeUntilTheLastGuaranteeGoes) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000, 10000)));
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(portFilterCount("eth0"), 1u);
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacA)), 0u);
  EXPECT_NE(fake_->classifyForTest("eth0", fromVm(kMacB)), 0u);
  EXPECT_EQ(classes("eth0").size(), 3u);  // root, default, B

  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_FALSE(hasHtb("eth0"));
  EXPECT_FALSE(hasIngressQdisc("eth0"));
  EXPECT_FALSE(linkExists("ifb-eth0"));
  EXPECT_THAT(classes("eth0"), IsEmpty());
  EXPECT_TRUE(backend_->remove(kPortB));  // unknown: fine
  EXPECT_TRUE(backend_->remove("not-a-uuid"));
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(HtbBackendTest, RestartObservesAndAdoptsWithoutChangingAnything) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000, 0)));
  ASSERT_TRUE(backend_->program(spec(kPortC, kMacC, 5000, 5000)));
  restart();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed) << observed.error();
  ASSERT_THAT(*observed, SizeIs(3));
  std::map<std::string, AppliedQos> byPort;
  for (const AppliedQos& a : *observed) byPort[a.port.portId] = a;
  EXPECT_EQ(byPort[kPortA].port.mac, kMacA);
  EXPECT_EQ(byPort[kPortA].port.device, "eth0");
  EXPECT_EQ(byPort[kPortA].egress->minKbps, Kbps(60000));
  EXPECT_EQ(byPort[kPortA].ingress->minKbps, Kbps(20000));
  EXPECT_EQ(byPort[kPortB].ingress, std::nullopt);
  EXPECT_EQ(byPort[kPortC].egress->minKbps, Kbps(5000));
  for (const auto& [port, a] : byPort) EXPECT_TRUE(a.overall().isEnforced()) << port;

  const int before = fake_->mutationsForTest();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000, 0)));
  ASSERT_TRUE(backend_->program(spec(kPortC, kMacC, 5000, 5000)));
  EXPECT_EQ(fake_->mutationsForTest(), before);  // adopted: nothing duplicated or redone
  EXPECT_EQ(portFilterCount("eth0"), 3u);
}

TEST_F(HtbBackendTest, RestartWithoutObserveStillAdopts) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  restart();
  const int before = fake_->mutationsForTest();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  EXPECT_EQ(fake_->mutationsForTest(), before);
}

TEST_F(HtbBackendTest, ClassDeletedByHandShowsAsFailedAndProgramRestoresIt) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  ASSERT_TRUE(fake_->deleteClass("eth0", classA));  // the operator's `tc class del`

  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1));
  const AppliedQos& a = observed->front();
  EXPECT_TRUE(a.egress->enforcement.isFailed());
  EXPECT_EQ(a.egress->enforcement.reason(), "class " + formatHandle(classA) + " missing on eth0");
  EXPECT_TRUE(a.ingress->enforcement.isEnforced());
  EXPECT_TRUE(a.overall().isFailed());

  Result<AppliedQos> repaired = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_TRUE(repaired);
  EXPECT_TRUE(repaired->overall().isEnforced());
  ASSERT_NE(findClass("eth0", classA), nullptr);
  EXPECT_EQ(findClass("eth0", classA)->rateBytesPerSec, Kbps(60000).toBytesPerSec());
}

TEST_F(HtbBackendTest, FilterDeletedByHandIsReprogrammedOnTheSameClass) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  U32Filter f = portFilter(Uuid::parse(kPortA).value(), parseMac(kMacA).value(), MacField::kSource,
                           handleMinor(classA));
  ASSERT_TRUE(fake_->deleteFilter("eth0", f));
  AppliedQos a = backend_->observe().value().front();
  EXPECT_EQ(a.egress, std::nullopt);  // invisible: its port id was in the filter

  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacA)), classA);
  EXPECT_EQ(classes("eth0").size(), 3u);  // the orphaned class was adopted, not duplicated
}

TEST_F(HtbBackendTest, DefaultClassOrLinkDeletedByHandFailsEveryPort) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  ASSERT_TRUE(fake_->deleteFilter("eth0", macLinkFilter(MacField::kSource)));
  AppliedQos a = backend_->observe().value().front();
  EXPECT_EQ(a.egress->enforcement.reason(), "u32 link filter 800::800 missing on eth0");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  EXPECT_NE(fake_->classifyForTest("eth0", fromVm(kMacA)), 0u);

  ASSERT_TRUE(fake_->deleteClass("eth0", makeHandle(1, 2)));
  a = backend_->observe().value().front();
  EXPECT_EQ(a.egress->enforcement.reason(), "default class 1:2 missing on eth0");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());
}

TEST_F(HtbBackendTest, IngressPathDriftIsReportedAndRepaired) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 0, 20000)));
  ASSERT_TRUE(fake_->deleteQdisc("eth0", Qdisc{kIngressHandle, kParentIngress, "ingress"}));
  AppliedQos a = backend_->observe().value().front();
  EXPECT_EQ(a.ingress->enforcement.reason(), "ingress qdisc missing on eth0");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 0, 20000)));
  EXPECT_NE(fake_->ingressRedirectForTest("eth0", toVm(kMacA)), 0);
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());
}

TEST_F(HtbBackendTest, SomeoneElsesIngressFiltersKeepTheIngressQdisc) {
  ASSERT_TRUE(fake_->addQdisc("eth0", Qdisc{kIngressHandle, kParentIngress, "ingress"}));
  U32Filter theirs;
  theirs.parent = kIngressHandle;
  theirs.prio = 5;
  theirs.handle = makeU32Handle(kU32RootHtid, 0, 1);
  theirs.keys = {U32Key{0x0a000000, 0xff000000, 12}};
  theirs.classId = makeHandle(0xffff, 1);
  ASSERT_TRUE(fake_->addFilter("eth0", theirs));
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 0, 20000)));
  EXPECT_NE(fake_->ingressRedirectForTest("eth0", toVm(kMacA)), 0);
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_TRUE(hasIngressQdisc("eth0"));
  const auto list = fake_->listFilters("eth0", kIngressHandle).value();
  bool theirsLeft = false;
  for (const U32Filter& f : list) {
    EXPECT_EQ(f.redirectIfindex, 0) << "our redirect was left behind";
    theirsLeft = theirsLeft || f == theirs;
  }
  EXPECT_TRUE(theirsLeft);
  EXPECT_FALSE(linkExists("ifb-eth0"));
}

TEST_F(HtbBackendTest, ClassOutsideTheRootIsMadeAgain) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  // What sch_htb does with a class whose parent is missing: it becomes a top-level class,
  // outside the root's cap.
  ASSERT_TRUE(fake_->deleteClass("eth0", classA));
  ASSERT_TRUE(
      fake_->addClass("eth0", htbClass(handleMinor(classA), 0x77, Kbps(60000), Kbps(100000))));
  AppliedQos seen = backend_->observe().value().front();
  EXPECT_EQ(seen.egress->enforcement.reason(),
            "class " + formatHandle(classA) + " is not under 1:1 on eth0");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  EXPECT_EQ(findClass("eth0", classA)->parent, makeHandle(1, 1));
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());
}

TEST_F(HtbBackendTest, KernelFailureIsAnErrorAndTheRetryCompletesWithoutDuplicates) {
  fake_->failNextForTest("addClass", makeError(ErrorCode::kKernel, "add class 1:1 on eth0", EIO));
  Result<AppliedQos> failed = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sysErrno(), EIO);
  EXPECT_THAT(failed.error().message(), HasSubstr(kPortA));
  EXPECT_THAT(failed.error().message(), HasSubstr("add class 1:1 on eth0"));

  Result<AppliedQos> retried = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_TRUE(retried) << retried.error();
  EXPECT_TRUE(retried->overall().isEnforced());
  EXPECT_EQ(portFilterCount("eth0"), 1u);
  EXPECT_EQ(classes("eth0").size(), 3u);
}

TEST_F(HtbBackendTest, CrashBetweenFilterAndClassLeavesANamedPortThatCanBeRemoved) {
  // The port's class add fails after its filter went in: what a crash at that point leaves.
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 1000, 0)));
  fake_->failNextForTest("addClass", makeError(ErrorCode::kKernel, "injected", EIO));
  ASSERT_FALSE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  restart();
  std::vector<AppliedQos> observed = backend_->observe().value();
  ASSERT_THAT(observed, SizeIs(2));
  const AppliedQos& a = observed[0].port.portId == kPortA ? observed[0] : observed[1];
  EXPECT_TRUE(a.egress->enforcement.isFailed());
  EXPECT_THAT(a.egress->enforcement.reason(), HasSubstr("missing on eth0"));
  // The agent no longer wants A: removing it leaves nothing behind.
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(portFilterCount("eth0"), 1u);
  EXPECT_EQ(classes("eth0").size(), 3u);
}

TEST_F(HtbBackendTest, StrayClassesAreRemoved) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  HtbClass stray = htbClass(0x200, kRootClassMinor, Kbps(1000), Kbps(100000));
  ASSERT_TRUE(fake_->addClass("eth0", stray));
  ASSERT_TRUE(backend_->observe());
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 1000, 0)));
  EXPECT_EQ(findClass("eth0", stray.handle), nullptr);
}

TEST_F(HtbBackendTest, MacChangeMovesTheFilter) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacB, 60000, 20000)));
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacA)), 0u);
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacB)), classA);
  EXPECT_EQ(fake_->classifyForTest("ifb-eth0", toVm(kMacB)), classA);
  EXPECT_EQ(portFilterCount("eth0"), 1u);
  // Same bucket (same last byte), different MAC: the node is deleted and added again.
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacC, 60000, 20000)));
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacC)), classA);
  EXPECT_EQ(fake_->classifyForTest("eth0", fromVm(kMacB)), 0u);
  EXPECT_EQ(backend_->observe().value().front().port.mac, kMacC);
}

TEST_F(HtbBackendTest, PortsInTheSameBucketAreToldApart) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  ASSERT_TRUE(backend_->program(spec(kPortC, kMacC, 5000, 0)));
  const uint32_t a = fake_->classifyForTest("eth0", fromVm(kMacA));
  const uint32_t c = fake_->classifyForTest("eth0", fromVm(kMacC));
  EXPECT_NE(a, 0u);
  EXPECT_NE(c, 0u);
  EXPECT_NE(a, c);
}

TEST_F(HtbBackendTest, ManyPortsGetDistinctClassesAndEachIsClassified) {
  std::set<uint32_t> seen;
  for (int i = 0; i < 300; ++i) {
    char port[40];
    char mac[18];
    std::snprintf(port, sizeof(port), "00000000-0000-4000-8000-%012d", i);
    std::snprintf(mac, sizeof(mac), "fa:16:3e:00:%02x:%02x", i >> 8, i & 0xff);
    ASSERT_TRUE(backend_->program(spec(port, mac, 100, 0)));
    uint32_t cls = fake_->classifyForTest("eth0", fromVm(mac));
    ASSERT_NE(cls, 0u) << mac;
    EXPECT_TRUE(seen.insert(cls).second) << "class reused: " << formatHandle(cls);
  }
  EXPECT_EQ(portFilterCount("eth0"), 300u);
}

TEST_F(HtbBackendTest, PortMovingToAnotherUplinkLeavesTheOldOne) {
  fake_->addDeviceForTest("eth1");
  config_.devices.push_back(HtbDeviceConfig{"eth1", Kbps(1000000), Kbps(0)});
  restart();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  Result<AppliedQos> moved = backend_->program(spec(kPortA, kMacA, 60000, 20000, "eth1"));
  ASSERT_TRUE(moved);
  EXPECT_FALSE(hasHtb("eth0"));
  EXPECT_FALSE(linkExists("ifb-eth0"));
  EXPECT_TRUE(hasHtb("eth1"));
  EXPECT_EQ(moved->port.device, "eth1");
  // eth1 has no ingress total: the ingress minimum is counted by Placement only.
  ASSERT_TRUE(moved->ingress);
  EXPECT_EQ(moved->ingress->enforcement.state(), Enforcement::State::kPlacementOnly);
  EXPECT_EQ(moved->overall().toString(), "placement-only (no ingress total configured for eth1)");
  EXPECT_FALSE(linkExists("ifb-eth1"));
}

TEST_F(HtbBackendTest, MissingUplinkIsNotFoundUntilItAppears) {
  fake_->removeDeviceForTest("eth0");
  Result<AppliedQos> missing = backend_->program(spec(kPortA, kMacA, 60000, 20000));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("device eth0 not found"));
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
  fake_->addDeviceForTest("eth0");
  EXPECT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
}

TEST_F(HtbBackendTest, ForeignDeviceNamedLikeTheIfbIsAConflict) {
  fake_->addDeviceForTest("ifb-eth0", 1000, "veth");
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 0, 20000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(applied.error().message(), HasSubstr("ifb-eth0 exists and is a veth device"));
}

TEST_F(HtbBackendTest, InvalidSpecsAreRejectedBeforeTouchingTheKernel) {
  QosSpec maxBelowMin = spec(kPortA, kMacA, 60000, 0);
  maxBelowMin.maxEgress = Kbps(1000);
  const QosSpec bad[] = {spec("port-a", kMacA, 1000, 0), spec(kPortA, "fa:16:3e", 1000, 0),
                         spec(kPortA, kMacA, 1000, 0, "eth9"), maxBelowMin};
  for (const QosSpec& s : bad) {
    Result<AppliedQos> r = backend_->program(s);
    ASSERT_FALSE(r) << describe(s);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << r.error();
  }
  EXPECT_EQ(fake_->mutationsForTest(), 0);
}

// A minimum above the device's total (the total lowered below what is allocated): the class is
// held at the total, so the port keeps its priority; the agent reports the over-commitment.
TEST_F(HtbBackendTest, AMinimumAboveTheTotalIsHeldAtTheTotal) {
  Result<AppliedQos> r = backend_->program(spec(kPortA, kMacA, 200000, 0));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(r->egress);
  EXPECT_EQ(r->egress->minKbps, Kbps(100000));
  EXPECT_TRUE(r->egress->enforcement.isEnforced());
}

TEST_F(HtbBackendTest, ZeroMinimumsRemoveThePort) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  Result<AppliedQos> none = backend_->program(spec(kPortA, kMacA, 0, 0));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->egress, std::nullopt);
  EXPECT_EQ(none->ingress, std::nullopt);
  EXPECT_FALSE(hasHtb("eth0"));
}

TEST_F(HtbBackendTest, CountersPerPortClassAndDefaultClass) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  fake_->setClassStatsForTest("eth0", classA, TcStats{1000, 10, 1, 2});
  fake_->setClassStatsForTest("ifb-eth0", classA, TcStats{3000, 30, 3, 4});
  fake_->setClassStatsForTest("eth0", makeHandle(1, 2), TcStats{5, 1, 0, 0});
  std::vector<QosCounters> counters = backend_->counters().value();
  ASSERT_THAT(counters, SizeIs(4));
  const std::string object = "classid " + formatHandle(classA);
  EXPECT_THAT(counters, ::testing::Contains(QosCounters{kPortA, Direction::kEgress, "eth0", object,
                                                        1000, 10, 1, 2}));
  EXPECT_THAT(counters, ::testing::Contains(QosCounters{kPortA, Direction::kIngress, "ifb-eth0",
                                                        object, 3000, 30, 3, 4}));
  EXPECT_THAT(counters, ::testing::Contains(QosCounters{"", Direction::kEgress, "eth0",
                                                        "classid 1:2", 5, 1, 0, 0}));
}

TEST_F(HtbBackendTest, EveryKernelChangeIsLoggedOnceAsKeyValue) {
  std::ostringstream out;
  LogOptions options;
  options.pattern = "%n %l %v";
  options.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  initLogging(options);
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const std::string first = out.str();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 20000)));
  const std::string second = out.str().substr(first.size());
  initLogging(LogOptions{});

  const uint32_t classA = fake_->classifyForTest("eth0", fromVm(kMacA));
  EXPECT_THAT(first, HasSubstr("tc info op=add-class port=" + std::string(kPortA) +
                               " direction=egress dev=eth0 classid=" + formatHandle(classA) +
                               " min_kbps=60000 max_kbps=100000"));
  EXPECT_THAT(first, HasSubstr("op=add-filter port=" + std::string(kPortA) +
                               " direction=ingress dev=ifb-eth0"));
  EXPECT_THAT(first, HasSubstr("op=add-link dev=ifb-eth0 kind=ifb uplink=eth0"));
  EXPECT_THAT(first, HasSubstr("op=add-qdisc dev=eth0 direction=egress handle=1: kind=htb"));
  EXPECT_EQ(second, "");  // nothing changed, nothing logged
  // One line per change: as many lines as the fake counted mutations.
  size_t lines = std::count(first.begin(), first.end(), '\n');
  EXPECT_EQ(static_cast<int>(lines), fake_->mutationsForTest());
}

// An uplink fed by ovs-vswitchd's one sending socket (OVS userspace datapath): every egress
// class gets a pfifo leaf sized to that socket's send buffer (htb_layout.h); the IFB does not.
class SharedSenderTest : public HtbBackendTest {
 protected:
  SharedSenderTest() {
    config_.devices = {HtbDeviceConfig{"eth0", Kbps(100000), Kbps(50000), "", 212992}};
    restart();
  }
  std::map<uint32_t, uint32_t> leaves(const std::string& dev) {  // class minor -> packets
    std::map<uint32_t, uint32_t> out;
    const std::vector<Qdisc> qdiscs = fake_->listQdiscs(dev).value();
    for (const Qdisc& q : qdiscs) {
      if (q.kind == "pfifo") out[handleMinor(q.parent)] = q.fifoLimitPackets;
    }
    return out;
  }
};

TEST_F(SharedSenderTest, EveryEgressClassGetsALeafSizedToTheSendBuffer) {
  Result<AppliedQos> a = backend_->program(spec(kPortA, kMacA, 60000, 10000));
  ASSERT_TRUE(a) << a.error();
  EXPECT_TRUE(a->egress->enforcement.isEnforced()) << a->egress->enforcement.toString();
  const uint32_t classA = handleMinor(fake_->classifyForTest("eth0", fromVm(kMacA)));
  // 92 frames fit in 212992 bytes: the default class 92/8, A 92/2 * 60 %.
  EXPECT_EQ(leaves("eth0"), (std::map<uint32_t, uint32_t>{{kDefaultClassMinor, 11}, {classA, 27}}));
  EXPECT_THAT(leaves("ifb-eth0"), IsEmpty());  // the kernel feeds the IFB, not the socket

  // A smaller minimum: a smaller leaf, replaced in place; another port: its own.
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 10000, 10000)));
  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 1000, 0)));
  const uint32_t classB = handleMinor(fake_->classifyForTest("eth0", fromVm(kMacB)));
  EXPECT_EQ(leaves("eth0"), (std::map<uint32_t, uint32_t>{
                                {kDefaultClassMinor, 11}, {classA, 4}, {classB, kMinLeafPackets}}));
  // Its class goes, and its leaf with it.
  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_EQ(leaves("eth0").count(classB), 0u);
}

TEST_F(SharedSenderTest, AMissingLeafIsNotEnforcedAndIsRepaired) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 0)));
  const uint32_t classA = handleMinor(fake_->classifyForTest("eth0", fromVm(kMacA)));
  ASSERT_TRUE(fake_->deleteQdisc("eth0", leafQdisc(classA, 27)));  // an operator's hand
  std::vector<AppliedQos> observed = backend_->observe().value();
  ASSERT_THAT(observed, SizeIs(1));
  EXPECT_TRUE(observed[0].egress->enforcement.isFailed());
  EXPECT_THAT(observed[0].egress->enforcement.toString(), HasSubstr("pfifo leaf of 27 packets"));
  Result<AppliedQos> again = backend_->program(spec(kPortA, kMacA, 60000, 0));
  ASSERT_TRUE(again) << again.error();
  EXPECT_TRUE(again->egress->enforcement.isEnforced()) << again->egress->enforcement.toString();
  EXPECT_EQ(leaves("eth0").at(classA), 27u);
  // The default class's leaf counts too: without it the unguaranteed backlog fills the buffer.
  ASSERT_TRUE(fake_->deleteQdisc("eth0", leafQdisc(kDefaultClassMinor, 11)));
  observed = backend_->observe().value();
  EXPECT_THAT(observed[0].egress->enforcement.toString(), HasSubstr("under class 1:2"));
}

TEST_F(HtbBackendTest, SendersWithTheirOwnSocketsKeepHtbsDefaultLeaves) {
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 10000)));
  for (const std::string dev : {"eth0", "ifb-eth0"}) {
    const std::vector<Qdisc> qdiscs = fake_->listQdiscs(dev).value();
    for (const Qdisc& q : qdiscs) EXPECT_NE(q.kind, "pfifo") << dev;
  }
}

TEST(HtbConfig, ValidationListsEveryProblem) {
  HtbBackendConfig config;
  config.devices = {HtbDeviceConfig{"eth0", Kbps(0), Kbps(0)},
                    HtbDeviceConfig{"eth0", Kbps(1), Kbps(0)},
                    HtbDeviceConfig{"a-very-long-device-name", Kbps(1), Kbps(0)}};
  config.defaultClassRate = Kbps(0);
  Status status = validateHtbConfig(config);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("eth0: egress total is 0"));
  EXPECT_THAT(status.error().message(), HasSubstr("device eth0 listed twice"));
  EXPECT_THAT(status.error().message(), HasSubstr("must have 1 to 15 characters"));
  EXPECT_THAT(status.error().message(), HasSubstr("default class rate is 0"));
  config.devices = {HtbDeviceConfig{"eth0", Kbps(100000), Kbps(0)}};
  config.defaultClassRate = Kbps(1000);
  EXPECT_TRUE(validateHtbConfig(config));
}

TEST(Enforcement, StatusTextAndOverall) {
  AppliedQos a;
  EXPECT_EQ(a.overall().toString(), "placement-only (nothing to enforce)");
  a.egress = AppliedDirection{Kbps(1), std::nullopt, Enforcement::enforced(), ""};
  EXPECT_EQ(a.overall().toString(), "enforced");
  a.ingress = AppliedDirection{Kbps(0), std::nullopt, Enforcement::placementOnly("VF ingress"), ""};
  EXPECT_EQ(a.overall().toString(), "placement-only (VF ingress)");
  a.egress->enforcement = Enforcement::failed("class 1:12 missing on eth0");
  EXPECT_EQ(a.overall().toString(), "failed (class 1:12 missing on eth0)");
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
