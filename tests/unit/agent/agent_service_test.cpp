// AgentService on simulated time: the sync triggers (start-up, configuration reload, link events,
// periodic resync repairing an operator's deletion), backoff while placement is down, and the
// heartbeats.

#include "agent/agent_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "core/logging.h"
#include "tests/unit/agent/agent_test_util.h"

namespace bwfloor::agent::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AgentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs_);
    LogOptions options{spdlog::level::info};
    options.sinkForTest = sink_;
    initLogging(options);
    addScenarioDevices(links_, ovs_);
  }
  void TearDown() override { initLogging(LogOptions{spdlog::level::warn}); }

  AgentServiceDeps deps() {
    AgentServiceDeps d;
    d.links = &links_;
    d.clock = &clock_;
    d.makeOvsSource = [this](const AgentConfig&) {
      return std::make_unique<ForwardingOvsSource>(ovs_);
    };
    d.makePlacementTransport = [this](const AgentConfig&) -> std::unique_ptr<RestTransport> {
      return std::make_unique<ForwardingTransport>(placement_);
    };
    d.makeServerTransport = [this](const AgentConfig&) -> std::unique_ptr<RestTransport> {
      return std::make_unique<ForwardingTransport>(server_);
    };
    return d;
  }

  AgentService& startService(const std::string& ini = kScenarioIni) {
    service_ = std::make_unique<AgentService>(configFrom(ini), deps());
    service_->start();
    return *service_;
  }

  // Advances simulated time by `by`, running whatever falls due on the way, as the poll loop does.
  void runFor(milliseconds by) {
    const auto end = clock_.now() + by;
    while (true) {
      const milliseconds wait = service_->runDue();
      if (clock_.now() + wait > end) break;
      clock_.advance(std::max(wait, milliseconds(1)));
    }
    clock_.advance(std::chrono::duration_cast<milliseconds>(end - clock_.now()));
    service_->runDue();
  }

  int countInLogs(const std::string& text) const {
    const std::string all = logs_.str();
    int n = 0;
    for (size_t pos = all.find(text); pos != std::string::npos; pos = all.find(text, pos + 1)) ++n;
    return n;
  }

  const json& lastHeartbeat(const std::string& agentType) const {
    const json* last = nullptr;
    for (const auto& heartbeat : server_.heartbeats) {
      if (heartbeat["agent_type"] == agentType) last = &heartbeat;
    }
    static const json kNone;
    return last != nullptr ? *last : kNone;
  }

  std::ostringstream logs_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  FakeClock clock_;
  FakeLinkSource links_;
  FakeOvsBridgeSource ovs_;
  InProcessPlacement placement_;
  FakeServer server_;
  std::unique_ptr<AgentService> service_;
};

TEST_F(AgentServiceTest, StartUpSyncsAndSendsHeartbeats) {
  AgentService& service = startService();
  EXPECT_TRUE(links_.subscribed());
  const milliseconds wait = service.runDue();
  EXPECT_TRUE(service.resourcesSynced());
  EXPECT_FALSE(service.syncPending());
  expectScenarioTree(placement_);
  EXPECT_EQ(wait, seconds(10));  // next: the heartbeat (report_interval 10 s < resync 30 s)
  ASSERT_EQ(server_.heartbeats.size(), 2U);
  EXPECT_THAT(server_.paths, ElementsAre("POST /v1/agents", "POST /v1/agents"));
  EXPECT_EQ(lastHeartbeat("Open vSwitch agent")["resources_synced"], true);
  EXPECT_EQ(lastHeartbeat("NIC Switch agent")["host"], "devstack0");
  runFor(seconds(10));
  EXPECT_EQ(server_.heartbeats.size(), 4U);
  EXPECT_EQ(service.syncAttempts(), 1);
}

