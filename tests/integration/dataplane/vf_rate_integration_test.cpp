// MnlVfApi + VfRateBackend on this machine's real kernel, in a network namespace made for the test
// (root; the tests fail, never skip, without it). A veth has no SR-IOV: the kernel reports no VF
// list and refuses IFLA_VF_RATE (no ndo_set_vf_rate: EOPNOTSUPP). Both must come back as clean
// errors naming the device and the VF, and nothing on the link may change.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <sstream>

#include "core/logging.h"
#include "dataplane/sriov/mnl_vf_api.h"
#include "dataplane/sriov/vf_rate_backend.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::dataplane::sriov {
namespace {

using test::Netns;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr const char* kPort = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPeerMac = "02:00:00:00:00:0b";

class VfVethTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0) << "integration tests need root (network namespaces)";
    ASSERT_TRUE(ns_.created()) << "ip netns add " << ns_.name();
    ASSERT_TRUE(
        ns_.exec({"ip", "link", "add", "pf0", "type", "veth", "peer", "name", "pf0p"}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "pf0p", "address", kPeerMac}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "pf0", "up"}).ok());
    LogOptions options;
    options.pattern = "%n %l %v";
    options.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    initLogging(options);
    test::EnterNetns inside(ns_.name());
    ASSERT_TRUE(inside.ok());
    Result<std::unique_ptr<MnlVfApi>> api = MnlVfApi::open();
    ASSERT_TRUE(api) << api.error();
    api_ = std::move(api).value();
    before_ = links();
  }

  void TearDown() override {
    initLogging(LogOptions{});
    EXPECT_EQ(links(), before_) << "the links changed";
    EXPECT_THAT(log_.str(), Not(HasSubstr("op=set_vf_rate"))) << log_.str();
  }

  // Everything `ip` shows about the namespace's links, VF lines included.
  std::string links() {
    test::CommandResult r = ns_.exec({"ip", "-d", "link", "show"});
    EXPECT_TRUE(r.ok()) << r.output;
    return r.output;
  }

  Netns ns_{test::uniqueName("vf")};
  std::ostringstream log_;
  std::shared_ptr<MnlVfApi> api_;
  std::string before_;
};

TEST_F(VfVethTest, AVethHasNoVfs) {
  Result<std::vector<VfState>> vfs = api_->listVfs("pf0", VfRead::kConfig);
  ASSERT_TRUE(vfs) << vfs.error();
  EXPECT_THAT(*vfs, IsEmpty());
}

TEST_F(VfVethTest, TheKernelRefusesAVfRateOnAVeth) {
  Status st = api_->setVfRate("pf0", 0, 100, 0);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(st.error().sysErrno(), EOPNOTSUPP);
  EXPECT_THAT(st.error().message(), HasSubstr("pf0 vf 0"));
  EXPECT_THAT(st.error().toString(), HasSubstr("Operation not supported"));
  std::cout << "kernel: " << st.error() << "\n";
  // The socket stays usable after an error.
  EXPECT_TRUE(api_->listVfs("pf0", VfRead::kConfig));
}

TEST_F(VfVethTest, AMissingDeviceIsNotFound) {
  Result<std::vector<VfState>> vfs = api_->listVfs("nosuch0", VfRead::kConfig);
  ASSERT_FALSE(vfs);
  EXPECT_EQ(vfs.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(vfs.error().sysErrno(), ENODEV);
  EXPECT_THAT(vfs.error().message(), HasSubstr("nosuch0"));
  Status st = api_->setVfRate("nosuch0", 1, 100, 0);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sysErrno(), ENODEV);
  EXPECT_THAT(st.error().message(), HasSubstr("nosuch0 vf 1"));
  EXPECT_EQ(api_->listVfs("", VfRead::kConfig).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(VfVethTest, TheBackendReportsACleanFailureAndChangesNothing) {
  VfRateBackend backend(VfRateBackendConfig{{"pf0", "gone0"}}, api_);
  QosSpec spec;
  spec.port = PortIdentity{kPort, kPeerMac, "pf0", 0};
  spec.minEgress = Kbps(60000);
  spec.minIngress = Kbps(10000);
  Result<AppliedQos> applied = backend.program(spec);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::kNotFound);
  const std::string status = Enforcement::failed(applied.error().toString()).toString();
  std::cout << "status: " << status << "\n";
  EXPECT_EQ(status, "failed (port " + std::string(kPort) + ": pf0 has no VF 0 (it reports 0 VFs))");

  spec.port.vfIndex.reset();  // by MAC: the same answer
  applied = backend.program(spec);
  ASSERT_FALSE(applied);
  EXPECT_THAT(applied.error().message(),
              HasSubstr("no VF of pf0 has MAC " + std::string(kPeerMac)));

  Result<std::vector<AppliedQos>> seen = backend.observe();  // gone0 does not exist: skipped
  ASSERT_TRUE(seen) << seen.error();
  EXPECT_THAT(*seen, IsEmpty());
  Result<std::vector<QosCounters>> counters = backend.counters();
  ASSERT_TRUE(counters) << counters.error();
  EXPECT_THAT(*counters, IsEmpty());
  EXPECT_TRUE(backend.remove(kPort));
}

}  // namespace
}  // namespace bwfloor::dataplane::sriov
