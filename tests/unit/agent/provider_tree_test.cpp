// The desired provider tree: scenario.md's tree with Neutron's names and uuid5 ids (expected
// values computed with Python's uuid.uuid5), traits as os-traits normalises them, inventories
// with their defaults, and the error state of a configured device the host lacks.

#include "agent/report/provider_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "agent/report/traits.h"

namespace bwfloor::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// python3 -c 'import uuid; print(uuid.uuid5(uuid.UUID("87ee7d5c-..."), "devstack0"))' etc.
constexpr const char* kOvsAgentUuid = "89ca1421-5117-5348-acab-6d0e2054239c";
constexpr const char* kBrTestUuid = "f9c9ce07-679d-5d72-ac5f-31720811629a";
constexpr const char* kBrExUuid = "193134fd-464c-5545-9d20-df7d58c0166f";
constexpr const char* kSriovAgentUuid = "4a8a819d-61f9-5822-8c5c-3e9c7cb942d6";
constexpr const char* kEns5Uuid = "1c7e83f0-108d-5c35-ada7-7ebebbe43aad";
constexpr const char* kHv1BrTestUuid = "13a83ab7-ae26-5384-aa1c-58fa5c47bee1";

AgentConfig configFrom(const std::string& text) {
  auto ini = parseIni(text, "agent.ini");
  EXPECT_TRUE(ini);
  auto config = parseAgentConfig(*ini, [] { return Result<HostNames>(HostNames{"m", "m"}); });
  EXPECT_TRUE(config) << config.error().message();
  return *config;
}

const char* kScenario = R"([agent]
host = devstack0
[ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
)";

dataplane::LinkInfo link(const std::string& name, std::optional<uint64_t> speedMbps,
                         int ifindex = 0) {
  dataplane::LinkInfo l;
  l.name = name;
  l.ifindex = ifindex;
  l.speedMbps = speedMbps;
  return l;
}

dataplane::OvsBridge bridge(const std::string& name, const std::vector<std::string>& uplinks = {}) {
  dataplane::OvsBridge b;
  b.name = name;
  b.ports.push_back({name, {{name, "internal", "", std::nullopt}}});
  for (const auto& u : uplinks) b.ports.push_back({u, {{u, "", "", 1}}});
  return b;
}

HostView scenarioHost() {
  HostView host;
  host.links = {link("lo", std::nullopt, 1), link("ens5", 10000, 2)};
  host.ovsBridges = std::vector<dataplane::OvsBridge>{bridge("br-ex"), bridge("br-test")};
  return host;
}

InventoryRecord inv(int64_t total) { return {total, 0, 1, total, 1, 1.0}; }

TEST(TraitsTest, NormalisedAsOsTraits) {
  EXPECT_EQ(physnetTrait("physnet0"), "CUSTOM_PHYSNET_PHYSNET0");
  EXPECT_EQ(physnetTrait("public"), "CUSTOM_PHYSNET_PUBLIC");
  EXPECT_EQ(physnetTrait("physnet-0.a"), "CUSTOM_PHYSNET_PHYSNET_0_A");
  EXPECT_EQ(physnetTrait("Phys Net__x!"), "CUSTOM_PHYSNET_PHYS_NET_X_");
  EXPECT_EQ(physnetTrait("\xc3\xa9"
                         "1"),
            "CUSTOM_PHYSNET_1");  // "é1", as Python's re does
  EXPECT_EQ(vnicTypeTrait("direct-physical"), "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL");
  EXPECT_EQ(vnicTypeTrait("normal"), "CUSTOM_VNIC_TYPE_NORMAL");
}

