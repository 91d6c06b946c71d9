// InventorySync against placement's real API in process: first sync, idempotence, operator
// deletion, configuration change, device removal, generation conflicts, placement down then up.

#include "agent/report/inventory_sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/logging.h"
#include "tests/unit/agent/agent_test_util.h"

namespace bwfloor::agent::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class InventorySyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    initLogging(LogOptions{spdlog::level::warn});
    addScenarioDevices(links_, ovs_);
  }

  SyncReport run() {
    HostDiscovery discovery(links_, &ovs_);
    auto view = discovery.discover();
    EXPECT_TRUE(view);
    PlacementClient client(placement_);
    return sync_.sync(client, buildProviderTree(config_, *view), config_.rootProviderPolicy);
  }

  // Deletes the OVS agent's providers as an operator would: children first.
  void deleteOvsProviders() {
    for (const char* uuid : {kBrTestUuid, kBrExUuid, kOvsAgentUuid}) {
      ASSERT_EQ(placement_.admin("DELETE", std::string("/resource_providers/") + uuid).status, 204);
    }
  }

  int64_t generation(const std::string& uuid) {
    return placement_.adminJson("GET", "/resource_providers/" + uuid)["generation"];
  }

  InProcessPlacement placement_;
  FakeLinkSource links_;
  FakeOvsBridgeSource ovs_;
  AgentConfig config_ = configFrom(kScenarioIni);
  InventorySync sync_;
};

TEST_F(InventorySyncTest, FirstSyncCreatesTheScenarioTree) {
  SyncReport report = run();
  EXPECT_EQ(report.status, SyncStatus::kSynced) << ::testing::PrintToString(report.errors);
  expectScenarioTree(placement_);
  for (const char* trait : {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_PHYSNET_PUBLIC",
                            "CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL",
                            "CUSTOM_VNIC_TYPE_MACVTAP", "CUSTOM_VNIC_TYPE_NORMAL"}) {
    EXPECT_EQ(placement_.admin("GET", std::string("/traits/") + trait).status, 204) << trait;
  }
  // Traits first, then each provider after its parent, with its traits and inventories; the
  // agent providers carry neither, so nothing is written for them.
  const std::string rp = "/resource_providers/";
  EXPECT_THAT(
      placement_.writes(),
      ElementsAre("PUT /traits/CUSTOM_PHYSNET_PHYSNET0", "PUT /traits/CUSTOM_PHYSNET_PUBLIC",
                  "PUT /traits/CUSTOM_VNIC_TYPE_DIRECT",
                  "PUT /traits/CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL",
                  "PUT /traits/CUSTOM_VNIC_TYPE_MACVTAP", "PUT /traits/CUSTOM_VNIC_TYPE_NORMAL",
                  "POST /resource_providers", "POST /resource_providers",
                  "POST /resource_providers", "PUT " + rp + kBrTestUuid + "/traits",
                  "PUT " + rp + kBrTestUuid + "/inventories", "POST /resource_providers",
                  "PUT " + rp + kBrExUuid + "/traits", "PUT " + rp + kBrExUuid + "/inventories",
                  "POST /resource_providers", "POST /resource_providers",
                  "PUT " + rp + kEns5Uuid + "/traits", "PUT " + rp + kEns5Uuid + "/inventories"));
  EXPECT_THAT(
      placement_.createdNames(),
      ElementsAre("devstack0", "devstack0:Open vSwitch agent",
                  "devstack0:Open vSwitch agent:br-test", "devstack0:Open vSwitch agent:br-ex",
                  "devstack0:NIC Switch agent", "devstack0:NIC Switch agent:ens5"));
  EXPECT_EQ(report.changes, 6 + 6 + 3 * 2);
}

