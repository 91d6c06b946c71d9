// Minimum packet rate on the agent side (issue 18): Neutron's packet-processing options and their
// error texts (neutron_lib.placement.utils), the packet-rate inventories and vnic traits on the
// Open vSwitch agent provider, and InventorySync keeping them as it keeps the bandwidth ones.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/binding/reconcile_plan.h"
#include "agent/config/agent_config.h"
#include "agent/config/neutron_options.h"
#include "agent/report/inventory_sync.h"
#include "agent/report/provider_tree.h"
#include "bindings/host_bindings.h"
#include "core/logging.h"
#include "tests/unit/agent/agent_test_util.h"

namespace bwfloor::agent::testing {
namespace {

using ::testing::HasSubstr;

std::string parseError(const std::vector<std::string>& items, bool withDirection) {
  auto parsed = parsePacketRates(items, withDirection, "devstack0");
  return parsed ? "<accepted>" : parsed.error().message();
}

TEST(PacketRateOptionsTest, WithoutDirectionAsNeutronParsesIt) {
  // neutron-lib's docstring example: host0:10000,host1:,host2,:0
  auto parsed = parsePacketRates({"host0:10000", "host1:", "host2", ":0"}, false, "devstack0");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed,
            (std::vector<PacketRateTotal>{{"host0", 10000, std::nullopt, std::nullopt},
                                          {"host1", std::nullopt, std::nullopt, std::nullopt},
                                          {"host2", std::nullopt, std::nullopt, std::nullopt},
                                          {"devstack0", 0, std::nullopt, std::nullopt}}));
}

TEST(PacketRateOptionsTest, WithDirectionAsNeutronParsesIt) {
  // host0:10000:10000,host1::10000,host2::,host3,:0:0
  auto parsed = parsePacketRates({"host0:10000:10000", "host1::10000", "host2::", "host3", ":0:0"},
                                 true, "devstack0");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 5u);
  EXPECT_EQ((*parsed)[0], (PacketRateTotal{"host0", std::nullopt, 10000, 10000}));
  EXPECT_EQ((*parsed)[1], (PacketRateTotal{"host1", std::nullopt, std::nullopt, 10000}));
  EXPECT_EQ((*parsed)[3], (PacketRateTotal{"host3", std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ((*parsed)[4], (PacketRateTotal{"devstack0", std::nullopt, 0, 0}));
}

TEST(PacketRateOptionsTest, NeutronsErrorTexts) {
  EXPECT_EQ(parseError({"host0:1:2"}, false),
            "Cannot parse resource_provider_packet_processing_without_direction. Expected a "
            "tuple with 2 values, got: host0:1:2");
  EXPECT_EQ(parseError({"host0:1"}, true),
            "Cannot parse resource_provider_packet_processing_with_direction. Expected a tuple "
            "with 3 values, got: host0:1");
  EXPECT_EQ(parseError({"host0:1", "host0:2"}, false),
            "Cannot parse resource_provider_packet_processing_without_direction. Same resource "
            "name listed multiple times: \"host0\"");
  EXPECT_EQ(parseError({"host0:-1"}, false),
            "Cannot parse resource_provider_packet_processing_without_direction. Cannot parse "
            "string value to an integer. Expected: non-negative integer value, got: -1");
  EXPECT_EQ(parseError({"host0:1:x"}, true),
            "Cannot parse resource_provider_packet_processing_with_direction. Cannot parse "
            "string value to an integer. Expected: non-negative integer value, got: x");
  EXPECT_EQ(parseError({":100", "devstack0:200"}, false),
            "Cannot parse resource_provider_packet_processing_without_direction. Found "
            "configuration for \"devstack0\" hypervisor and one without hypervisor name "
            "specified that would override it.");
  EXPECT_EQ(packetRateOptionsExclusiveText(),
            "resource_provider_packet_processing_without_direction and "
            "resource_provider_packet_processing_with_direction configuration options are "
            "mutually exclusive.");
}

Result<AgentConfig> parseConfig(const std::string& text) {
  auto ini = parseIni(text, "agent.ini");
  if (!ini) return ini.error();
  return parseAgentConfig(*ini, [] { return Result<HostNames>(HostNames{"m", "m"}); });
}

constexpr const char* kPacketRateIni = R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500
resource_provider_packet_processing_without_direction = :1000
resource_provider_packet_processing_inventory_defaults = allocation_ratio:2.0,reserved:10
)";

TEST(PacketRateConfigTest, EmptyHypervisorIsTheAgentsHost) {
  auto config = parseConfig(kPacketRateIni);
  ASSERT_TRUE(config) << config.error().message();
  const PacketProcessing& pp = config->ovs.packetProcessing;
  EXPECT_FALSE(pp.withDirection);
  EXPECT_EQ(pp.totals,
            (std::vector<PacketRateTotal>{{"devstack0", 1000, std::nullopt, std::nullopt}}));
  EXPECT_EQ(pp.inventoryDefaults,
            (InventoryDefaults{2.0, std::nullopt, std::nullopt, 10, std::nullopt}));
  // The bandwidth defaults are their own option.
  EXPECT_EQ(config->ovs.inventoryDefaults, (InventoryDefaults{1.0, 1, std::nullopt, 0, 1}));
}

TEST(PacketRateConfigTest, BothOptionsAreRefusedWithFileAndKey) {
  auto config = parseConfig(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_packet_processing_without_direction = :1000
resource_provider_packet_processing_with_direction = :1000:1000
)");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message(),
            "agent.ini:6: [ovs] resource_provider_packet_processing_with_direction: "
            "resource_provider_packet_processing_without_direction and "
            "resource_provider_packet_processing_with_direction configuration options are "
            "mutually exclusive.");
}

TEST(PacketRateConfigTest, ParseErrorsNameFileLineAndKey) {
  auto config = parseConfig(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_packet_processing_with_direction = :1000
)");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message(),
            "agent.ini:5: [ovs] resource_provider_packet_processing_with_direction: Cannot parse "
            "resource_provider_packet_processing_with_direction. Expected a tuple with 3 values, "
            "got: :1000");
  auto defaults = parseConfig(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_packet_processing_inventory_defaults = colour:blue
)");
  ASSERT_FALSE(defaults);
  EXPECT_THAT(defaults.error().message(),
              HasSubstr("[ovs] resource_provider_packet_processing_inventory_defaults: "
                        "unexpected key \"colour\""));
}

