// The heartbeat body (the contract with bwfloor-server's POST /v1/agents), host discovery
// (OVS bridge speeds, Linux bridges through the master ifindex, degraded OVSDB) and the netlink
// parsing of in-memory libnl objects.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include "agent/report/heartbeat.h"
#include "dataplane/netlink/netlink_link_source.h"
#include "tests/unit/agent/agent_test_util.h"

namespace bwfloor::agent::testing {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;

ProviderTree scenarioTree(const AgentConfig& config) {
  FakeLinkSource links;
  FakeOvsBridgeSource ovs;
  addScenarioDevices(links, ovs);
  HostDiscovery discovery(links, &ovs);
  return buildProviderTree(config, *discovery.discover());
}

TEST(HeartbeatTest, OpenVSwitchAgent) {
  const AgentConfig config = configFrom(kScenarioIni);
  const json body = heartbeatBody(config, AgentKind::kOvs, scenarioTree(config), true);
  EXPECT_EQ(body, json::parse(R"({
    "host": "devstack0",
    "agent_type": "Open vSwitch agent",
    "binary": "bwfloor-agent",
    "configurations": {
      "bridge_mappings": {"public": "br-ex", "physnet0": "br-test"},
      "resource_provider_bandwidths": {
        "br-test": {"egress": 1500, "ingress": 1500},
        "br-ex": {"egress": null, "ingress": 1}},
      "resource_provider_inventory_defaults": {
        "allocation_ratio": 1.0, "min_unit": 1, "reserved": 0, "step_size": 1},
      "resource_provider_hypervisors": {"br-ex": "devstack0", "br-test": "devstack0"},
      "resource_provider_packet_processing_without_direction": {},
      "resource_provider_packet_processing_with_direction": {},
      "resource_provider_packet_processing_inventory_defaults": {
        "allocation_ratio": 1.0, "min_unit": 1, "reserved": 0, "step_size": 1},
      "devices_missing": []},
    "resources_synced": true})"));
}

// Neutron's OVS agent reports the packet-processing options parsed, keyed by hypervisor.
TEST(HeartbeatTest, OpenVSwitchAgentWithPacketProcessing) {
  const AgentConfig config = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1
resource_provider_packet_processing_with_direction = :1000:
)");
  const json body = heartbeatBody(config, AgentKind::kOvs, scenarioTree(config), true);
  EXPECT_EQ(body["configurations"]["resource_provider_packet_processing_with_direction"],
            json::parse(R"({"devstack0": {"egress": 1000, "ingress": null}})"));
  EXPECT_EQ(body["configurations"]["resource_provider_packet_processing_without_direction"],
            json::object());
}

TEST(HeartbeatTest, NicSwitchAgentWithAMissingDevice) {
  const AgentConfig config = configFrom(R"([agent]
host = devstack0
[sriov_nic]
physical_device_mappings = physnet0:ens5,physnet0:ens6
resource_provider_bandwidths = ens5:100000:100000,ens6
resource_provider_inventory_defaults = min_unit:1000
)");
  const json body = heartbeatBody(config, AgentKind::kSriov, scenarioTree(config), false);
  EXPECT_EQ(body["agent_type"], "NIC Switch agent");
  EXPECT_EQ(body["configurations"]["device_mappings"],
            json::parse(R"({"physnet0": ["ens5", "ens6"]})"));
  EXPECT_EQ(body["configurations"]["resource_provider_bandwidths"],
            json::parse(R"({"ens5": {"egress": 100000, "ingress": 100000},
                            "ens6": {"egress": null, "ingress": null}})"));
  // Setting the option replaced the whole default dict, as in Neutron.
  EXPECT_EQ(body["configurations"]["resource_provider_inventory_defaults"],
            json::parse(R"({"min_unit": 1000})"));
  EXPECT_EQ(body["configurations"]["devices_missing"], json::parse(R"(["ens6"])"));
  EXPECT_EQ(body["resources_synced"], false);
}

TEST(HeartbeatTest, OnlyConfiguredAgentTypesReport) {
  const AgentConfig config = configFrom(R"([agent]
host = h
[ovs]
bridge_mappings = physnet0:br-test
)");
  FakeServer server;
  HeartbeatReporter reporter;
  EXPECT_EQ(reporter.report(server, config, scenarioTree(config), true), 1);
  ASSERT_EQ(server.heartbeats.size(), 1U);
  EXPECT_EQ(server.heartbeats[0]["agent_type"], "Open vSwitch agent");
  server.status = 500;
  EXPECT_EQ(reporter.report(server, config, scenarioTree(config), true), 0);
  server.down = true;
  EXPECT_EQ(reporter.report(server, config, scenarioTree(config), true), 0);
}

dataplane::LinkInfo link(const std::string& name, int ifindex, const std::string& kind,
                         std::optional<int> master, std::optional<uint64_t> speed) {
  dataplane::LinkInfo l;
  l.name = name;
  l.ifindex = ifindex;
  l.kind = kind;
  l.masterIfindex = master;
  l.speedMbps = speed;
  return l;
}