TEST_F(InventorySyncTest, SecondSyncChangesNothing) {
  ASSERT_TRUE(run().synced());
  placement_.clearCalls();
  SyncReport again = run();
  EXPECT_TRUE(again.synced());
  EXPECT_EQ(again.changes, 0);
  EXPECT_THAT(placement_.writes(), IsEmpty());
}

TEST_F(InventorySyncTest, UsesAnExistingRootProvider) {
  auto root = placement_.adminJson(
      "POST", "/resource_providers",
      {{"name", "devstack0"}, {"uuid", "11111111-2222-3333-4444-555555555555"}});
  ASSERT_EQ(root["uuid"], "11111111-2222-3333-4444-555555555555");
  ASSERT_TRUE(run().synced());
  EXPECT_EQ(held(placement_, kOvsAgentUuid)->parent, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(held(placement_, kSriovAgentUuid)->parent, "11111111-2222-3333-4444-555555555555");
}

TEST_F(InventorySyncTest, RootPolicyWaitWaitsForTheRoot) {
  config_.rootProviderPolicy = RootProviderPolicy::kWait;
  SyncReport waiting = run();
  EXPECT_EQ(waiting.status, SyncStatus::kIncomplete);
  EXPECT_THAT(waiting.errors, Contains(HasSubstr("root provider devstack0 not found")));
  EXPECT_EQ(rootUuid(placement_, "devstack0"), "");
  EXPECT_FALSE(held(placement_, kOvsAgentUuid));
  // Nova (here: the test) creates the compute node's provider; the next pass completes the tree.
  placement_.admin("POST", "/resource_providers", {{"name", "devstack0"}});
  EXPECT_TRUE(run().synced());
  expectScenarioTree(placement_);
}

TEST_F(InventorySyncTest, OperatorDeletionIsRepaired) {
  ASSERT_TRUE(run().synced());
  deleteOvsProviders();
  placement_.clearCalls();
  SyncReport report = run();
  EXPECT_TRUE(report.synced());
  expectScenarioTree(placement_);
  // Only the OVS subtree was written: three providers, their traits and inventories.
  const auto writes = placement_.writes();
  EXPECT_EQ(std::count(writes.begin(), writes.end(), "POST /resource_providers"), 3);
  for (const auto& w : writes) EXPECT_THAT(w, Not(HasSubstr(kEns5Uuid)));
  EXPECT_EQ(report.changes, 3 + 2 + 2);  // 3 providers, 2 trait sets, 2 inventory sets
}

TEST_F(InventorySyncTest, ConfigurationChangeWritesOnlyTheDifference) {
  ASSERT_TRUE(run().synced());
  config_ = configFrom(std::string(kScenarioIni) + "");
  config_.ovs.bandwidths[0].egress = BandwidthTotal::fixed(2000);  // br-test egress 1500 -> 2000
  placement_.clearCalls();
  SyncReport report = run();
  EXPECT_TRUE(report.synced());
  EXPECT_EQ(report.changes, 1);
  EXPECT_THAT(placement_.writes(),
              ElementsAre("PUT /resource_providers/" + std::string(kBrTestUuid) + "/inventories"));
  EXPECT_EQ(held(placement_, kBrTestUuid)->inventories["NET_BW_EGR_KILOBIT_PER_SEC"], 2000);

  // A new physnet for br-ex: its trait is created, then br-ex's trait set replaced.
  config_ = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = external:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:2000:1500,br-ex::1
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
)");
  placement_.clearCalls();
  EXPECT_TRUE(run().synced());
  EXPECT_THAT(placement_.writes(),
              ElementsAre("PUT /traits/CUSTOM_PHYSNET_EXTERNAL",
                          "PUT /resource_providers/" + std::string(kBrExUuid) + "/traits"));
  EXPECT_THAT(held(placement_, kBrExUuid)->traits, Contains("CUSTOM_PHYSNET_EXTERNAL"));
}

