#pragma once
// Shared set-up for the agent's unit tests: the scenario's configuration and host, and readers of
// what the in-process placement holds.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/discovery/host_discovery.h"
#include "tests/unit/agent/agent_fakes.h"

namespace bwfloor::agent::testing {

// python3: uuid.uuid5(uuid.UUID(NS), "devstack0"), "devstack0:br-test", ...
inline constexpr const char* kOvsAgentUuid = "89ca1421-5117-5348-acab-6d0e2054239c";
inline constexpr const char* kBrTestUuid = "f9c9ce07-679d-5d72-ac5f-31720811629a";
inline constexpr const char* kBrExUuid = "193134fd-464c-5545-9d20-df7d58c0166f";
inline constexpr const char* kSriovAgentUuid = "4a8a819d-61f9-5822-8c5c-3e9c7cb942d6";
inline constexpr const char* kEns5Uuid = "1c7e83f0-108d-5c35-ada7-7ebebbe43aad";

// scenario.md's configuration.
inline constexpr const char* kScenarioIni = R"([agent]
host = devstack0
report_interval = 10
resync_interval = 30
[ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
)";

inline AgentConfig configFrom(const std::string& text) {
  auto ini = parseIni(text, "agent.ini");
  EXPECT_TRUE(ini) << ini.error().message();
  auto config = parseAgentConfig(*ini, [] { return Result<HostNames>(HostNames{"m", "m"}); });
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : AgentConfig{};
}

// The scenario's devices: ens5 (10 Gbit/s) in netlink, br-ex and br-test in OVSDB.
inline void addScenarioDevices(FakeLinkSource& links, FakeOvsBridgeSource& ovs) {
  links.setLink("lo", std::nullopt);
  links.setLink("ens5", 10000);
  ovs.addBridge("br-ex");
  ovs.addBridge("br-test");
}

using Totals = std::map<std::string, int64_t>;  // resource class -> total

// What placement holds for one provider.
struct HeldProvider {
  std::string name;
  std::string parent;
  std::set<std::string> traits;
  std::map<std::string, int64_t> inventories;  // rc -> total
  std::map<std::string, int64_t> reserved;     // rc -> reserved
};

inline std::optional<HeldProvider> held(InProcessPlacement& placement, const std::string& uuid) {
  auto rp = placement.adminJson("GET", "/resource_providers/" + uuid);
  if (!rp.is_object() || !rp.contains("uuid")) return std::nullopt;
  HeldProvider out;
  out.name = rp["name"];
  if (rp["parent_provider_uuid"].is_string()) out.parent = rp["parent_provider_uuid"];
  const auto traits = placement.adminJson("GET", "/resource_providers/" + uuid + "/traits");
  for (const auto& t : traits["traits"]) out.traits.insert(t.get<std::string>());
  auto invs = placement.adminJson("GET", "/resource_providers/" + uuid + "/inventories");
  for (const auto& [rc, inv] : invs["inventories"].items()) {
    out.inventories[rc] = inv["total"];
    out.reserved[rc] = inv["reserved"];
  }
  return out;
}

inline std::string rootUuid(InProcessPlacement& placement, const std::string& name) {
  auto list = placement.adminJson("GET", "/resource_providers?name=" + name);
  if (list["resource_providers"].empty()) return "";
  return list["resource_providers"][0]["uuid"];
}

// Asserts that placement holds scenario.md's tree.
inline void expectScenarioTree(InProcessPlacement& placement) {
  using nlohmann::json;
  const std::string root = rootUuid(placement, "devstack0");
  ASSERT_FALSE(root.empty()) << "no root provider devstack0";
  const std::set<std::string> ovsTraits{"CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT"};
  auto ovsAgent = held(placement, kOvsAgentUuid);
  ASSERT_TRUE(ovsAgent);
  EXPECT_EQ(ovsAgent->name, "devstack0:Open vSwitch agent");
  EXPECT_EQ(ovsAgent->parent, root);
  EXPECT_TRUE(ovsAgent->traits.empty());
  EXPECT_TRUE(ovsAgent->inventories.empty());
  auto brTest = held(placement, kBrTestUuid);
  ASSERT_TRUE(brTest);
  EXPECT_EQ(brTest->name, "devstack0:Open vSwitch agent:br-test");
  EXPECT_EQ(brTest->parent, kOvsAgentUuid);
  EXPECT_EQ(brTest->traits,
            (std::set<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL",
                                   "CUSTOM_VNIC_TYPE_DIRECT"}));
  EXPECT_EQ(brTest->inventories,
            (Totals{{"NET_BW_EGR_KILOBIT_PER_SEC", 1500}, {"NET_BW_IGR_KILOBIT_PER_SEC", 1500}}));
  auto brEx = held(placement, kBrExUuid);
  ASSERT_TRUE(brEx);
  EXPECT_EQ(brEx->name, "devstack0:Open vSwitch agent:br-ex");
  EXPECT_EQ(brEx->parent, kOvsAgentUuid);
  EXPECT_EQ(brEx->traits, (std::set<std::string>{"CUSTOM_PHYSNET_PUBLIC", "CUSTOM_VNIC_TYPE_NORMAL",
                                                 "CUSTOM_VNIC_TYPE_DIRECT"}));
  EXPECT_EQ(brEx->inventories, (Totals{{"NET_BW_IGR_KILOBIT_PER_SEC", 1}}));
  auto sriovAgent = held(placement, kSriovAgentUuid);
  ASSERT_TRUE(sriovAgent);
  EXPECT_EQ(sriovAgent->name, "devstack0:NIC Switch agent");
  EXPECT_EQ(sriovAgent->parent, root);
  auto ens5 = held(placement, kEns5Uuid);
  ASSERT_TRUE(ens5);
  EXPECT_EQ(ens5->name, "devstack0:NIC Switch agent:ens5");
  EXPECT_EQ(ens5->parent, kSriovAgentUuid);
  EXPECT_EQ(ens5->traits, (std::set<std::string>{
                              "CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_DIRECT",
                              "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP"}));
  EXPECT_EQ(ens5->inventories,
            (json{{"NET_BW_EGR_KILOBIT_PER_SEC", 100000}, {"NET_BW_IGR_KILOBIT_PER_SEC", 100000}}));
  auto tree = placement.adminJson("GET", "/resource_providers?in_tree=" + root);
  EXPECT_EQ(tree["resource_providers"].size(), 6U) << tree.dump();
}

}  // namespace bwfloor::agent::testing
