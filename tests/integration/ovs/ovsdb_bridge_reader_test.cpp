// Integration tests (label integration, root; CI runs them as root and they never skip):
// OvsdbBridgeReader against a real ovsdb-server started in a temporary directory.
#include "dataplane/ovs/ovsdb_bridge_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/ovs/ovsdb_server_rig.h"

namespace bwfloor::dataplane {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

constexpr const char* kNeedRoot =
    "this integration test must run as root (CI runs it as root); it never skips";

std::vector<std::string> names(const std::vector<OvsBridge>& bridges) {
  std::vector<std::string> out;
  out.reserve(bridges.size());
  for (const OvsBridge& bridge : bridges) out.push_back(bridge.name);
  return out;
}

std::vector<std::string> portNames(const OvsBridge& bridge) {
  std::vector<std::string> out;
  out.reserve(bridge.ports.size());
  for (const OvsPort& port : bridge.ports) out.push_back(port.name);
  return out;
}

const OvsInterface* findInterface(const OvsBridge& bridge, const std::string& name) {
  for (const OvsPort& port : bridge.ports) {
    for (const OvsInterface& iface : port.interfaces) {
      if (iface.name == name) return &iface;
    }
  }
  return nullptr;
}

// Neutron's shape: br-int patched to a physical bridge br-test whose uplink is eth-test (a
// "system" port; no such Linux device is needed, no ovs-vswitchd runs).
const std::vector<std::string> kNeutronTopology = {"--",         "add-br",
                                                   "br-int",     "--",
                                                   "set",        "Bridge",
                                                   "br-int",     "datapath_type=netdev",
                                                   "--",         "add-br",
                                                   "br-test",    "--",
                                                   "set",        "Bridge",
                                                   "br-test",    "datapath_type=netdev",
                                                   "--",         "add-port",
                                                   "br-int",     "int-br-test",
                                                   "--",         "set",
                                                   "Interface",  "int-br-test",
                                                   "type=patch", "options:peer=phy-br-test",
                                                   "--",         "add-port",
                                                   "br-test",    "phy-br-test",
                                                   "--",         "set",
                                                   "Interface",  "phy-br-test",
                                                   "type=patch", "options:peer=int-br-test",
                                                   "--",         "add-port",
                                                   "br-test",    "eth-test",
                                                   "--",         "set",
                                                   "Interface",  "eth-test",
                                                   "ofport=7"};

class OvsdbBridgeReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0U) << kNeedRoot;
    rig_ = std::make_unique<test::OvsdbServerRig>();
    ASSERT_TRUE(rig_->start());
  }

  Result<std::vector<OvsBridge>> read() {
    OvsdbBridgeReader reader(rig_->remote(), milliseconds(5000));
    return reader.readBridges();
  }

  std::unique_ptr<test::OvsdbServerRig> rig_;  // destroyed (server stopped, dir removed) last
};

TEST_F(OvsdbBridgeReaderTest, EmptyDatabaseHasNoBridges) {
  auto bridges = read();
  ASSERT_TRUE(bridges.has_value()) << bridges.error();
  EXPECT_THAT(*bridges, IsEmpty());
}

