// VfRateBackend + MnlVfApi on a real SR-IOV driver: netdevsim VFs in the vf-vm rig
// (../shared/rig/vf-vm). CTest runs it there (vm.dataplane_sriov_netdevsim.vfs4, .vfs256); by hand:
//   ../shared/rig/vf-vm/vf-vm.sh --vfs 4 -- build/tests/dataplane_sriov_netdevsim_test
// It fails, never skips, outside the rig. netdevsim stores the rates (as u16) and reports them in
// IFLA_VFINFO_LIST, so the read-back is checked; it shapes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "core/logging.h"
#include "dataplane/netlink/netlink_link_source.h"
#include "dataplane/sriov/mnl_vf_api.h"
#include "dataplane/sriov/vf_rate_backend.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::dataplane::sriov {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";

// Forwards to the real VfApi and counts the writes.
class CountingVfApi : public VfApi {
 public:
  explicit CountingVfApi(std::unique_ptr<VfApi> inner) : inner_(std::move(inner)) {}
  int writes() const { return writes_; }
  Result<std::vector<VfState>> listVfs(const std::string& pf, VfRead read) override {
    return inner_->listVfs(pf, read);
  }
  Status setVfRate(const std::string& pf, uint32_t vf, uint32_t min, uint32_t max) override {
    ++writes_;
    return inner_->setVfRate(pf, vf, min, max);
  }

 private:
  std::unique_ptr<VfApi> inner_;
  int writes_ = 0;
};

class VfNetdevsimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* pf = std::getenv("BWFLOOR_VF_PF");
    const char* count = std::getenv("BWFLOOR_VF_COUNT");
    ASSERT_TRUE(pf != nullptr && count != nullptr)
        << "run under ../shared/rig/vf-vm/vf-vm.sh (no BWFLOOR_VF_PF)";
    pf_ = pf;
    vfCount_ = static_cast<uint32_t>(std::atoi(count));
    ASSERT_GE(vfCount_, 3u);
    LogOptions quiet;
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    Result<std::unique_ptr<MnlVfApi>> api = MnlVfApi::open();
    ASSERT_TRUE(api) << api.error();
    api_ = std::make_shared<CountingVfApi>(std::move(api).value());
    backend_ = std::make_unique<VfRateBackend>(VfRateBackendConfig{{pf_}}, api_);
  }

  void TearDown() override {  // cases share the PF: reset what they set
    for (uint32_t vf = 0; vf < vfCount_; ++vf) EXPECT_TRUE(api_->setVfRate(pf_, vf, 0, 0));
    initLogging(LogOptions{});
  }

  VfState vf(uint32_t index) {
    Result<std::vector<VfState>> vfs = api_->listVfs(pf_, VfRead::kConfig);
    EXPECT_TRUE(vfs) << vfs.error();
    for (const VfState& v : vfs.value_or(std::vector<VfState>{})) {
      if (v.index == index) return v;
    }
    ADD_FAILURE() << "no VF " << index;
    return {};
  }
  // What an operator sees: `ip link show PF`.
  std::string ipLink() {
    test::CommandResult r = test::run({"ip", "link", "show", pf_});
    EXPECT_TRUE(r.ok()) << r.output;
    return r.output;
  }
  QosSpec byIndex(const std::string& port, int index, uint64_t minKbps) {
    QosSpec s;
    s.port = PortIdentity{port, "", pf_, index};
    s.minEgress = Kbps(minKbps);
    return s;
  }

  std::string pf_;
  uint32_t vfCount_ = 0;
  std::shared_ptr<CountingVfApi> api_;
  std::unique_ptr<VfRateBackend> backend_;
};

TEST_F(VfNetdevsimTest, ListsEveryVf) {
  for (VfRead read : {VfRead::kConfig, VfRead::kWithStats}) {
    Result<std::vector<VfState>> vfs = api_->listVfs(pf_, read);
    ASSERT_TRUE(vfs) << vfs.error();
    ASSERT_THAT(*vfs, SizeIs(vfCount_));
    for (uint32_t i = 0; i < vfCount_; ++i) EXPECT_EQ((*vfs)[i].index, i);
    if (read == VfRead::kConfig) {
      EXPECT_FALSE((*vfs)[0].stats.has_value());
    } else if (vfCount_ <= 200) {  // with statistics a VF takes ~296 bytes of the 64 kB list
      EXPECT_TRUE((*vfs)[0].stats.has_value());
    }
  }
}

