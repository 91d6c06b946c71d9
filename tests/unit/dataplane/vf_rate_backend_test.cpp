// VfRateBackend through its real logic, against FakeVfApi: every test programs through the backend
// and reads back through the same VfApi the backend uses, as in FBOSS's QueueManagerTest.
#include "dataplane/sriov/vf_rate_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cerrno>

#include "core/logging.h"
#include "dataplane/sriov/testing/fake_vf_api.h"

namespace bwfloor::dataplane::sriov {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacA = "fa:16:3e:00:00:0a";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";

QosSpec byIndex(const std::string& port, int vf, uint64_t minEgressKbps,
                const std::string& pf = "pf0") {
  QosSpec s;
  s.port = PortIdentity{port, "", pf, vf};
  s.minEgress = Kbps(minEgressKbps);
  return s;
}

QosSpec byMac(const std::string& port, const std::string& mac, uint64_t minEgressKbps) {
  QosSpec s;
  s.port = PortIdentity{port, mac, "pf0", std::nullopt};
  s.minEgress = Kbps(minEgressKbps);
  return s;
}

class VfRateBackendTest : public ::testing::Test {
 protected:
  VfRateBackendTest() {
    LogOptions quiet;  // every kernel change is logged at info; not on the test's terminal
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    fake_->addPfForTest("pf0", 4);
    fake_->setVfMacForTest("pf0", 0, kMacA);
    fake_->setVfMacForTest("pf0", 1, kMacB);
    config_.devices = {"pf0"};
    backend_ = std::make_unique<VfRateBackend>(config_, fake_);
  }
  ~VfRateBackendTest() override { initLogging(LogOptions{}); }

  // A new backend over the same fake NIC: what the agent is after a restart.
  void restart() { backend_ = std::make_unique<VfRateBackend>(config_, fake_); }
  const VfState& vf(uint32_t index) { return fake_->vfForTest("pf0", index); }

  std::shared_ptr<FakeVfApi> fake_ = std::make_shared<FakeVfApi>();
  VfRateBackendConfig config_;
  std::unique_ptr<VfRateBackend> backend_;
};

TEST_F(VfRateBackendTest, ProgramsMinRoundedUpAndKeepsTheVfsMax) {
  fake_->setVfRateForTest("pf0", 1, 0, 1000);
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 1, 150500));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(vf(1).minTxRateMbps, 151u);  // 150.5 Mbit/s rounds up: never a weaker guarantee
  EXPECT_EQ(vf(1).maxTxRateMbps, 1000u);
  EXPECT_EQ(fake_->mutationsForTest(), 1);

  EXPECT_EQ(applied->backend, "sriov");
  EXPECT_EQ(applied->port.portId, kPortA);
  EXPECT_EQ(applied->port.device, "pf0");
  EXPECT_EQ(applied->port.vfIndex, 1);
  EXPECT_EQ(applied->port.mac, kMacB);
  ASSERT_TRUE(applied->egress.has_value());
  EXPECT_EQ(applied->egress->minKbps, Kbps(151000));  // what the NIC holds, not the spec
  EXPECT_EQ(applied->egress->maxKbps, Kbps(1000000));
  EXPECT_EQ(applied->egress->enforcement, Enforcement::enforced());
  EXPECT_EQ(applied->egress->location, "dev=pf0 vf=1");
  EXPECT_FALSE(applied->ingress.has_value());
  EXPECT_EQ(applied->overall(), Enforcement::enforced());
}

TEST_F(VfRateBackendTest, RoundsEveryKbpsUpToWholeMbps) {
  const std::pair<uint64_t, uint32_t> cases[] = {
      {1, 1}, {999, 1}, {1000, 1}, {1001, 2}, {60000, 60}, {999999, 1000}, {65535000, 65535}};
  for (const auto& [kbps, mbps] : cases) {
    ASSERT_TRUE(backend_->program(byIndex(kPortA, 2, kbps))) << kbps;
    EXPECT_EQ(vf(2).minTxRateMbps, mbps) << kbps << " kbit/s";
  }
}

TEST_F(VfRateBackendTest, FindsTheVfByMacInAnyCase) {
  ASSERT_TRUE(backend_->program(byMac(kPortB, "FA:16:3E:00:00:0B", 20000)));
  EXPECT_EQ(vf(1).minTxRateMbps, 20u);
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
}

TEST_F(VfRateBackendTest, ProgrammingTheSameSpecTwiceWritesOnce) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  Result<AppliedQos> again = backend_->program(byIndex(kPortA, 0, 100000));
  ASSERT_TRUE(again);
  EXPECT_EQ(fake_->mutationsForTest(), 1);
  EXPECT_EQ(again->egress->minKbps, Kbps(100000));
  // A spec that rounds to the same Mbit/s is the same on the NIC.
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 99001)));
  EXPECT_EQ(fake_->mutationsForTest(), 1);
}

