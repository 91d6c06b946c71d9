// PlacementModel logic on a MemoryStore: trees, inventories, generations, capacity, the
// all-or-nothing rule, and concurrent writers.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/uuid.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement {
namespace {

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(model_.load()); }

  Provider create(const std::string& name, std::optional<std::string> parent = std::nullopt) {
    auto p = model_.createProvider(name, std::nullopt, parent);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().detail);
    return *p;
  }
  Provider withInventory(const Provider& p, const std::string& rc, Inventory inv) {
    auto cur = model_.getProvider(p.uuid);
    auto out = model_.setInventories(p.uuid, cur->generation, {{rc, inv}});
    EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().detail);
    return *out;
  }
  AllocationWrite claim(const std::string& consumer, const std::string& rp, const std::string& rc,
                        int64_t amount) {
    AllocationWrite w;
    w.consumerUuid = consumer;
    w.allocations[rp][rc] = amount;
    w.projectId = "project";
    w.userId = "user";
    return w;
  }

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PlacementModel model_{store_};
};

TEST_F(ModelTest, NestedProvidersShareTheRootAndReparentingMovesTheSubtree) {
  Provider root = create("devstack0");
  Provider agent = create("devstack0:Open vSwitch agent", root.uuid);
  Provider bridge = create("devstack0:Open vSwitch agent:br-test", agent.uuid);
  EXPECT_EQ(bridge.rootUuid, root.uuid);
  EXPECT_EQ(bridge.parentUuid, agent.uuid);

  Provider other = create("other");
  // Below 1.37 re-parenting is refused; from 1.37 it moves the whole subtree.
  auto refused = model_.updateProvider(agent.uuid, agent.name, other.uuid, true, false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().errc, placement::Errc::kInvalid);
  auto moved = model_.updateProvider(agent.uuid, agent.name, other.uuid, true, true);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(model_.getProvider(bridge.uuid)->rootUuid, other.uuid);
  // A loop is refused.
  auto loop = model_.updateProvider(other.uuid, other.name, bridge.uuid, true, true);
  ASSERT_FALSE(loop.has_value());
  EXPECT_NE(loop.error().detail.find("loop"), std::string::npos);
}

TEST_F(ModelTest, DeleteRefusesParentsAndProvidersWithAllocations) {
  Provider root = create("root");
  Provider child = create("child", root.uuid);
  auto st = model_.deleteProvider(root.uuid);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, "placement.resource_provider.cannot_delete_parent");

  withInventory(child, "VCPU", Inventory{.total = 4});
  ASSERT_TRUE(model_.writeAllocations({claim(uuid4().toString(), child.uuid, "VCPU", 1)}));
  st = model_.deleteProvider(child.uuid);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, "placement.resource_provider.inuse");
}

TEST_F(ModelTest, GenerationMismatchIsAConcurrentUpdateConflict) {
  Provider p = create("p");
  auto ok = model_.setInventories(p.uuid, 0, {{"VCPU", Inventory{.total = 8}}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->generation, 1);
  auto stale = model_.setInventories(p.uuid, 0, {{"VCPU", Inventory{.total = 4}}});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().errc, placement::Errc::kConflict);
  EXPECT_EQ(stale.error().code, kConcurrentUpdate);
  EXPECT_EQ(model_.getProvider(p.uuid)->inventories.at("VCPU").total, 8);
}

TEST_F(ModelTest, TraitChangeBumpsGenerationOnlyWhenTheSetChanges) {
  Provider p = create("p");
  ASSERT_TRUE(model_.createTrait("CUSTOM_PHYSNET_PHYSNET0").value());
  auto first = model_.setTraits(p.uuid, 0, {"CUSTOM_PHYSNET_PHYSNET0"});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->generation, 1);
  auto same = model_.setTraits(p.uuid, 1, {"CUSTOM_PHYSNET_PHYSNET0"});
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->generation, 1);
  auto unknown = model_.setTraits(p.uuid, 1, {"CUSTOM_NOPE"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().errc, placement::Errc::kInvalid);
}

TEST_F(ModelTest, CapacityUsesReservedRatioAndUnitRules) {
  Provider p = create("br-test");
  withInventory(p, "NET_BW_EGR_KILOBIT_PER_SEC",
                Inventory{.total = 1500,
                          .reserved = 100,
                          .minUnit = 10,
                          .maxUnit = 1000,
                          .stepSize = 10,
                          .allocationRatio = 1.0});
  const std::string rc = "NET_BW_EGR_KILOBIT_PER_SEC";
  EXPECT_FALSE(model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 5)}));     // < min
  EXPECT_FALSE(model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 1010)}));  // > max
  EXPECT_FALSE(model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 15)}));    // step
  ASSERT_TRUE(model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 1000)}));
  // 1500 - 100 reserved - 1000 used = 400 left.
  auto over = model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 410)});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().errc, placement::Errc::kConflict);
  EXPECT_TRUE(model_.writeAllocations({claim(uuid4().toString(), p.uuid, rc, 400)}));
  EXPECT_EQ(model_.providerUsage(p.uuid).at(rc), 1400);
}