// The agent's discovery (NetlinkLinkSource, libnl-route-3) sees the PF with every VF, and what
// was set on a VF through the other API (MAC by `ip`, rate by MnlVfApi).
TEST_F(VfNetdevsimTest, DiscoverySeesThePfAndItsVfs) {
  const test::CommandResult mac =
      test::run({"ip", "link", "set", pf_, "vf", "1", "mac", "02:00:00:00:20:01"});
  ASSERT_TRUE(mac.ok()) << mac.output;
  ASSERT_TRUE(api_->setVfRate(pf_, 1, 7, 70));
  NetlinkLinkSource links;
  Result<std::vector<LinkInfo>> listed = links.listLinks();
  ASSERT_TRUE(listed) << listed.error();
  const LinkInfo* pf = nullptr;
  for (const LinkInfo& link : *listed) {
    if (link.name == pf_) pf = &link;
  }
  ASSERT_NE(pf, nullptr) << pf_ << " not discovered";
  EXPECT_EQ(pf->numVfs, static_cast<int>(vfCount_));
  ASSERT_THAT(pf->vfs, SizeIs(vfCount_));
  EXPECT_EQ(pf->vfs[1].index, 1u);
  EXPECT_EQ(pf->vfs[1].mac, "02:00:00:00:20:01");
  EXPECT_EQ(pf->vfs[1].minTxRateMbps, 7u);
  EXPECT_EQ(pf->vfs[1].maxTxRateMbps, 70u);
  EXPECT_EQ(pf->vfs[0].minTxRateMbps, 0u);
}

TEST_F(VfNetdevsimTest, CountersOfAProgrammedVf) {
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 0, 10000)));
  Result<std::vector<QosCounters>> counters = backend_->counters();
  ASSERT_TRUE(counters) << counters.error();
  if (vfCount_ <= 200) {  // netdevsim has no ndo_get_vf_stats: the kernel reports zeros
    ASSERT_THAT(*counters, SizeIs(1));
    EXPECT_EQ((*counters)[0].portId, kPortA);
    EXPECT_EQ((*counters)[0].object, "vf 0");
  }
  ASSERT_TRUE(backend_->remove(kPortA));
}

TEST_F(VfNetdevsimTest, ProgramChangeRemoveByIndexKeepingMax) {
  ASSERT_TRUE(api_->setVfRate(pf_, 1, 0, 1000));  // a cap set by someone else
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 1, 100500));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_TRUE(applied->overall().isEnforced()) << applied->overall().toString();
  EXPECT_EQ(vf(1).minTxRateMbps, 101u);  // rounded up
  EXPECT_EQ(vf(1).maxTxRateMbps, 1000u);
  EXPECT_THAT(ipLink(), HasSubstr("max_tx_rate 1000Mbps, min_tx_rate 101Mbps"));

  ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 200000)));
  EXPECT_EQ(vf(1).minTxRateMbps, 200u);
  EXPECT_EQ(vf(1).maxTxRateMbps, 1000u);
  const int writes = api_->writes();
  ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 200000)));  // idempotent: no write
  EXPECT_EQ(api_->writes(), writes);

  std::vector<AppliedQos> seen = backend_->observe().value();
  ASSERT_THAT(seen, SizeIs(1));
  EXPECT_EQ(seen[0].port.portId, kPortA);
  EXPECT_EQ(seen[0].egress->minKbps, Kbps(200000));

  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_EQ(vf(1).minTxRateMbps, 0u);
  EXPECT_EQ(vf(1).maxTxRateMbps, 1000u);
  EXPECT_THAT(backend_->observe().value(), IsEmpty());
}

