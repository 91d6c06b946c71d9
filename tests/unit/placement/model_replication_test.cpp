// Two PlacementModels as two replicas on one shared store (a fake of the PostgreSQL change log
// through the Store seam): a replica applies the other's writes when it catches up, a write
// applies them before it validates (so two replicas can never over-allocate), a replica too far
// behind the log reloads, and the change-log codec carries every field.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <mutex>

#include "placement/model/placement_model.h"
#include "placement/store/change_codec.h"

namespace bwfloor::placement {
namespace {

using ::testing::HasSubstr;

// The database: a snapshot and the log of every change, as PostgresStore keeps them.
struct FakeDatabase {
  MemoryStore tables;
  std::vector<std::pair<int64_t, StoreChanges>> log;
  int64_t trimmedThrough = 0;
  int64_t head() const { return log.empty() ? 0 : log.back().first; }
};

// One replica's connection to it. Single-threaded tests: no write lock is needed.
class FakeSharedStore : public Store {
 public:
  explicit FakeSharedStore(std::shared_ptr<FakeDatabase> db) : db_(std::move(db)) {}
  Result<StoreSnapshot> load() override {
    ASSIGN_OR_RETURN(StoreSnapshot snap, db_->tables.load());
    snap.seq = db_->head();
    return snap;
  }
  Status apply(const StoreChanges& changes) override {
    if (changes.empty()) return Status::ok();
    // What the database checks again in SQL: here the generation of every provider written.
    for (const auto& p : changes.upsertProviders) {
      auto snap = db_->tables.load().value();
      for (const auto& stored : snap.providers) {
        auto seen = changes.providerGenerations.find(p.uuid);
        if (stored.uuid == p.uuid &&
            (seen == changes.providerGenerations.end() || seen->second != stored.generation)) {
          return makeError(ErrorCode::kConflict, "changed since this server read it");
        }
      }
    }
    RETURN_IF_ERROR(db_->tables.apply(changes));
    db_->log.emplace_back(db_->head() + 1, changes);
    committed_ = db_->head();
    return Status::ok();
  }
  bool shared() const override { return true; }
  Result<OthersChanges> beginWrite(int64_t seq) override {
    ++writesBegun;
    return changesAfter(seq);
  }
  int64_t committedSeq() const override { return committed_; }
  Result<OthersChanges> changesAfter(int64_t seq) override {
    OthersChanges out;
    out.head = db_->head();
    if (seq < db_->trimmedThrough) {
      out.reloadNeeded = true;
      return out;
    }
    for (const auto& entry : db_->log) {
      if (entry.first > seq) out.changes.push_back(entry);
    }
    return out;
  }
  int writesBegun = 0;

 private:
  std::shared_ptr<FakeDatabase> db_;
  int64_t committed_ = 0;
};

constexpr const char* kEgress = "NET_BW_EGR_KILOBIT_PER_SEC";

class ReplicatedModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a_.load());
    ASSERT_TRUE(b_.load());
  }
  AllocationWrite claim(const std::string& consumer, const std::string& rp, int64_t amount) {
    AllocationWrite w;
    w.consumerUuid = consumer;
    w.allocations[rp][kEgress] = amount;
    w.projectId = "project";
    w.userId = "user";
    return w;
  }
  Provider bridge(PlacementModel& m, int64_t total) {
    auto p = m.createProvider("compute0:br-test", std::nullopt, std::nullopt);
    EXPECT_TRUE(p) << p.error().detail;
    Inventory inv;
    inv.total = total;
    auto out = m.setInventories(p->uuid, p->generation, {{kEgress, inv}});
    EXPECT_TRUE(out) << out.error().detail;
    return *out;
  }

  std::shared_ptr<FakeDatabase> db_ = std::make_shared<FakeDatabase>();
  std::shared_ptr<FakeSharedStore> storeA_ = std::make_shared<FakeSharedStore>(db_);
  std::shared_ptr<FakeSharedStore> storeB_ = std::make_shared<FakeSharedStore>(db_);
  PlacementModel a_{storeA_};
  PlacementModel b_{storeB_};
};

TEST_F(ReplicatedModelTest, AReplicaSeesTheOthersWritesWhenItCatchesUp) {
  Provider p = bridge(a_, 1000);
  ASSERT_TRUE(a_.writeAllocations({claim("c1", p.uuid, 300)}));
  EXPECT_FALSE(b_.getProvider(p.uuid)) << "not before it catches up";
  ASSERT_TRUE(b_.catchUp());
  auto seen = b_.getProvider(p.uuid);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->generation, a_.getProvider(p.uuid)->generation);
  EXPECT_EQ(b_.providerUsage(p.uuid).at(kEgress), 300);
  EXPECT_EQ(b_.appliedSeq(), a_.appliedSeq());
  // The indexes followed too: by name, and by what still fits.
  ProviderFilter byName;
  byName.name = "compute0:br-test";
  EXPECT_EQ(b_.listProviders(byName).size(), 1U);
  ProviderFilter fits;
  fits.resources[kEgress] = 800;
  EXPECT_TRUE(b_.listProviders(fits).empty()) << "700 left";
  // Deletes follow as well.
  ASSERT_TRUE(a_.deleteAllocations("c1"));
  ASSERT_TRUE(b_.catchUp());
  EXPECT_EQ(b_.providerUsage(p.uuid).at(kEgress), 0);
  EXPECT_FALSE(b_.getConsumer("c1"));
}