// python3: uuid.uuid5(uuid.UUID("87ee7d5c-73bb-11e8-9008-c4d987b2a692"), "devstack0")
constexpr const char* kAgentUuid = "89ca1421-5117-5348-acab-6d0e2054239c";

const DesiredProvider& ovsAgentProvider(const ProviderTree& tree) {
  return tree.findRoot("devstack0")->agents.at(0).provider;
}

HostView hostWithBrTest() {
  HostView host;
  dataplane::OvsBridge b;
  b.name = "br-test";
  b.ports.push_back({"br-test", {{"br-test", "internal", "", std::nullopt}}});
  host.ovsBridges = std::vector<dataplane::OvsBridge>{b};
  return host;
}

TEST(PacketRateTreeTest, AgentProviderGetsTheAnyInventoryAndVnicTraits) {
  auto config = parseConfig(kPacketRateIni);
  ASSERT_TRUE(config);
  const ProviderTree tree = buildProviderTree(*config, hostWithBrTest());
  const DesiredProvider& agent = ovsAgentProvider(tree);
  EXPECT_EQ(agent.uuid.toString(), kAgentUuid);
  EXPECT_EQ(agent.inventories,
            (Inventories{{"NET_PACKET_RATE_KILOPACKET_PER_SEC", {1000, 10, 1, 1000, 1, 2.0}}}));
  // The OVS agent's vnic types, the same traits as on its device providers.
  EXPECT_EQ(agent.traits,
            (std::set<std::string>{"CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_NORMAL"}));
  // The device provider keeps its bandwidth only.
  const auto& device = tree.findRoot("devstack0")->agents.at(0).devices.at(0);
  EXPECT_EQ(device.inventories.count("NET_PACKET_RATE_KILOPACKET_PER_SEC"), 0u);
  EXPECT_EQ(device.inventories.count("NET_BW_EGR_KILOBIT_PER_SEC"), 1u);
}