TEST_F(InventorySyncTest, DeviceRemovedFromTheConfigurationIsDeleted) {
  ASSERT_TRUE(run().synced());
  config_ = configFrom(R"([agent]
host = devstack0
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500
)");
  placement_.clearCalls();
  SyncReport report = run();
  EXPECT_TRUE(report.synced()) << ::testing::PrintToString(report.errors);
  // br-ex, and the whole SR-IOV subtree (children first); nothing else.
  EXPECT_THAT(placement_.writes(),
              ElementsAre("DELETE /resource_providers/" + std::string(kBrExUuid),
                          "DELETE /resource_providers/" + std::string(kEns5Uuid),
                          "DELETE /resource_providers/" + std::string(kSriovAgentUuid)));
  EXPECT_FALSE(held(placement_, kBrExUuid));
  EXPECT_FALSE(held(placement_, kSriovAgentUuid));
  EXPECT_TRUE(held(placement_, kBrTestUuid));
  EXPECT_TRUE(sync_.managed().at("devstack0").count(AgentKind::kSriov) == 0);
}

TEST_F(InventorySyncTest, RemovedDeviceWithAllocationsIsKeptAndReported) {
  ASSERT_TRUE(run().synced());
  auto alloc = placement_.admin(
      "PUT", "/allocations/aaaaaaaa-0000-0000-0000-000000000001",
      {{"allocations", {{kBrExUuid, {{"resources", {{"NET_BW_IGR_KILOBIT_PER_SEC", 1}}}}}}},
       {"project_id", "p"},
       {"user_id", "u"},
       {"consumer_generation", nullptr},
       {"consumer_type", "INSTANCE"}});
  ASSERT_EQ(alloc.status, 204) << alloc.body;
  config_.ovs.mappings.erase(config_.ovs.mappings.begin());          // public:br-ex
  config_.ovs.bandwidths.erase(config_.ovs.bandwidths.begin() + 1);  // br-ex::1
  SyncReport report = run();
  EXPECT_EQ(report.status, SyncStatus::kIncomplete);
  EXPECT_THAT(report.errors, ElementsAre(HasSubstr("delete provider devstack0:Open vSwitch "
                                                   "agent:br-ex: HTTP 409")));
  EXPECT_TRUE(held(placement_, kBrExUuid));
}

TEST_F(InventorySyncTest, RestartCleansUpDevicesUnderItsAgentProvider) {
  ASSERT_TRUE(run().synced());
  InventorySync restarted;  // a new process: no memory of earlier passes
  config_.ovs.mappings.erase(config_.ovs.mappings.begin());
  config_.ovs.bandwidths.erase(config_.ovs.bandwidths.begin() + 1);
  PlacementClient client(placement_);
  HostDiscovery discovery(links_, &ovs_);
  auto report = restarted.sync(client, buildProviderTree(config_, *discovery.discover()),
                               RootProviderPolicy::kCreate);
  EXPECT_TRUE(report.synced());
  EXPECT_FALSE(held(placement_, kBrExUuid));
}

// Issue 15: a configured SR-IOV PF that disappeared stayed schedulable, and server create onto it
// said ACTIVE. Its provider is kept (allocations stay valid) but unschedulable until it returns.
TEST_F(InventorySyncTest, MissingDeviceIsHeldUnschedulableUntilItReturns) {
  ASSERT_TRUE(run().synced());
  const auto before = held(placement_, kEns5Uuid);
  ASSERT_TRUE(before);
  links_.removeLink("ens5");
  placement_.clearCalls();
  SyncReport report = run();
  EXPECT_TRUE(report.synced());
  EXPECT_EQ(placement_.writes().size(), 1U) << "one inventory PUT";
  auto drained = held(placement_, kEns5Uuid);
  ASSERT_TRUE(drained) << "the provider is kept";
  EXPECT_EQ(drained->inventories, before->inventories);
  for (const auto& [rc, total] : drained->inventories) {
    EXPECT_EQ(drained->reserved[rc], total) << rc;
  }
  placement_.clearCalls();
  EXPECT_TRUE(run().synced());
  EXPECT_THAT(placement_.writes(), IsEmpty()) << "draining is done once";
  links_.setLink("ens5", 10000);
  EXPECT_TRUE(run().synced());
  EXPECT_EQ(held(placement_, kEns5Uuid)->reserved, before->reserved) << "back to the configured";
}