TEST_F(ReplicatedModelTest, AWriteAppliesTheOthersWritesBeforeItValidates) {
  Provider p = bridge(a_, 1000);
  ASSERT_TRUE(b_.catchUp());
  ASSERT_TRUE(a_.writeAllocations({claim("c1", p.uuid, 600)}));
  // b has not caught up: on its own view 500 would fit. Its write must see a's claim first.
  auto over = b_.writeAllocations({claim("c2", p.uuid, 500)});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().errc, Errc::kConflict);
  EXPECT_EQ(b_.providerUsage(p.uuid).at(kEgress), 600);
  ASSERT_TRUE(b_.writeAllocations({claim("c3", p.uuid, 400)}));
  ASSERT_TRUE(a_.catchUp());
  EXPECT_EQ(a_.providerUsage(p.uuid).at(kEgress), 1000);
  // A generation-checked write on a's view after b changed the provider: a catches up first and
  // answers the generation conflict the client must see.
  const int64_t seen = a_.getProvider(p.uuid)->generation;
  ASSERT_TRUE(b_.createTrait("CUSTOM_B"));
  ASSERT_TRUE(b_.setTraits(p.uuid, b_.getProvider(p.uuid)->generation, {"CUSTOM_B"}));
  auto stale = a_.setTraits(p.uuid, seen, {});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().errc, Errc::kConflict);
  EXPECT_EQ(a_.getProvider(p.uuid)->traits, std::set<std::string>{"CUSTOM_B"});
}

TEST_F(ReplicatedModelTest, AReplicaBehindTheTrimmedLogReloads) {
  Provider p = bridge(a_, 1000);
  ASSERT_TRUE(a_.writeAllocations({claim("c1", p.uuid, 250)}));
  db_->trimmedThrough = db_->head();  // b's position is no longer in the log
  ASSERT_TRUE(b_.catchUp());
  EXPECT_EQ(b_.providerUsage(p.uuid).at(kEgress), 250);
  EXPECT_EQ(b_.appliedSeq(), db_->head());
}

TEST_F(ReplicatedModelTest, CurrentAsOfAdvancesWithEachCatchUp) {
  const auto before = b_.currentAsOf();
  ASSERT_TRUE(b_.catchUp());
  EXPECT_GT(b_.currentAsOf(), before);
  PlacementModel alone(std::make_shared<MemoryStore>());
  ASSERT_TRUE(alone.load());
  const auto now = std::chrono::steady_clock::now();
  EXPECT_GE(alone.currentAsOf(), now) << "a store only this server writes is always current";
}

TEST(ChangeCodecTest, EveryFieldRoundTripsAndAMalformedEntryIsNamed) {
  StoreChanges c;
  Provider p;
  p.uuid = "11111111-1111-4111-8111-111111111111";
  p.name = "n";
  p.generation = 7;
  p.parentUuid = "22222222-2222-4222-8222-222222222222";
  p.rootUuid = p.parentUuid;
  Inventory inv{100, 5, 2, 50, 2, 1.5};
  p.inventories[kEgress] = inv;
  p.traits = {"CUSTOM_X"};
  p.aggregates = {"33333333-3333-4333-8333-333333333333"};
  p.createdAt = 1;
  p.updatedAt = 2;
  c.upsertProviders = {p};
  c.deleteProviders = {"d1"};
  Consumer k;
  k.uuid = "c";
  k.projectId = "pr";
  k.userId = "us";
  k.consumerType = "INSTANCE";
  k.generation = 3;
  k.allocations[p.uuid][kEgress] = 10;
  c.upsertConsumers = {k};
  c.deleteConsumers = {"d2"};
  c.addTraits = {"CUSTOM_X"};
  c.deleteTraits = {"CUSTOM_Y"};
  c.addResourceClasses = {{"CUSTOM_Z", 10001}};
  c.deleteResourceClasses = {"CUSTOM_W"};
  auto back = decodeStoreChanges(encodeStoreChanges(c));
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->upsertProviders.size(), 1U);
  const Provider& q = back->upsertProviders[0];
  EXPECT_EQ(std::tie(q.uuid, q.name, q.generation, q.parentUuid, q.rootUuid, q.traits, q.aggregates,
                     q.createdAt, q.updatedAt),
            std::tie(p.uuid, p.name, p.generation, p.parentUuid, p.rootUuid, p.traits, p.aggregates,
                     p.createdAt, p.updatedAt));
  EXPECT_EQ(q.inventories, p.inventories);
  ASSERT_EQ(back->upsertConsumers.size(), 1U);
  EXPECT_EQ(back->upsertConsumers[0].allocations, k.allocations);
  EXPECT_EQ(back->upsertConsumers[0].consumerType, k.consumerType);
  EXPECT_EQ(back->deleteProviders, c.deleteProviders);
  EXPECT_EQ(back->deleteConsumers, c.deleteConsumers);
  EXPECT_EQ(back->addTraits, c.addTraits);
  EXPECT_EQ(back->deleteTraits, c.deleteTraits);
  EXPECT_EQ(back->addResourceClasses, c.addResourceClasses);
  EXPECT_EQ(back->deleteResourceClasses, c.deleteResourceClasses);

  auto bad = decodeStoreChanges(R"({"providers": [{"uuid": 5}]})");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("change log entry"));
  EXPECT_FALSE(decodeStoreChanges("not json"));
}

}  // namespace
}  // namespace bwfloor::placement