TEST(ProviderTreeTest, ScenarioTree) {
  const ProviderTree tree = buildProviderTree(configFrom(kScenario), scenarioHost());
  ASSERT_EQ(tree.roots.size(), 1U);
  const DesiredRoot& root = tree.roots[0];
  EXPECT_EQ(root.hypervisor, "devstack0");
  ASSERT_EQ(root.agents.size(), 2U);

  const DesiredAgent& ovs = root.agents[0];
  EXPECT_EQ(ovs.kind, AgentKind::kOvs);
  EXPECT_EQ(ovs.provider.name, "devstack0:Open vSwitch agent");
  EXPECT_EQ(ovs.provider.uuid.toString(), kOvsAgentUuid);
  EXPECT_TRUE(ovs.provider.traits.empty());
  EXPECT_TRUE(ovs.provider.inventories.empty());
  ASSERT_EQ(ovs.devices.size(), 2U);
  EXPECT_EQ(ovs.devices[0].name, "devstack0:Open vSwitch agent:br-test");
  EXPECT_EQ(ovs.devices[0].uuid.toString(), kBrTestUuid);
  EXPECT_EQ(ovs.devices[0].traits,
            (std::set<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL",
                                   "CUSTOM_VNIC_TYPE_DIRECT"}));
  EXPECT_EQ(ovs.devices[0].inventories,
            (Inventories{{kEgressClass, inv(1500)}, {kIngressClass, inv(1500)}}));
  EXPECT_EQ(ovs.devices[1].name, "devstack0:Open vSwitch agent:br-ex");
  EXPECT_EQ(ovs.devices[1].uuid.toString(), kBrExUuid);
  EXPECT_EQ(ovs.devices[1].traits,
            (std::set<std::string>{"CUSTOM_PHYSNET_PUBLIC", "CUSTOM_VNIC_TYPE_NORMAL",
                                   "CUSTOM_VNIC_TYPE_DIRECT"}));
  EXPECT_EQ(ovs.devices[1].inventories, (Inventories{{kIngressClass, inv(1)}}));  // ingress only

  const DesiredAgent& sriov = root.agents[1];
  EXPECT_EQ(sriov.provider.name, "devstack0:NIC Switch agent");
  EXPECT_EQ(sriov.provider.uuid.toString(), kSriovAgentUuid);
  ASSERT_EQ(sriov.devices.size(), 1U);
  EXPECT_EQ(sriov.devices[0].name, "devstack0:NIC Switch agent:ens5");
  EXPECT_EQ(sriov.devices[0].uuid.toString(), kEns5Uuid);
  EXPECT_EQ(
      sriov.devices[0].traits,
      (std::set<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_DIRECT",
                             "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP"}));
  EXPECT_EQ(sriov.devices[0].inventories,
            (Inventories{{kEgressClass, inv(100000)}, {kIngressClass, inv(100000)}}));

  EXPECT_EQ(tree.customTraits,
            (std::set<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_PHYSNET_PUBLIC",
                                   "CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL",
                                   "CUSTOM_VNIC_TYPE_MACVTAP", "CUSTOM_VNIC_TYPE_NORMAL"}));
  EXPECT_TRUE(tree.problems.empty());
  EXPECT_TRUE(tree.missing.empty());
  // Heartbeat bandwidths: null (unset) for the unreported direction.
  EXPECT_EQ(tree.bandwidths.at(AgentKind::kOvs).at("br-ex"), (ResolvedBandwidth{std::nullopt, 1}));
}

TEST(ProviderTreeTest, MissingDeviceIsAnErrorStateAndItsProviderIsHeld) {
  HostView host = scenarioHost();
  host.links = {link("lo", std::nullopt, 1)};  // no ens5
  const ProviderTree tree = buildProviderTree(configFrom(kScenario), host);
  const DesiredAgent& sriov = tree.roots[0].agents[1];
  EXPECT_EQ(sriov.provider.name, "devstack0:NIC Switch agent");  // the agent is still reported
  EXPECT_TRUE(sriov.devices.empty());
  EXPECT_EQ(sriov.held.size(), 1U);
  EXPECT_EQ(sriov.held.begin()->toString(), kEns5Uuid);
  EXPECT_THAT(tree.missing.at(AgentKind::kSriov), ElementsAre("ens5"));
  ASSERT_EQ(tree.problems.size(), 1U);
  EXPECT_EQ(tree.problems[0].severity, DeviceProblem::Severity::kError);
  EXPECT_EQ(tree.problems[0].device, "ens5");
  EXPECT_THAT(tree.problems[0].message, HasSubstr("missing"));
  // The configured totals are still what the heartbeat shows.
  EXPECT_EQ(tree.bandwidths.at(AgentKind::kSriov).at("ens5"), (ResolvedBandwidth{100000, 100000}));
}

TEST(ProviderTreeTest, OvsBridgeMissingFromOvsdb) {
  HostView host = scenarioHost();
  host.ovsBridges = std::vector<dataplane::OvsBridge>{bridge("br-test")};
  const ProviderTree tree = buildProviderTree(configFrom(kScenario), host);
  EXPECT_THAT(tree.missing.at(AgentKind::kOvs), ElementsAre("br-ex"));
  ASSERT_EQ(tree.roots[0].agents[0].devices.size(), 1U);
  EXPECT_EQ(tree.roots[0].agents[0].held.begin()->toString(), kBrExUuid);
}

TEST(ProviderTreeTest, WithoutOvsdbBridgesComeFromNetlink) {
  HostView host = scenarioHost();
  host.ovsBridges.reset();
  host.ovsdbError = "unreachable";
  host.links.push_back(link("br-test", std::nullopt, 5));
  const ProviderTree tree = buildProviderTree(configFrom(kScenario), host);
  EXPECT_THAT(tree.missing.at(AgentKind::kOvs), ElementsAre("br-ex"));
  EXPECT_EQ(tree.roots[0].agents[0].devices.at(0).name, "devstack0:Open vSwitch agent:br-test");
}