TEST_F(AgentServiceTest, PeriodicResyncRepairsAnOperatorsDeletion) {
  AgentService& service = startService();
  service.runDue();
  for (const char* uuid : {kBrTestUuid, kBrExUuid, kOvsAgentUuid}) {
    ASSERT_EQ(placement_.admin("DELETE", std::string("/resource_providers/") + uuid).status, 204);
  }
  runFor(seconds(29));
  EXPECT_FALSE(held(placement_, kOvsAgentUuid));  // not yet: resync_interval is 30 s
  runFor(seconds(1));
  expectScenarioTree(placement_);
  EXPECT_EQ(service.syncAttempts(), 2);
  EXPECT_EQ(countInLogs("created provider name=\"devstack0:Open vSwitch agent\""), 2);
}

TEST_F(AgentServiceTest, LinkEventsTriggerASyncAtOnce) {
  AgentService& service = startService(R"([agent]
host = devstack0
[sriov_nic]
physical_device_mappings = physnet0:ens5,physnet0:ens6
resource_provider_bandwidths = ens5:auto:auto,ens6:1000:1000
)");
  service.runDue();
  EXPECT_EQ(held(placement_, kEns5Uuid)->inventories["NET_BW_EGR_KILOBIT_PER_SEC"], 10000000);
  EXPECT_THAT(lastHeartbeat("NIC Switch agent")["configurations"]["devices_missing"],
              ElementsAre("ens6"));

  // The NIC renegotiates at 25 Gbit/s: noticed from the event, without waiting for a resync.
  links_.setLink("ens5", 25000);
  service.handleLinkEvents();
  service.runDue();
  EXPECT_EQ(held(placement_, kEns5Uuid)->inventories["NET_BW_EGR_KILOBIT_PER_SEC"], 25000000);

  // ens6 appears: its provider is created at once.
  links_.setLink("ens6", 1000);
  service.handleLinkEvents();
  service.runDue();
  const std::string ens6 = "e87a3e44-94ae-5ae9-8d2a-1f367971d771";  // uuid5(SRIOV, devstack0:ens6)
  ASSERT_TRUE(held(placement_, ens6));
  EXPECT_EQ(held(placement_, ens6)->name, "devstack0:NIC Switch agent:ens6");
  EXPECT_EQ(service.syncAttempts(), 3);
  EXPECT_EQ(countInLogs("device=ens6 present=true"), 1);

  // An event that changes nothing relevant requests no sync.
  links_.setLink("veth9", std::nullopt, "veth");
  service.handleLinkEvents();
  EXPECT_FALSE(service.syncPending());
}

TEST_F(AgentServiceTest, WithoutLinkEventsTheResyncNoticesDevices) {
  links_.refuseSubscribeForTest();
  links_.removeLink("ens5");
  AgentService& service = startService();
  service.runDue();
  EXPECT_FALSE(service.linkEventsSubscribed());
  EXPECT_EQ(countInLogs("link events unavailable"), 1);
  EXPECT_EQ(countInLogs("configured device missing on the host"), 1);
  EXPECT_FALSE(held(placement_, kEns5Uuid));
  links_.setLink("ens5", 10000);
  runFor(seconds(30));
  EXPECT_TRUE(held(placement_, kEns5Uuid));
}

TEST_F(AgentServiceTest, ConfigurationReloadAppliesAtOnce) {
  AgentService& service = startService();
  service.runDue();
  const size_t heartbeats = server_.heartbeats.size();
  AgentConfig changed = configFrom(kScenarioIni);
  changed.ovs.bandwidths[0].egress = BandwidthTotal::fixed(5000);
  service.reloadConfig(changed);
  service.runDue();
  EXPECT_EQ(held(placement_, kBrTestUuid)->inventories["NET_BW_EGR_KILOBIT_PER_SEC"], 5000);
  EXPECT_EQ(server_.heartbeats.size(), heartbeats + 2);  // the new configuration, reported now
  EXPECT_EQ(lastHeartbeat("Open vSwitch agent")["configurations"]["resource_provider_bandwidths"]
                                               ["br-test"]["egress"],
            5000);
  // The same configuration again: nothing to do.
  service.reloadConfig(changed);
  EXPECT_FALSE(service.syncPending());
  EXPECT_EQ(countInLogs("unchanged"), 1);
}