TEST(PacketRateTreeTest, WithDirectionReportsTruthyDirectionsOnly) {
  auto config = parseConfig(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_packet_processing_with_direction = devstack0:2000:0
)");
  ASSERT_TRUE(config) << config.error().message();
  const ProviderTree tree = buildProviderTree(*config, hostWithBrTest());
  const DesiredProvider& agent = ovsAgentProvider(tree);
  ASSERT_EQ(agent.inventories.size(), 1u);
  EXPECT_EQ(agent.inventories.begin()->first, "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC");
  EXPECT_EQ(agent.inventories.begin()->second.total, 2000);
}

TEST(PacketRateTreeTest, WithoutPacketProcessingTheAgentProviderStaysBare) {
  auto config = parseConfig(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500
)");
  ASSERT_TRUE(config);
  const ProviderTree tree = buildProviderTree(*config, hostWithBrTest());
  const DesiredProvider& agent = ovsAgentProvider(tree);
  EXPECT_TRUE(agent.inventories.empty());
  EXPECT_TRUE(agent.traits.empty());
}

class PacketRateSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    initLogging(LogOptions{spdlog::level::warn});
    ovs_.addBridge("br-test");
  }
  SyncReport run() {
    HostDiscovery discovery(links_, &ovs_);
    auto view = discovery.discover();
    EXPECT_TRUE(view);
    PlacementClient client(placement_);
    return sync_.sync(client, buildProviderTree(config_, *view), config_.rootProviderPolicy);
  }

  InProcessPlacement placement_;
  FakeLinkSource links_;
  FakeOvsBridgeSource ovs_;
  AgentConfig config_ = configFrom(kPacketRateIni);
  InventorySync sync_;
};

TEST_F(PacketRateSyncTest, InventoriesAndTraitsReachPlacementAndComeBackAfterADeletion) {
  ASSERT_TRUE(run().synced());
  auto agent = held(placement_, kAgentUuid);
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->name, "devstack0:Open vSwitch agent");
  EXPECT_EQ(agent->inventories, (Totals{{"NET_PACKET_RATE_KILOPACKET_PER_SEC", 1000}}));
  EXPECT_EQ(agent->reserved, (Totals{{"NET_PACKET_RATE_KILOPACKET_PER_SEC", 10}}));
  EXPECT_TRUE(agent->traits.count("CUSTOM_VNIC_TYPE_NORMAL"));

  // An operator deletes the inventory: the next pass puts it back.
  ASSERT_EQ(
      placement_.admin("DELETE", std::string("/resource_providers/") + kAgentUuid + "/inventories")
          .status,
      204);
  EXPECT_TRUE(held(placement_, kAgentUuid)->inventories.empty());
  SyncReport report = run();
  EXPECT_TRUE(report.synced());
  EXPECT_EQ(report.changes, 1);
  EXPECT_EQ(held(placement_, kAgentUuid)->inventories,
            (Totals{{"NET_PACKET_RATE_KILOPACKET_PER_SEC", 1000}}));
}

// The binding side: a packet rate is claimed on the agent provider and nothing in the data plane
// holds it, so each direction asked for is placement-only; the bandwidth on the device is planned
// (programmed) exactly as without it.
constexpr const char* kAgentProviderUuid = "89ca1421-5117-5348-acab-6d0e2054239c";
constexpr const char* kDeviceUuid = "9b0c2a4e-0000-5000-8000-00000000b0b0";

EnforcementPoints htbOnBrTest() {
  EnforcementPoints points;
  EnforcementPoint p;
  p.backend = "htb";
  p.uplink = "eth-test";
  p.providerUuid = kDeviceUuid;
  p.egressTotal = Kbps(1500);
  points[{"Open vSwitch agent", "br-test"}] = p;
  return points;
}

bindings::Binding packetRateBinding(uint64_t egressKbps) {
  bindings::Binding b;
  b.portId = "p1";
  b.portName = "port-p1";
  b.macAddress = "fa:16:3e:00:00:0a";
  b.device = "br-test";
  b.agentType = "Open vSwitch agent";
  b.allocation = egressKbps > 0 ? kDeviceUuid : "";
  b.minEgressKbps = egressKbps;
  b.packetRateAllocation = kAgentProviderUuid;
  b.minAnyKpps = 600;
  return b;
}