TEST(ProviderTreeTest, AutoTakesTheLinkSpeed) {
  const AgentConfig config = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_bandwidths = br-test:auto:auto
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:auto:
)");
  HostView host;
  host.links = {link("ens5", 25000, 2), link("eth1", 10000, 3), link("eth2", 1000, 4)};
  host.ovsBridges = std::vector<dataplane::OvsBridge>{bridge("br-test", {"eth1", "eth2"})};
  const ProviderTree tree = buildProviderTree(config, host);
  // OVS bridge: the sum of its uplinks, Mbit/s * 1000.
  EXPECT_EQ(tree.roots[0].agents[0].devices[0].inventories,
            (Inventories{{kEgressClass, inv(11000000)}, {kIngressClass, inv(11000000)}}));
  EXPECT_EQ(tree.roots[0].agents[1].devices[0].inventories,
            (Inventories{{kEgressClass, inv(25000000)}}));
  EXPECT_EQ(tree.bandwidths.at(AgentKind::kSriov).at("ens5"),
            (ResolvedBandwidth{25000000, std::nullopt}));
  EXPECT_TRUE(tree.problems.empty());

  // Speed unknown: that direction is not reported, with a warning.
  host.links[0].speedMbps.reset();
  const ProviderTree unknown = buildProviderTree(config, host);
  EXPECT_TRUE(unknown.roots[0].agents[1].devices[0].inventories.empty());
  ASSERT_EQ(unknown.problems.size(), 1U);
  EXPECT_EQ(unknown.problems[0].severity, DeviceProblem::Severity::kWarning);
  EXPECT_THAT(unknown.problems[0].message, HasSubstr("link speed unknown"));
  EXPECT_EQ(unknown.bandwidths.at(AgentKind::kSriov).at("ens5"), ResolvedBandwidth{});
}

TEST(ProviderTreeTest, TotalAboveTheLinkSpeedIsAWarning) {
  HostView host = scenarioHost();
  host.links[1].speedMbps = 10;  // 10 Mbit/s = 10000 kbit/s < 100000
  const ProviderTree tree = buildProviderTree(configFrom(kScenario), host);
  ASSERT_EQ(tree.problems.size(), 2U);
  EXPECT_EQ(tree.problems[0].severity, DeviceProblem::Severity::kWarning);
  EXPECT_EQ(tree.problems[0].message,
            "egress total 100000 kbit/s is above the link speed 10000 kbit/s");
  EXPECT_EQ(tree.problems[1].message,
            "ingress total 100000 kbit/s is above the link speed 10000 kbit/s");
  // Still reported as configured.
  EXPECT_EQ(tree.roots[0].agents[1].devices[0].inventories.at(kEgressClass).total, 100000);
}

TEST(ProviderTreeTest, InventoryDefaultsZeroAndDevicesWithoutBandwidth) {
  const AgentConfig config = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test,public:br-ex
resource_provider_bandwidths = br-test:1000:0
resource_provider_inventory_defaults = allocation_ratio:2.0,reserved:100,min_unit:10,step_size:5
)");
  const ProviderTree tree = buildProviderTree(config, scenarioHost());
  const DesiredAgent& ovs = tree.roots[0].agents[0];
  ASSERT_EQ(ovs.devices.size(), 1U);  // br-ex has no bandwidth: no device provider
  // 0 reports no inventory; max_unit defaults to the total.
  EXPECT_EQ(ovs.devices[0].inventories,
            (Inventories{{kEgressClass, InventoryRecord{1000, 100, 10, 1000, 5, 2.0}}}));
}

TEST(ProviderTreeTest, DeviceOnAnotherHypervisor) {
  const AgentConfig config = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1
resource_provider_hypervisors = br-test:hv1
)");
  const ProviderTree tree = buildProviderTree(config, scenarioHost());
  ASSERT_EQ(tree.roots.size(), 2U);
  EXPECT_EQ(tree.roots[0].hypervisor, "devstack0");
  EXPECT_EQ(tree.roots[0].agents[0].devices.at(0).name, "devstack0:Open vSwitch agent:br-ex");
  EXPECT_EQ(tree.roots[1].hypervisor, "hv1");
  EXPECT_EQ(tree.roots[1].agents[0].provider.name, "hv1:Open vSwitch agent");
  EXPECT_EQ(tree.roots[1].agents[0].devices.at(0).name, "hv1:Open vSwitch agent:br-test");
  EXPECT_EQ(tree.roots[1].agents[0].devices.at(0).uuid.toString(), kHv1BrTestUuid);
}

}  // namespace
}  // namespace bwfloor::agent