TEST_F(VfRateBackendTest, ChangeRewritesTheMinAndKeepsTheMax) {
  fake_->setVfRateForTest("pf0", 0, 0, 800);
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 250000)));
  EXPECT_EQ(vf(0).minTxRateMbps, 250u);
  EXPECT_EQ(vf(0).maxTxRateMbps, 800u);
  EXPECT_EQ(fake_->mutationsForTest(), 2);
}

TEST_F(VfRateBackendTest, AMaxInTheSpecSetsTheVfsMaxInTheSameWrite) {
  fake_->setVfRateForTest("pf0", 0, 0, 100);  // below the new min: must change with it, at once
  QosSpec s = byIndex(kPortA, 0, 200000);
  s.maxEgress = Kbps(300500);
  Result<AppliedQos> applied = backend_->program(s);
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(vf(0).minTxRateMbps, 200u);
  EXPECT_EQ(vf(0).maxTxRateMbps, 301u);  // rounded up too, so min <= max survives rounding
  EXPECT_EQ(fake_->mutationsForTest(), 1);
  EXPECT_EQ(applied->egress->maxKbps, Kbps(301000));
}

TEST_F(VfRateBackendTest, AMinAboveTheVfsCurrentMaxIsRefusedBeforeTheKernelSeesIt) {
  fake_->setVfRateForTest("pf0", 0, 0, 100);
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 0, 200000));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(applied.error().message(), HasSubstr("VF 0 of pf0 has max_tx_rate 100 Mbit/s"));
  EXPECT_THAT(applied.error().message(), HasSubstr("min_tx_rate 200"));
  EXPECT_EQ(fake_->mutationsForTest(), 0);
  EXPECT_EQ(vf(0).maxTxRateMbps, 100u);
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
}

TEST_F(VfRateBackendTest, ASpecWithMaxBelowMinIsInvalid) {
  QosSpec s = byIndex(kPortA, 0, 200000);
  s.maxEgress = Kbps(100000);
  Result<AppliedQos> applied = backend_->program(s);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fake_->mutationsForTest(), 0);
}

TEST_F(VfRateBackendTest, MaxZeroMeansNoCapSoAnyMinFits) {
  QosSpec s = byIndex(kPortA, 0, 500000);
  s.maxEgress = Kbps(0);  // Neutron: max 0 = unlimited; keeps the VF's (none)
  ASSERT_TRUE(backend_->program(s));
  EXPECT_EQ(vf(0).minTxRateMbps, 500u);
  EXPECT_EQ(vf(0).maxTxRateMbps, 0u);
}

TEST_F(VfRateBackendTest, RemoveClearsTheMinKeepsTheMaxAndIsIdempotent) {
  fake_->setVfRateForTest("pf0", 0, 0, 900);
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
  EXPECT_EQ(vf(0).maxTxRateMbps, 900u);
  EXPECT_EQ(fake_->mutationsForTest(), 2);
  EXPECT_TRUE(backend_->remove(kPortA));
  EXPECT_TRUE(backend_->remove("never-programmed"));
  EXPECT_EQ(fake_->mutationsForTest(), 2);
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(VfRateBackendTest, DriverRefusalIsAnErrorNamingDeviceVfAndErrno) {
  fake_->addPfForTest("pf1", 2, /*rateSupported=*/false);
  config_.devices.push_back("pf1");
  restart();
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 1, 100000, "pf1"));
  ASSERT_FALSE(applied);
  const Error& error = applied.error();
  EXPECT_EQ(error.code(), ErrorCode::kUnsupported);
  EXPECT_EQ(error.sysErrno(), EOPNOTSUPP);
  EXPECT_THAT(error.message(), HasSubstr(kPortA));
  EXPECT_THAT(error.message(), HasSubstr("VF 1 of pf1"));
  EXPECT_THAT(error.toString(), HasSubstr("Operation not supported"));
  EXPECT_THAT(Enforcement::failed(error.toString()).toString(), HasSubstr("failed (port "));
  EXPECT_EQ(fake_->vfForTest("pf1", 1).minTxRateMbps, 0u);
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(VfRateBackendTest, KernelErrorKeepsItsErrnoAndTheNextProgramRetries) {
  fake_->failNextForTest("setVfRate", vfKernelError("RTM_SETLINK pf0 vf 0", EBUSY));
  Result<AppliedQos> failed = backend_->program(byIndex(kPortA, 0, 100000));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sysErrno(), EBUSY);
  EXPECT_THAT(failed.error().toString(), HasSubstr("Device or resource busy"));
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  EXPECT_EQ(vf(0).minTxRateMbps, 100u);
}