TEST(PacketRateBindingTest, BandwidthIsProgrammedAndThePacketRateIsPlacementOnly) {
  bindings::HostBindings desired;
  desired.bindings = {packetRateBinding(500)};
  const Plan plan = planReconcile(desired, {}, htbOnBrTest(), {"htb"});
  ASSERT_EQ(plan.ports.size(), 1U);
  const PortStep& step = plan.ports[0];
  ASSERT_TRUE(step.program) << step.status.detail;  // the device's bandwidth, as without it
  EXPECT_EQ(step.program->minEgress, Kbps(500));
  EXPECT_EQ(step.program->port.device, "eth-test");
  ASSERT_TRUE(step.status.packetRateAny);
  EXPECT_EQ(step.status.packetRateAny->state, "placement-only");
  EXPECT_THAT(step.status.packetRateAny->detail,
              HasSubstr(std::string("agent provider ") + kAgentProviderUuid));
  EXPECT_EQ(step.status.minAnyKpps, 600U);
  EXPECT_FALSE(step.status.packetRateEgress);
  EXPECT_FALSE(step.status.packetRateIngress);

  // The backend's answer sets the bandwidth's state; the packet rate's stays.
  dataplane::AppliedQos applied;
  applied.port = step.program->port;
  applied.backend = "htb";
  applied.egress = dataplane::AppliedDirection{Kbps(500), std::nullopt,
                                               dataplane::Enforcement::enforced(), "1:10"};
  const BindingStatus done = programOutcome(step, applied);
  EXPECT_EQ(done.state, "enforced");
  ASSERT_TRUE(done.packetRateAny);
  EXPECT_EQ(done.packetRateAny->state, "placement-only");
}

TEST(PacketRateBindingTest, APacketRateOnlyPortIsPlacementOnlyAndSaysWhy) {
  bindings::HostBindings desired;
  desired.bindings = {packetRateBinding(0)};
  desired.bindings[0].minAnyKpps = 0;
  desired.bindings[0].minEgressKpps = 100;
  desired.bindings[0].minIngressKpps = 200;
  const Plan plan = planReconcile(desired, {}, htbOnBrTest(), {"htb"});
  ASSERT_EQ(plan.ports.size(), 1U);
  const BindingStatus& status = plan.ports[0].status;
  EXPECT_FALSE(plan.ports[0].program);
  EXPECT_EQ(status.state, "placement-only");
  EXPECT_THAT(status.detail, HasSubstr("minimum packet rate is placement-only"));
  ASSERT_TRUE(status.packetRateEgress && status.packetRateIngress);
  EXPECT_EQ(status.packetRateEgress->state, "placement-only");
  EXPECT_EQ(status.minIngressKpps, 200U);
  EXPECT_FALSE(status.packetRateAny);
}

// The contract carries the packet rate both ways: the desired minimums to the agent, the states
// back; an older server's document (no packet-rate fields) still parses.
TEST(PacketRateBindingTest, TheContractCarriesPacketRates) {
  bindings::HostBindings hb;
  hb.host = "devstack0";
  hb.revision = 3;
  hb.bindings = {packetRateBinding(500)};
  hb.bindings[0].status.packetRate.any =
      bindings::DirectionStatus{bindings::BindingState::kPlacementOnly, "why"};
  auto parsed = bindings::parseHostBindings(bindings::toJson(hb));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, hb);
  const auto doc = bindings::toJson(hb.bindings[0].status);
  EXPECT_EQ(doc["packet_rate"]["any"]["state"], "placement-only");
  EXPECT_FALSE(doc["packet_rate"].contains("egress"));

  auto old = bindings::toJson(hb);
  for (const char* key :
       {"packet_rate_allocation", "min_egress_kpps", "min_ingress_kpps", "min_any_kpps"}) {
    old["bindings"][0].erase(key);
  }
  auto older = bindings::parseHostBindings(old);
  ASSERT_TRUE(older);
  EXPECT_EQ(older->bindings[0].minAnyKpps, 0U);
  old["bindings"][0]["min_any_kpps"] = -1;
  auto bad = bindings::parseHostBindings(old);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("bindings[0].min_any_kpps: expected an integer"));
}

}  // namespace
}  // namespace bwfloor::agent::testing