TEST_F(InventorySyncTest, MissingDeviceGetsNoNewProvider) {
  links_.removeLink("ens5");
  ASSERT_TRUE(run().synced());
  EXPECT_TRUE(held(placement_, kSriovAgentUuid));
  EXPECT_FALSE(held(placement_, kEns5Uuid));
}

TEST_F(InventorySyncTest, GenerationConflictIsReReadAndRetried) {
  ASSERT_TRUE(run().synced());
  config_.ovs.bandwidths[0].ingress = BandwidthTotal::fixed(3000);
  // Someone else changes br-test between our read and our write (here: adds a trait).
  bool interfered = false;
  placement_.beforeCall = [&](const std::string& method, const std::string& path) {
    if (interfered || method != "PUT" || path.find(kBrTestUuid) == std::string::npos) return;
    interfered = true;
    auto traits =
        placement_.adminJson("GET", std::string("/resource_providers/") + kBrTestUuid + "/traits");
    traits["traits"].push_back("HW_NIC_SRIOV");
    ASSERT_EQ(
        placement_
            .admin("PUT", std::string("/resource_providers/") + kBrTestUuid + "/traits", traits)
            .status,
        200);
  };
  placement_.clearCalls();
  SyncReport report = run();
  EXPECT_TRUE(report.synced()) << ::testing::PrintToString(report.errors);
  const std::string inventories =
      "PUT /resource_providers/" + std::string(kBrTestUuid) + "/inventories";
  EXPECT_THAT(placement_.calls(),
              ElementsAre(HasSubstr("GET /traits"), HasSubstr("GET /resource_providers?name="),
                          HasSubstr("in_tree"), HasSubstr("traits"), HasSubstr("inventories"),
                          HasSubstr(kBrTestUuid), HasSubstr(kBrTestUuid),
                          inventories,  // 409: generation moved
                          "GET /resource_providers/" + std::string(kBrTestUuid) + "/inventories",
                          inventories,  // retried at the new generation
                          HasSubstr("traits"), HasSubstr("inventories"), HasSubstr("traits"),
                          HasSubstr("inventories"), HasSubstr("traits"), HasSubstr("inventories")));
  EXPECT_EQ(held(placement_, kBrTestUuid)->inventories["NET_BW_IGR_KILOBIT_PER_SEC"], 3000);
  // The other writer's trait is not ours to keep: the trait set is ours, replaced whole on the
  // next pass.
  EXPECT_TRUE(run().synced());
  EXPECT_THAT(held(placement_, kBrTestUuid)->traits, Not(Contains("HW_NIC_SRIOV")));
}

TEST_F(InventorySyncTest, PersistentConflictGivesUpAfterTenAttempts) {
  ASSERT_TRUE(run().synced());
  config_.ovs.bandwidths[0].ingress = BandwidthTotal::fixed(3000);
  int puts = 0;
  placement_.beforeCall = [&](const std::string& method, const std::string& path) {
    if (method != "PUT" ||
        path.find(std::string(kBrTestUuid) + "/inventories") == std::string::npos) {
      return;
    }
    ++puts;
    placement_.admin("PUT", std::string("/resource_providers/") + kBrTestUuid + "/aggregates",
                     {{"aggregates", nlohmann::json::array({nlohmann::json(uuid4().toString())})},
                      {"resource_provider_generation", generation(kBrTestUuid)}});
  };
  SyncReport report = run();
  EXPECT_EQ(report.status, SyncStatus::kIncomplete);
  EXPECT_EQ(puts, kMaxConflictRetries);
  EXPECT_THAT(report.errors, Contains(HasSubstr("generation conflict 10 times")));
  placement_.beforeCall = nullptr;
  EXPECT_TRUE(run().synced());
}