TEST_F(VfNetdevsimTest, ProgramByMacWithASpecMax) {
  ASSERT_TRUE(test::run({"ip", "link", "set", pf_, "vf", "2", "mac", kMacB}).ok());
  QosSpec s;
  s.port = PortIdentity{kPortB, kMacB, pf_, std::nullopt};
  s.minEgress = Kbps(300000);
  s.maxEgress = Kbps(2000000);
  s.minIngress = Kbps(1000);
  Result<AppliedQos> applied = backend_->program(s);
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(applied->port.vfIndex, 2);
  EXPECT_EQ(applied->overall().toString(),
            "placement-only (VF rate limiting has no ingress minimum)");
  EXPECT_EQ(vf(2).minTxRateMbps, 300u);
  EXPECT_EQ(vf(2).maxTxRateMbps, 2000u);
  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_EQ(vf(2).minTxRateMbps, 0u);
  EXPECT_EQ(vf(2).maxTxRateMbps, 2000u);
}

TEST_F(VfNetdevsimTest, KernelRefusalsAreCleanAndChangeNothing) {
  ASSERT_TRUE(api_->setVfRate(pf_, 0, 50, 100));
  Status minAboveMax = api_->setVfRate(pf_, 0, 500, 100);  // rtnetlink core: EINVAL
  ASSERT_FALSE(minAboveMax);
  EXPECT_EQ(minAboveMax.error().sysErrno(), EINVAL);
  EXPECT_THAT(minAboveMax.error().message(), HasSubstr(pf_ + " vf 0"));
  EXPECT_THAT(minAboveMax.error().toString(), HasSubstr("Invalid argument"));
  Status outOfRange = api_->setVfRate(pf_, vfCount_, 1, 0);  // netdevsim: EINVAL
  ASSERT_FALSE(outOfRange);
  EXPECT_EQ(outOfRange.error().sysErrno(), EINVAL);
  EXPECT_EQ(vf(0).minTxRateMbps, 50u);
  EXPECT_EQ(vf(0).maxTxRateMbps, 100u);

  // The backend says why before the kernel has to: the VF's max is below the guarantee.
  const int writes = api_->writes();
  Result<AppliedQos> conflict = backend_->program(byIndex(kPortA, 0, 200000));
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
  Result<AppliedQos> missing = backend_->program(byIndex(kPortA, static_cast<int>(vfCount_), 1));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(api_->writes(), writes);
  EXPECT_EQ(vf(0).minTxRateMbps, 50u);
}

TEST_F(VfNetdevsimTest, SwitchdevModeRefusesWithEopnotsupp) {
  const char* devlink = std::getenv("BWFLOOR_VF_DEVLINK");
  ASSERT_NE(devlink, nullptr);
  ASSERT_TRUE(test::run({"devlink", "dev", "eswitch", "set", devlink, "mode", "switchdev"}).ok());
  Result<AppliedQos> applied = backend_->program(byIndex(kPortA, 0, 100000));
  const bool back = test::run({"devlink", "dev", "eswitch", "set", devlink, "mode", "legacy"}).ok();
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(applied.error().sysErrno(), EOPNOTSUPP);
  EXPECT_THAT(applied.error().toString(), HasSubstr("VF 0 of " + pf_));
  EXPECT_THAT(applied.error().toString(), HasSubstr("Operation not supported"));
  std::cout << "switchdev: failed (" << applied.error().toString() << ")\n";
  ASSERT_TRUE(back);
}

TEST_F(VfNetdevsimTest, RoundTripTimes) {
  constexpr int kRounds = 200;
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(api_->setVfRate(pf_, 0, 100 + static_cast<uint32_t>(i % 2) * 100, 0));
    ASSERT_TRUE(api_->listVfs(pf_, VfRead::kConfig));
  }
  auto t1 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(backend_->program(byIndex(kPortA, 1, 100000 + (i % 2) * 100000)));
  }
  auto t2 = Clock::now();
  auto us = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / kRounds;
  };
  std::cout << "set+read-back (RTM_SETLINK + RTM_GETLINK): " << us(t1 - t0)
            << " us per round trip; VfRateBackend::program (read, set, read back): " << us(t2 - t1)
            << " us; " << kRounds << " rounds, " << vfCount_ << " VFs\n";
}

}  // namespace
}  // namespace bwfloor::dataplane::sriov