TEST_F(OvsdbBridgeReaderTest, ReadsNeutronLikeTopology) {
  ASSERT_TRUE(rig_->vsctl(kNeutronTopology));

  auto bridges = read();
  ASSERT_TRUE(bridges.has_value()) << bridges.error();
  ASSERT_THAT(names(*bridges), ElementsAre("br-int", "br-test"));

  const OvsBridge& brInt = (*bridges)[0];
  EXPECT_EQ(brInt.datapathType, "netdev");
  EXPECT_THAT(portNames(brInt), ElementsAre("br-int", "int-br-test"));
  EXPECT_EQ(brInt.ports[0], (OvsPort{"br-int", {OvsInterface{"br-int", "internal", "", {}}}}));
  EXPECT_EQ(brInt.ports[1],
            (OvsPort{"int-br-test", {OvsInterface{"int-br-test", "patch", "phy-br-test", {}}}}));
  EXPECT_THAT(uplinkInterfaces(brInt), IsEmpty());

  const OvsBridge& brTest = (*bridges)[1];
  EXPECT_EQ(brTest.datapathType, "netdev");
  EXPECT_THAT(portNames(brTest), ElementsAre("br-test", "eth-test", "phy-br-test"));
  EXPECT_EQ(brTest.ports[1], (OvsPort{"eth-test", {OvsInterface{"eth-test", "", "", 7}}}));
  EXPECT_EQ(brTest.ports[2],
            (OvsPort{"phy-br-test", {OvsInterface{"phy-br-test", "patch", "int-br-test", {}}}}));
  EXPECT_THAT(uplinkInterfaces(brTest), ElementsAre("eth-test"));

  // The patch pair, as the agent follows it from br-int to the physical bridge.
  const OvsInterface* intSide = findInterface(brInt, "int-br-test");
  ASSERT_NE(intSide, nullptr);
  const OvsInterface* phySide = findInterface(brTest, intSide->peer);
  ASSERT_NE(phySide, nullptr);
  EXPECT_EQ(phySide->peer, "int-br-test");
}

TEST_F(OvsdbBridgeReaderTest, BondMembersAreUplinks) {
  ASSERT_TRUE(rig_->vsctl({"add-br", "br-phys"}));
  ASSERT_TRUE(rig_->vsctl({"add-bond", "br-phys", "bond0", "eth-b", "eth-a"}));
  ASSERT_TRUE(rig_->vsctl(
      {"--", "add-port", "br-phys", "mgmt0", "--", "set", "Interface", "mgmt0", "type=internal"}));

  auto bridges = read();
  ASSERT_TRUE(bridges.has_value()) << bridges.error();
  const OvsBridge* brPhys = findBridge(*bridges, "br-phys");
  ASSERT_NE(brPhys, nullptr);
  EXPECT_EQ(brPhys->datapathType, "");
  EXPECT_THAT(portNames(*brPhys), ElementsAre("bond0", "br-phys", "mgmt0"));
  EXPECT_THAT(uplinkInterfaces(*brPhys), ElementsAre("eth-a", "eth-b"));
}

TEST_F(OvsdbBridgeReaderTest, EachReadSeesTheCurrentDatabase) {
  ASSERT_TRUE(rig_->vsctl(kNeutronTopology));
  OvsdbBridgeReader reader(rig_->remote(), milliseconds(5000));
  auto before = reader.readBridges();
  ASSERT_TRUE(before.has_value()) << before.error();
  ASSERT_NE(findBridge(*before, "br-test"), nullptr);
  EXPECT_THAT(uplinkInterfaces(*findBridge(*before, "br-test")), ElementsAre("eth-test"));

  ASSERT_TRUE(rig_->vsctl({"del-port", "br-test", "eth-test"}));
  ASSERT_TRUE(rig_->vsctl({"add-port", "br-test", "eth-new"}));
  auto after = reader.readBridges();
  ASSERT_TRUE(after.has_value()) << after.error();
  ASSERT_NE(findBridge(*after, "br-test"), nullptr);
  EXPECT_THAT(uplinkInterfaces(*findBridge(*after, "br-test")), ElementsAre("eth-new"));

  // The server going away is an outside-world error: kUnavailable, not a crash (SIGPIPE).
  ASSERT_TRUE(rig_->stop());
  auto gone = reader.readBridges();
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::kUnavailable) << gone.error();
  EXPECT_THAT(gone.error().message(), HasSubstr(rig_->remote()));
}

TEST_F(OvsdbBridgeReaderTest, KeepsTheProcessSignalDispositions) {
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGTERM, nullptr, &before), 0);
  sigset_t maskBefore;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &maskBefore), 0);

  auto bridges = read();
  ASSERT_TRUE(bridges.has_value()) << bridges.error();

  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGPIPE}) {
    struct sigaction after {};
    ASSERT_EQ(sigaction(sig, nullptr, &after), 0);
    EXPECT_EQ(after.sa_handler, SIG_DFL) << "signal " << sig << " (" << strsignal(sig) << ")";
  }
  EXPECT_EQ(before.sa_handler, SIG_DFL);
  sigset_t maskAfter;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &maskAfter), 0);
  EXPECT_EQ(sigismember(&maskAfter, SIGPIPE), sigismember(&maskBefore, SIGPIPE));
}