TEST_F(ModelTest, ConsumerGenerationsFollowPlacement) {
  Provider p = create("p");
  withInventory(p, "VCPU", Inventory{.total = 8});
  std::string c = uuid4().toString();
  AllocationWrite w = claim(c, p.uuid, "VCPU", 2);
  w.checkGeneration = true;
  w.consumerGeneration = 0;  // a new consumer must be sent as null
  auto st = model_.writeAllocations({w});
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().detail, "consumer generation conflict - expected null but got 0");
  w.consumerGeneration.reset();
  ASSERT_TRUE(model_.writeAllocations({w}));
  EXPECT_EQ(model_.getConsumer(c)->generation, 1);
  // Removing every allocation deletes the consumer.
  w.allocations.clear();
  w.consumerGeneration = 1;
  ASSERT_TRUE(model_.writeAllocations({w}));
  EXPECT_FALSE(model_.getConsumer(c).has_value());
}

TEST_F(ModelTest, BulkWriteIsAllOrNothing) {
  Provider p = create("p");
  withInventory(p, "VCPU", Inventory{.total = 4});
  std::string a = uuid4().toString();
  std::string b = uuid4().toString();
  auto st = model_.writeAllocations({claim(a, p.uuid, "VCPU", 3), claim(b, p.uuid, "VCPU", 3)});
  ASSERT_FALSE(st.has_value());
  EXPECT_FALSE(model_.getConsumer(a).has_value());
  EXPECT_EQ(model_.providerUsage(p.uuid).at("VCPU"), 0);
}

TEST_F(ModelTest, StoreFailureLeavesMemoryUntouched) {
  Provider p = create("p");
  withInventory(p, "VCPU", Inventory{.total = 4});
  store_->failNextApplyForTest();
  std::string c = uuid4().toString();
  auto st = model_.writeAllocations({claim(c, p.uuid, "VCPU", 1)});
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().errc, placement::Errc::kUnavailable);
  EXPECT_FALSE(model_.getConsumer(c).has_value());
  EXPECT_EQ(model_.providerUsage(p.uuid).at("VCPU"), 0);
  EXPECT_EQ(model_.getProvider(p.uuid)->generation, 1);
}

TEST_F(ModelTest, ReloadFromStoreRebuildsUsageAndTrees) {
  Provider root = create("root");
  Provider child = create("child", root.uuid);
  withInventory(child, "VCPU", Inventory{.total = 4});
  ASSERT_TRUE(model_.writeAllocations({claim(uuid4().toString(), child.uuid, "VCPU", 3)}));
  PlacementModel reloaded(store_);
  ASSERT_TRUE(reloaded.load());
  EXPECT_EQ(reloaded.providerUsage(child.uuid).at("VCPU"), 3);
  EXPECT_TRUE(reloaded.hasChildren(root.uuid));
  EXPECT_EQ(reloaded.getProvider(child.uuid)->generation,
            model_.getProvider(child.uuid)->generation);
}

// 32 writers race for 100 units in steps of 1..3: the sum never exceeds capacity, and every
// successful claim is counted exactly once.
TEST_F(ModelTest, ConcurrentWritersNeverOverAllocate) {
  Provider a = create("a");
  Provider b = create("b");
  withInventory(a, "VCPU", Inventory{.total = 100});
  withInventory(b, "VCPU", Inventory{.total = 100});
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 32; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t amount = 1 + (t + i) % 3;
        // Each claim takes from both providers at once.
        AllocationWrite w = claim(uuid4().toString(), a.uuid, "VCPU", amount);
        w.allocations[b.uuid]["VCPU"] = amount;
        if (model_.writeAllocations({w})) granted += amount;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_LE(model_.providerUsage(a.uuid).at("VCPU"), 100);
  EXPECT_EQ(model_.providerUsage(a.uuid).at("VCPU"), granted.load());
  EXPECT_EQ(model_.providerUsage(b.uuid).at("VCPU"), granted.load());
  EXPECT_GE(granted.load(), 98);  // 32 x 50 requests are far more than the capacity
}

}  // namespace
}  // namespace bwfloor::placement