TEST_F(VfRateBackendTest, AMissingVfOrPfIsNotFound) {
  Result<AppliedQos> noIndex = backend_->program(byIndex(kPortA, 9, 1000));
  ASSERT_FALSE(noIndex);
  EXPECT_EQ(noIndex.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(noIndex.error().message(), HasSubstr("pf0 has no VF 9 (it reports 4 VFs)"));

  Result<AppliedQos> noMac = backend_->program(byMac(kPortA, "fa:16:3e:99:99:99", 1000));
  ASSERT_FALSE(noMac);
  EXPECT_EQ(noMac.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(noMac.error().message(), HasSubstr("no VF of pf0 has MAC fa:16:3e:99:99:99"));

  fake_->removePfForTest("pf0");
  Result<AppliedQos> noPf = backend_->program(byIndex(kPortA, 0, 1000));
  ASSERT_FALSE(noPf);
  EXPECT_EQ(noPf.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(noPf.error().sysErrno(), ENODEV);
  EXPECT_THAT(backend_->observe().value(), IsEmpty());  // a missing PF holds nothing
  EXPECT_EQ(fake_->mutationsForTest(), 0);
}

TEST_F(VfRateBackendTest, SpecsThatCannotNameAVfAreInvalid) {
  QosSpec nothing = byMac(kPortA, "", 1000);
  EXPECT_EQ(backend_->program(nothing).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->program(byIndex(kPortA, -1, 1000)).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->program(byIndex(kPortA, 0, 1000, "eth9")).error().code(),
            ErrorCode::kInvalidArgument);
  fake_->setVfMacForTest("pf0", 2, kMacA);  // two VFs with one MAC: which one?
  Result<AppliedQos> ambiguous = backend_->program(byMac(kPortA, kMacA, 1000));
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(fake_->mutationsForTest(), 0);
}

TEST_F(VfRateBackendTest, IngressMinimumIsPlacementOnly) {
  QosSpec s = byIndex(kPortA, 0, 100000);
  s.minIngress = Kbps(50000);
  Result<AppliedQos> applied = backend_->program(s);
  ASSERT_TRUE(applied);
  ASSERT_TRUE(applied->ingress.has_value());
  EXPECT_EQ(applied->ingress->enforcement,
            Enforcement::placementOnly("VF rate limiting has no ingress minimum"));
  EXPECT_EQ(applied->egress->enforcement, Enforcement::enforced());
  EXPECT_EQ(applied->overall().toString(),
            "placement-only (VF rate limiting has no ingress minimum)");
}

TEST_F(VfRateBackendTest, ObserveTagsWhatItProgrammedAndAdoptsAfterARestart) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  ASSERT_TRUE(backend_->program(byMac(kPortB, kMacB, 200000)));
  std::vector<AppliedQos> seen = backend_->observe().value();
  ASSERT_THAT(seen, SizeIs(2));
  EXPECT_EQ(seen[0].port.portId, kPortA);
  EXPECT_EQ(seen[1].port.portId, kPortB);
  EXPECT_EQ(seen[1].egress->minKbps, Kbps(200000));

  restart();  // a VF has no tag: the new instance sees untagged VFs with their identity
  seen = backend_->observe().value();
  ASSERT_THAT(seen, SizeIs(2));
  EXPECT_EQ(seen[0].port.portId, "");
  EXPECT_EQ(seen[0].port.device, "pf0");
  EXPECT_EQ(seen[0].port.vfIndex, 0);
  EXPECT_EQ(seen[0].port.mac, kMacA);
  EXPECT_EQ(seen[0].egress->minKbps, Kbps(100000));
  EXPECT_EQ(seen[1].port.mac, kMacB);

  // The agent adopts by (device, vfIndex) / (device, mac): program() writes nothing...
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  ASSERT_TRUE(backend_->program(byMac(kPortB, kMacB, 200000)));
  EXPECT_EQ(fake_->mutationsForTest(), 2);
  seen = backend_->observe().value();
  EXPECT_EQ(seen[0].port.portId, kPortA);  // ... and the backend knows the port ids again
  EXPECT_EQ(seen[1].port.portId, kPortB);
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
}

TEST_F(VfRateBackendTest, AStaleUntaggedVfIsClearedByProgrammingNoMinimum) {
  fake_->setVfRateForTest("pf0", 3, 70, 500);  // left by a crashed agent, or by hand
  std::vector<AppliedQos> seen = backend_->observe().value();
  ASSERT_THAT(seen, SizeIs(1));
  QosSpec clear;
  clear.port = seen[0].port;  // untagged: portId empty, device + vfIndex
  Result<AppliedQos> applied = backend_->program(clear);
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_FALSE(applied->egress.has_value());
  EXPECT_EQ(vf(3).minTxRateMbps, 0u);
  EXPECT_EQ(vf(3).maxTxRateMbps, 500u);
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(VfRateBackendTest, APortThatMovesToAnotherVfLeavesTheOldOneCleared) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 2, 100000)));
  EXPECT_EQ(vf(0).minTxRateMbps, 0u);
  EXPECT_EQ(vf(2).minTxRateMbps, 100u);
  ASSERT_THAT(backend_->observe().value(), SizeIs(1));
}