// Failures need no server, but a directory of their own.
class OvsdbBridgeReaderFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0U) << kNeedRoot;
    rig_ = std::make_unique<test::OvsdbServerRig>();
    ASSERT_FALSE(rig_->dir().empty());
  }
  std::unique_ptr<test::OvsdbServerRig> rig_;
};

TEST_F(OvsdbBridgeReaderFailureTest, MissingSocketIsUnavailableAtOnce) {
  const std::string remote = "unix:" + rig_->dir() + "/wrong.sock";
  OvsdbBridgeReader reader(remote, milliseconds(3000));
  const auto start = Clock::now();
  auto bridges = reader.readBridges();
  const auto elapsed = Clock::now() - start;

  ASSERT_FALSE(bridges.has_value());
  EXPECT_EQ(bridges.error().code(), ErrorCode::kUnavailable) << bridges.error();
  EXPECT_THAT(bridges.error().message(), HasSubstr(remote));
  EXPECT_EQ(bridges.error().sysErrno(), ENOENT) << bridges.error();
  EXPECT_LT(elapsed, milliseconds(3000)) << "no retry loop: a missing socket fails at once";
}

TEST_F(OvsdbBridgeReaderFailureTest, ServerWithoutOpenVswitchDatabaseIsUnavailable) {
  ASSERT_TRUE(rig_->start("/usr/share/openvswitch/local-config.ovsschema"));
  OvsdbBridgeReader reader(rig_->remote(), milliseconds(3000));
  const auto start = Clock::now();
  auto bridges = reader.readBridges();
  ASSERT_FALSE(bridges.has_value());
  EXPECT_EQ(bridges.error().code(), ErrorCode::kUnavailable) << bridges.error();
  EXPECT_THAT(bridges.error().message(), HasSubstr(rig_->remote()));
  EXPECT_THAT(bridges.error().message(), HasSubstr("Open_vSwitch database"));
  EXPECT_LT(Clock::now() - start, milliseconds(3000)) << "the server said no: no need to wait";
}

// A socket that accepts connections (the kernel's backlog) but never answers: the reader must
// give up at its timeout, not hang.
class SilentListener {
 public:
  explicit SilentListener(const std::string& path) : fd_(socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          listen(fd_, 8) == 0;
  }
  ~SilentListener() {
    if (fd_ >= 0) close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

TEST_F(OvsdbBridgeReaderFailureTest, SilentServerTimesOut) {
  const std::string path = rig_->dir() + "/silent.sock";
  SilentListener listener(path);
  ASSERT_TRUE(listener.ok()) << path << ": " << std::strerror(errno);

  OvsdbBridgeReader reader("unix:" + path, milliseconds(300));
  const auto start = Clock::now();
  auto bridges = reader.readBridges();
  const auto elapsed = Clock::now() - start;

  ASSERT_FALSE(bridges.has_value());
  EXPECT_EQ(bridges.error().code(), ErrorCode::kUnavailable) << bridges.error();
  EXPECT_THAT(bridges.error().message(), HasSubstr("unix:" + path));
  EXPECT_THAT(bridges.error().message(), HasSubstr("within 300 ms"));
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(3000));
}

TEST_F(OvsdbBridgeReaderFailureTest, PassiveOrUnknownRemoteIsInvalid) {
  const std::vector<std::string> remotes{"punix:" + rig_->dir() + "/db.sock", "bogus:x", ""};
  for (const std::string& remote : remotes) {
    OvsdbBridgeReader reader(remote, milliseconds(1000));
    auto bridges = reader.readBridges();
    ASSERT_FALSE(bridges.has_value()) << remote;
    EXPECT_EQ(bridges.error().code(), ErrorCode::kInvalidArgument) << bridges.error();
    EXPECT_THAT(bridges.error().message(), HasSubstr("remote=" + remote));
  }
}

}  // namespace
}  // namespace bwfloor::dataplane