TEST_F(AgentServiceTest, PlacementDownIsRetriedWithBackoffAndNoUpdateIsLost) {
  placement_.setDown(true);
  std::string ini = kScenarioIni;
  ini.replace(ini.find("ens5:100000:100000"), 18, "ens5:auto:auto");
  AgentService& service = startService(ini);
  const auto t0 = clock_.now();
  service.runDue();
  EXPECT_EQ(service.syncAttempts(), 1);
  EXPECT_FALSE(service.resourcesSynced());
  EXPECT_EQ(lastHeartbeat("Open vSwitch agent")["resources_synced"], false);
  EXPECT_EQ(service.nextSyncAttempt() - t0, seconds(1));

  // A link change while backing off waits for the scheduled retry (no hammering)...
  links_.setLink("ens5", 25000);
  service.handleLinkEvents();
  EXPECT_TRUE(service.syncPending());
  service.runDue();
  EXPECT_EQ(service.syncAttempts(), 1);

  runFor(seconds(1));  // attempt 2 at +1 s, next at +3 s
  EXPECT_EQ(service.syncAttempts(), 2);
  EXPECT_EQ(service.nextSyncAttempt() - t0, seconds(3));
  runFor(seconds(2));  // attempt 3 at +3 s, next at +7 s
  EXPECT_EQ(service.syncAttempts(), 3);
  EXPECT_EQ(service.nextSyncAttempt() - t0, seconds(7));

  placement_.setDown(false);
  runFor(seconds(4));  // attempt 4 at +7 s succeeds
  EXPECT_EQ(service.syncAttempts(), 4);
  EXPECT_TRUE(service.resourcesSynced());
  // ... and the retry carried the change made while placement was down.
  EXPECT_EQ(held(placement_, kEns5Uuid)->inventories["NET_BW_EGR_KILOBIT_PER_SEC"], 25000000);
  EXPECT_EQ(lastHeartbeat("Open vSwitch agent")["resources_synced"], true);
}

TEST_F(AgentServiceTest, BackoffIsCappedByTheResyncInterval) {
  placement_.setDown(true);
  AgentService& service = startService();
  runFor(seconds(200));
  // 1, 2, 4, 8, 16, then every 30 s (resync_interval): attempts at 0,1,3,7,15,31,61,91,121,151,181
  EXPECT_EQ(service.syncAttempts(), 11);
}

TEST_F(AgentServiceTest, ServerWithoutAgentsApiIsLoggedOnce) {
  server_.status = 404;
  AgentService& service = startService();
  service.runDue();
  runFor(seconds(60));
  EXPECT_GE(server_.heartbeats.size(), 12U);
  EXPECT_EQ(countInLogs("has no /v1/agents"), 1);
  EXPECT_TRUE(service.resourcesSynced());
}

TEST_F(AgentServiceTest, OvsdbDownIsADegradedModeNotAFailure) {
  ovs_.setDown(true);
  AgentService& service = startService();
  service.runDue();
  EXPECT_EQ(countInLogs("OVS bridges are taken from netlink only"), 1);
  // Without OVSDB (and no kernel netdevs for them) both bridges are missing: held, not created.
  EXPECT_THAT(service.desiredTree().missing.at(AgentKind::kOvs), ElementsAre("br-ex", "br-test"));
  EXPECT_TRUE(held(placement_, kOvsAgentUuid));
  EXPECT_FALSE(held(placement_, kBrTestUuid));
  ovs_.setDown(false);
  runFor(seconds(30));
  expectScenarioTree(placement_);
}

TEST_F(AgentServiceTest, DiscoveryFailureAtStartIsNotACrash) {
  links_.failListForTest(true);
  ovs_.setDown(true);
  AgentService& service = startService();
  service.runDue();
  EXPECT_EQ(service.desiredTree().missing.at(AgentKind::kSriov).size(), 1U);
  links_.failListForTest(false);
  ovs_.setDown(false);
  runFor(seconds(30));
  expectScenarioTree(placement_);
}

TEST_F(AgentServiceTest, RunOnce) {
  AgentService& service = startService();
  EXPECT_TRUE(service.runOnce());
  expectScenarioTree(placement_);
  EXPECT_EQ(server_.heartbeats.size(), 2U);
}

}  // namespace
}  // namespace bwfloor::agent::testing