TEST_F(VfRateBackendTest, RemoveLeavesAVfAloneOnceItWasHandedToAnotherMac) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 100000)));
  fake_->setVfMacForTest("pf0", 0, "fa:16:3e:00:00:99");  // Nova gave VF 0 to another VM
  EXPECT_EQ(backend_->observe().value()[0].port.portId, "");
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(vf(0).minTxRateMbps, 100u);
  EXPECT_EQ(fake_->mutationsForTest(), 1);
}

TEST_F(VfRateBackendTest, DriftIsRepairedByTheNextProgram) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 100000)));
  fake_->setVfRateForTest("pf0", 1, 0, 0);  // `ip link set pf0 vf 1 min_tx_rate 0`
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 100000)));
  EXPECT_EQ(vf(1).minTxRateMbps, 100u);
}

TEST_F(VfRateBackendTest, AWriteThatDoesNotReadBackIsAFailedEnforcement) {
  fake_->setRateBitsForTest("pf0", 16);  // netdevsim keeps rates in u16
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 0, 70000000));  // 70000 Mbit/s
  ASSERT_TRUE(applied) << applied.error();
  ASSERT_TRUE(applied->egress.has_value());
  EXPECT_TRUE(applied->egress->enforcement.isFailed());
  EXPECT_THAT(applied->egress->enforcement.reason(),
              HasSubstr("VF 0 of pf0 reads back min_tx_rate 4464"));
  EXPECT_EQ(applied->egress->minKbps, Kbps(4464000));
}

TEST_F(VfRateBackendTest, CountersReportVfTxStatsOfProgrammedVfs) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 100000)));
  fake_->setVfStatsForTest("pf0", 1, VfStats{10, 20, 1000, 2000, 1, 2});
  std::vector<QosCounters> counters = backend_->counters().value();
  ASSERT_THAT(counters, SizeIs(1));
  EXPECT_EQ(counters[0], (QosCounters{kPortA, Direction::kEgress, "pf0", "vf 1", 2000, 20, 2, 0}));

  fake_->setVfStatsForTest("pf0", 1, std::nullopt);  // a kernel without IFLA_VF_STATS
  Result<std::vector<QosCounters>> none = backend_->counters();
  ASSERT_TRUE(none);
  EXPECT_THAT(*none, IsEmpty());
}

TEST_F(VfRateBackendTest, ErrorsReadingTheTableArePassedOn) {
  fake_->failNextForTest("listVfs", vfKernelError("RTM_GETLINK pf0", EIO));
  Result<std::vector<AppliedQos>> seen = backend_->observe();
  ASSERT_FALSE(seen);
  EXPECT_EQ(seen.error().sysErrno(), EIO);
  EXPECT_THAT(seen.error().message(), HasSubstr("pf0"));
}

TEST(VfRateBackendConfigTest, ReportsEveryProblem) {
  EXPECT_TRUE(validateVfRateConfig(VfRateBackendConfig{{"pf0", "pf1"}}));
  Status bad = validateVfRateConfig(VfRateBackendConfig{{"", "pf0", "pf0", "a-very-long-name0"}});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("\"\" must have 1 to 15"));
  EXPECT_THAT(bad.error().message(), HasSubstr("pf0 listed twice"));
  EXPECT_THAT(bad.error().message(), HasSubstr("a-very-long-name0"));
}

TEST(FakeVfApiTest, RefusesWhatTheKernelRefuses) {
  FakeVfApi fake;
  fake.addPfForTest("pf0", 2);
  EXPECT_EQ(fake.setVfRate("pf0", 0, 200, 100).error().sysErrno(), EINVAL);  // min > max
  EXPECT_TRUE(fake.setVfRate("pf0", 0, 200, 0));                             // max 0: no cap
  EXPECT_EQ(fake.setVfRate("pf0", 2, 1, 0).error().sysErrno(), EINVAL);      // out of range
  EXPECT_EQ(fake.setVfRate("pf9", 0, 1, 0).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(fake.listVfs("pf9", VfRead::kConfig).error().sysErrno(), ENODEV);
  EXPECT_EQ(fake.mutationsForTest(), 1);
}

}  // namespace
}  // namespace bwfloor::dataplane::sriov