TEST(DiscoveryTest, LinuxBridgesThroughTheMasterIfindex) {
  HostView view;
  view.links = {link("br-lnx", 3, "bridge", std::nullopt, std::nullopt),
                link("veth-b", 5, "veth", 3, 10000),
                link("veth-a", 4, "veth", 3, 10000),
                link("bond0", 6, "bond", std::nullopt, std::nullopt),
                link("eth9", 7, "", 6, 1000),
                link("br-empty", 8, "bridge", std::nullopt, 0)};
  const auto bridges = linuxBridges(view);
  ASSERT_EQ(bridges.size(), 2U);
  EXPECT_THAT(bridges.at("br-lnx"), ElementsAre("veth-a", "veth-b"));
  EXPECT_TRUE(bridges.at("br-empty").empty());
}

TEST(DiscoveryTest, OvsBridgeStateAndSpeed) {
  FakeLinkSource links;
  FakeOvsBridgeSource ovs;
  links.setLink("eth1", 10000);
  links.setLink("eth2", 25000);
  links.setLink("eth3", std::nullopt);
  ovs.addBridge("br-bond", {"eth1", "eth2"});
  ovs.addBridge("br-slow", {"eth1", "eth3"});
  ovs.addBridge("br-internal");
  HostDiscovery discovery(links, &ovs);
  auto view = discovery.discover();
  ASSERT_TRUE(view);
  EXPECT_EQ(ovsBridgeState(*view, "br-bond"), (DeviceState{true, 35000, "ovsdb"}));
  EXPECT_EQ(ovsBridgeState(*view, "br-slow"), (DeviceState{true, std::nullopt, "ovsdb"}));
  EXPECT_EQ(ovsBridgeState(*view, "br-internal"), (DeviceState{true, std::nullopt, "ovsdb"}));
  EXPECT_EQ(ovsBridgeState(*view, "br-none"), DeviceState{});
  EXPECT_EQ(nicState(*view, "eth2"), (DeviceState{true, 25000, "netlink"}));
  EXPECT_EQ(nicState(*view, "eth7"), DeviceState{});
}

TEST(DiscoveryTest, OvsdbDownIsRecordedNotFatal) {
  FakeLinkSource links;
  FakeOvsBridgeSource ovs;
  links.setLink("br-kernel", std::nullopt, "openvswitch");
  ovs.addBridge("br-kernel");
  ovs.setDown(true);
  HostDiscovery discovery(links, &ovs);
  auto view = discovery.discover();
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->ovsBridges);
  EXPECT_THAT(view->ovsdbError, ::testing::HasSubstr("ovsdb-server not running"));
  EXPECT_EQ(ovsBridgeState(*view, "br-kernel"), (DeviceState{true, std::nullopt, "netlink"}));
  links.failListForTest(true);
  EXPECT_FALSE(discovery.discover());
}

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};

TEST(NetlinkParseTest, LinkAttributes) {
  std::unique_ptr<rtnl_link, LinkDeleter> l(rtnl_link_alloc());
  rtnl_link_set_ifindex(l.get(), 7);
  rtnl_link_set_name(l.get(), "ens5");
  rtnl_link_set_flags(l.get(), IFF_UP | IFF_LOWER_UP);
  rtnl_link_set_master(l.get(), 3);
  ASSERT_EQ(rtnl_link_set_type(l.get(), "veth"), 0);
  nl_addr* mac = nullptr;
  ASSERT_EQ(nl_addr_parse("52:54:00:AB:cd:01", AF_LLC, &mac), 0);
  rtnl_link_set_addr(l.get(), mac);
  nl_addr_put(mac);

  const dataplane::LinkInfo info = dataplane::linkInfoFromRtnl(l.get());
  EXPECT_EQ(info.ifindex, 7);
  EXPECT_EQ(info.name, "ens5");
  EXPECT_EQ(info.kind, "veth");
  EXPECT_EQ(info.mac, "52:54:00:ab:cd:01");
  EXPECT_TRUE(info.up);
  EXPECT_TRUE(info.lowerUp);
  EXPECT_EQ(info.masterIfindex, 3);
  EXPECT_FALSE(info.speedMbps);  // not in the message
  EXPECT_TRUE(info.vfs.empty());
}

TEST(NetlinkParseTest, VirtualFunctions) {
  std::unique_ptr<rtnl_link, LinkDeleter> l(rtnl_link_alloc());
  rtnl_link_set_name(l.get(), "ens5");
  for (uint32_t i = 0; i < 2; ++i) {
    rtnl_link_vf* vf = rtnl_link_vf_alloc();
    rtnl_link_vf_set_index(vf, i);
    nl_vf_rate rate{};
    rate.api = RTNL_LINK_VF_RATE_API_NEW;
    rate.min_tx_rate = 100 * (i + 1);
    rate.max_tx_rate = 1000;
    rtnl_link_vf_set_rate(vf, &rate);
    ASSERT_EQ(rtnl_link_vf_add(l.get(), vf), 0);
    rtnl_link_vf_put(vf);
  }
  const dataplane::LinkInfo info = dataplane::linkInfoFromRtnl(l.get());
  EXPECT_EQ(info.vfs, (std::vector<dataplane::VfInfo>{{0, "", 100, 1000}, {1, "", 200, 1000}}));
}

TEST(NetlinkParseTest, NoVfListIsSafe) {
  std::unique_ptr<rtnl_link, LinkDeleter> l(rtnl_link_alloc());
  rtnl_link_set_name(l.get(), "eth0");
  EXPECT_TRUE(dataplane::linkInfoFromRtnl(l.get()).vfs.empty());
}

}  // namespace
}  // namespace bwfloor::agent::testing