TEST_F(InventorySyncTest, PlacementDownThenUp) {
  placement_.setDown(true);
  SyncReport down = run();
  EXPECT_EQ(down.status, SyncStatus::kUnavailable);
  EXPECT_EQ(down.changes, 0);
  EXPECT_THAT(down.errors, ElementsAre(HasSubstr("placement unreachable")));
  placement_.setDown(false);
  EXPECT_TRUE(run().synced());
  expectScenarioTree(placement_);
}

TEST_F(InventorySyncTest, PlacementFailingMidwayStopsThePassAndTheNextOneCompletesIt) {
  // Placement dies right after the first provider is created.
  placement_.beforeCall = [&](const std::string& method, const std::string&) {
    if (method == "POST") placement_.failNextForTest(1000, 503);
  };
  SyncReport partial = run();
  EXPECT_EQ(partial.status, SyncStatus::kUnavailable);
  EXPECT_THAT(partial.errors, ElementsAre(HasSubstr("HTTP 503")));
  placement_.beforeCall = nullptr;
  placement_.failNextForTest(0, 503);
  SyncReport rest = run();
  EXPECT_TRUE(rest.synced()) << ::testing::PrintToString(rest.errors);
  expectScenarioTree(placement_);
}

TEST_F(InventorySyncTest, WrongParentIsFixed) {
  ASSERT_TRUE(run().synced());
  // An old tree: br-test hanging directly under the root (LP#1921150).
  const std::string root = rootUuid(placement_, "devstack0");
  auto moved = placement_.admin(
      "PUT", std::string("/resource_providers/") + kBrTestUuid,
      {{"name", "devstack0:Open vSwitch agent:br-test"}, {"parent_provider_uuid", root}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  placement_.clearCalls();
  EXPECT_TRUE(run().synced());
  EXPECT_THAT(placement_.writes(),
              ElementsAre("PUT /resource_providers/" + std::string(kBrTestUuid)));
  EXPECT_EQ(held(placement_, kBrTestUuid)->parent, kOvsAgentUuid);
}

TEST_F(InventorySyncTest, DeviceMovedToAnotherHypervisor) {
  ASSERT_TRUE(run().synced());
  config_.ovs.hypervisors["br-test"] = "hv1";
  SyncReport report = run();
  EXPECT_TRUE(report.synced()) << ::testing::PrintToString(report.errors);
  EXPECT_FALSE(held(placement_, kBrTestUuid));  // devstack0:...:br-test is gone
  const std::string hv1 = rootUuid(placement_, "hv1");
  ASSERT_FALSE(hv1.empty());
  auto tree = placement_.adminJson("GET", "/resource_providers?in_tree=" + hv1);
  std::set<std::string> names;
  for (const auto& rp : tree["resource_providers"]) names.insert(rp["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"hv1", "hv1:Open vSwitch agent",
                                          "hv1:Open vSwitch agent:br-test"}));
}

TEST_F(InventorySyncTest, ProviderNameTakenBySomeoneElseIsReported) {
  placement_.admin("POST", "/resource_providers", {{"name", "devstack0"}});
  placement_.admin("POST", "/resource_providers", {{"name", "devstack0:NIC Switch agent"}});
  SyncReport report = run();
  EXPECT_EQ(report.status, SyncStatus::kIncomplete);
  EXPECT_THAT(report.errors, ElementsAre(AllOf(HasSubstr("create provider devstack0:NIC Switch "
                                                         "agent"),
                                               HasSubstr("409"))));
  EXPECT_TRUE(held(placement_, kBrTestUuid));  // the rest went on
}

}  // namespace
}  // namespace bwfloor::agent::testing
