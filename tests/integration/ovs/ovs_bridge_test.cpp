// Unit tests (label unit, no root, no OVS) for the pure helpers of dataplane/ovs/ovs_bridge.h.
// They live next to the OVSDB integration test because tests/unit/dataplane/ has another owner.
#include "dataplane/ovs/ovs_bridge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bwfloor::dataplane {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

OvsPort port(std::string name, std::string type = "", std::string peer = "") {
  std::string ifaceName = name;
  return OvsPort{
      std::move(name),
      {OvsInterface{std::move(ifaceName), std::move(type), std::move(peer), std::nullopt}}};
}

OvsBridge physicalBridge() {
  return OvsBridge{
      "br-test",
      "netdev",
      {port("br-test", "internal"), port("eth-test"), port("phy-br-test", "patch", "int-br-test")}};
}

TEST(OvsUplinkInterfaces, SystemInterfacesExceptTheLocalPort) {
  EXPECT_THAT(uplinkInterfaces(physicalBridge()), ElementsAre("eth-test"));
}

TEST(OvsUplinkInterfaces, IntegrationBridgeWithOnlyPatchAndInternalPortsHasNone) {
  OvsBridge brInt{"br-int", "", {port("br-int", "internal"), port("int-br-test", "patch")}};
  EXPECT_THAT(uplinkInterfaces(brInt), IsEmpty());
}

TEST(OvsUplinkInterfaces, ExplicitSystemTypeCounts) {
  OvsBridge bridge{"br-ex", "system", {port("br-ex", "internal"), port("eno1", "system")}};
  EXPECT_THAT(uplinkInterfaces(bridge), ElementsAre("eno1"));
}

TEST(OvsUplinkInterfaces, BondMembersAreUplinksInPortOrder) {
  OvsBridge bridge = physicalBridge();
  bridge.ports.insert(
      bridge.ports.begin(),
      OvsPort{"bond0", {OvsInterface{"eth-a", "", "", 1}, OvsInterface{"eth-b", "", "", 2}}});
  EXPECT_THAT(uplinkInterfaces(bridge), ElementsAre("eth-a", "eth-b", "eth-test"));
}

TEST(OvsUplinkInterfaces, SkipsInternalTunnelUserspaceAndTapTypes) {
  OvsBridge bridge{"br-phys",
                   "netdev",
                   {port("br-phys", "internal"), port("mgmt0", "internal"),
                    port("vxlan-1", "vxlan"), port("dpdk0", "dpdk"), port("afxdp0", "afxdp"),
                    port("tap0", "tap"), port("geneve-1", "geneve")}};
  EXPECT_THAT(uplinkInterfaces(bridge), IsEmpty());
}

TEST(OvsUplinkInterfaces, LocalPortIsExcludedEvenIfMistyped) {
  // The local port is always named like the bridge; whatever its type says, it is not an uplink.
  OvsBridge bridge{"br-x", "", {port("br-x", ""), port("eth1")}};
  EXPECT_THAT(uplinkInterfaces(bridge), ElementsAre("eth1"));
}

TEST(OvsUplinkInterfaces, EmptyBridge) {
  EXPECT_THAT(uplinkInterfaces(OvsBridge{"br-empty", "", {}}), IsEmpty());
}

TEST(OvsSystemInterfaceType, EmptyAndSystemOnly) {
  EXPECT_TRUE(isSystemInterfaceType(""));
  EXPECT_TRUE(isSystemInterfaceType("system"));
  EXPECT_FALSE(isSystemInterfaceType("internal"));
  EXPECT_FALSE(isSystemInterfaceType("patch"));
  EXPECT_FALSE(isSystemInterfaceType("dpdk"));
  EXPECT_FALSE(isSystemInterfaceType("System"));
}

TEST(OvsFindBridge, ByName) {
  std::vector<OvsBridge> bridges{OvsBridge{"br-int", "", {}}, physicalBridge()};
  ASSERT_NE(findBridge(bridges, "br-test"), nullptr);
  EXPECT_EQ(findBridge(bridges, "br-test")->datapathType, "netdev");
  EXPECT_EQ(findBridge(bridges, "br-ex"), nullptr);
}

}  // namespace
}  // namespace bwfloor::dataplane
