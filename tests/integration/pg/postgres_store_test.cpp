// PostgresStore against a real PostgreSQL 15 (run_with_postgres.py starts a throwaway cluster and
// names it in BWFLOOR_TEST_PG): what one change writes loads back equal, a change that fails at
// COMMIT leaves nothing, replicas read each other's changes from the change log, the database
// refuses a write against a generation or capacity it no longer has, an older schema is migrated
// and schemas it does not own are refused.
#include "placement/store/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "placement/store/pg_connection.h"

namespace bwfloor::placement {
namespace {

using ::testing::HasSubstr;

Provider provider(const std::string& uuid, const std::string& name, const std::string& parent = "",
                  const std::string& root = "") {
  Provider p;
  p.uuid = uuid;
  p.name = name;
  p.generation = 3;
  p.parentUuid = parent;
  p.rootUuid = root.empty() ? uuid : root;
  p.createdAt = 1700000000;
  p.updatedAt = 1700000100;
  return p;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("BWFLOOR_TEST_PG");
    ASSERT_NE(base, nullptr) << "BWFLOOR_TEST_PG unset: run through run_with_postgres.py";
    static std::atomic<int> counter{0};
    database_ = "store_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    admin_ = std::string(base) + "/postgres";
    auto admin = PgConnection::open(admin_, "admin");
    ASSERT_TRUE(admin) << admin.error().message();
    ASSERT_TRUE((*admin)->run("CREATE DATABASE " + database_));
    url_ = std::string(base) + "/" + database_;
  }

  std::unique_ptr<PostgresStore> open() {
    auto store = PostgresStore::open(url_);
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  std::string database_;
  std::string admin_;
  std::string url_;
};

TEST_F(PostgresStoreTest, WhatAChangeWritesLoadsBackEqual) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  StoreChanges changes;
  Provider root = provider("11111111-1111-4111-8111-111111111111", "compute0");
  root.traits = {"HW_CPU_X86_AVX2", "CUSTOM_FAST"};
  root.aggregates = {"99999999-9999-4999-8999-999999999999"};
  Provider child =
      provider("22222222-2222-4222-8222-222222222222", "compute0:br-test", root.uuid, root.uuid);
  Inventory inv;
  inv.total = 10000;
  inv.reserved = 100;
  inv.minUnit = 1;
  inv.maxUnit = 5000;
  inv.stepSize = 1;
  inv.allocationRatio = 1.5;
  child.inventories["NET_BW_EGR_KILOBIT_PER_SEC"] = inv;
  changes.upsertProviders = {root, child};
  Consumer consumer;
  consumer.uuid = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
  consumer.projectId = "p";
  consumer.userId = "u";
  consumer.consumerType = "INSTANCE";
  consumer.generation = 2;
  consumer.createdAt = 1;
  consumer.updatedAt = 2;
  consumer.allocations[child.uuid]["NET_BW_EGR_KILOBIT_PER_SEC"] = 1000;
  changes.upsertConsumers = {consumer};
  changes.addTraits = {"CUSTOM_FAST"};
  changes.addResourceClasses = {{"CUSTOM_PONY", 10001}};
  ASSERT_TRUE(store->apply(changes));

  // A fresh connection (as a restarted server) reads what was committed.
  store.reset();
  store = open();
  ASSERT_NE(store, nullptr);
  auto snap = store->load();
  ASSERT_TRUE(snap) << snap.error().message();
  ASSERT_EQ(snap->providers.size(), 2U);
  EXPECT_EQ(snap->providers[0].uuid, root.uuid) << "parents first";
  EXPECT_EQ(snap->providers[0].traits, root.traits);
  EXPECT_EQ(snap->providers[0].aggregates, root.aggregates);
  EXPECT_EQ(snap->providers[1].parentUuid, root.uuid);
  EXPECT_EQ(snap->providers[1].inventories, child.inventories);
  EXPECT_EQ(snap->providers[1].generation, 3);
  ASSERT_EQ(snap->consumers.size(), 1U);
  EXPECT_EQ(snap->consumers[0].allocations, consumer.allocations);
  EXPECT_EQ(snap->consumers[0].consumerType, consumer.consumerType);
  EXPECT_EQ(snap->customTraits, std::vector<std::string>{"CUSTOM_FAST"});
  EXPECT_EQ(snap->customResourceClasses,
            (std::vector<std::pair<std::string, int>>{{"CUSTOM_PONY", 10001}}));

  // Two providers swap names in one change (uniqueness is checked at COMMIT).
  StoreChanges swap;
  Provider a = snap->providers[0];
  Provider b = snap->providers[1];
  std::swap(a.name, b.name);
  swap.upsertProviders = {a, b};
  swap.providerGenerations = {{a.uuid, 3}, {b.uuid, 3}};
  ASSERT_TRUE(store->apply(swap));
  snap = store->load();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->providers[0].name, "compute0:br-test");

  // Deleting the consumer takes its allocations with it.
  StoreChanges gone;
  gone.deleteConsumers = {consumer.uuid};
  gone.consumerGenerations = {{consumer.uuid, 2}};
  ASSERT_TRUE(store->apply(gone));
  snap = store->load();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->consumers.empty());
}

TEST_F(PostgresStoreTest, AChangeThatFailsAtCommitLeavesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  StoreChanges orphan;
  orphan.upsertProviders = {provider("33333333-3333-4333-8333-333333333333", "orphan",
                                     "44444444-4444-4444-8444-444444444444",
                                     "44444444-4444-4444-8444-444444444444")};
  orphan.addTraits = {"CUSTOM_NEVER"};
  auto st = store->apply(orphan);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("SQLSTATE 23503"));  // foreign key, at COMMIT
  auto snap = store->load();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->providers.empty());
  EXPECT_TRUE(snap->customTraits.empty());
  // The connection is usable after the rollback.
  StoreChanges fine;
  fine.addTraits = {"CUSTOM_FINE"};
  EXPECT_TRUE(store->apply(fine));
}

TEST_F(PostgresStoreTest, AReplicaReadsTheOthersChangesFromTheLog) {
  auto writer = open();
  auto follower = open();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(follower, nullptr);
  auto start = follower->load();
  ASSERT_TRUE(start);
  StoreChanges one;
  one.upsertProviders = {provider("55555555-5555-4555-8555-555555555555", "compute5")};
  one.addTraits = {"CUSTOM_LOGGED"};
  ASSERT_TRUE(writer->apply(one));
  const int64_t seq = writer->committedSeq();
  EXPECT_GT(seq, start->seq);

  auto read = follower->changesAfter(start->seq);
  ASSERT_TRUE(read) << read.error().message();
  ASSERT_EQ(read->changes.size(), 1U);
  EXPECT_EQ(read->changes[0].first, seq);
  ASSERT_EQ(read->changes[0].second.upsertProviders.size(), 1U);
  EXPECT_EQ(read->changes[0].second.upsertProviders[0].name, "compute5");
  EXPECT_EQ(read->changes[0].second.addTraits, one.addTraits);
  EXPECT_FALSE(read->reloadNeeded);

  // A writer that has not seen it gets it with the write lock, before it validates.
  auto begun = follower->beginWrite(start->seq);
  ASSERT_TRUE(begun) << begun.error().message();
  EXPECT_EQ(begun->changes.size(), 1U);
  follower->abortWrite();
  auto after = follower->changesAfter(seq);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->changes.empty());

  // A snapshot carries the head it is consistent with.
  auto snap = follower->load();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->seq, seq);

  // Entries trimmed away: the reader must reload.
  auto db = PgConnection::open(url_, "test");
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->run("INSERT INTO change_log_trim VALUES ('placement', " + pgInt(seq) + ")"));
  auto behind = follower->changesAfter(start->seq);
  ASSERT_TRUE(behind);
  EXPECT_TRUE(behind->reloadNeeded);
}

TEST_F(PostgresStoreTest, TheDatabaseRefusesAWriteAgainstWhatItNoLongerHas) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Provider p = provider("66666666-6666-4666-8666-666666666666", "compute6");
  Inventory inv;
  inv.total = 1000;
  p.inventories["NET_BW_EGR_KILOBIT_PER_SEC"] = inv;
  StoreChanges create;
  create.upsertProviders = {p};
  ASSERT_TRUE(store->apply(create));

  // Created again as new, or updated from a generation it no longer has: refused.
  auto again = store->apply(create);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  StoreChanges stale = create;
  stale.providerGenerations = {{p.uuid, 2}};
  auto refused = store->apply(stale);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("changed since this server read it"));

  // Usage beyond capacity where the write makes it grow: refused, and nothing is kept.
  auto claim = [&](const std::string& uuid, int64_t amount) {
    StoreChanges c;
    Consumer consumer;
    consumer.uuid = uuid;
    consumer.projectId = consumer.userId = "x";
    consumer.generation = 1;
    consumer.allocations[p.uuid]["NET_BW_EGR_KILOBIT_PER_SEC"] = amount;
    c.upsertConsumers = {consumer};
    c.usageGrows = {{p.uuid, "NET_BW_EGR_KILOBIT_PER_SEC"}};
    return store->apply(c);
  };
  ASSERT_TRUE(claim("aaaaaaaa-0000-4000-8000-000000000001", 600));
  auto over = claim("aaaaaaaa-0000-4000-8000-000000000002", 500);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(over.error().message(), HasSubstr("would exceed its capacity"));
  EXPECT_TRUE(claim("aaaaaaaa-0000-4000-8000-000000000003", 400));
  auto snap = store->load();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->consumers.size(), 2U);
}

TEST_F(PostgresStoreTest, AVersion1SchemaIsMigrated) {
  ASSERT_NE(open(), nullptr);
  auto db = PgConnection::open(url_, "test");
  ASSERT_TRUE(db);
  // Back to what version 1 had.
  ASSERT_TRUE(
      (*db)->run("DROP TABLE change_log; DROP TABLE change_log_trim;"
                 " DROP INDEX allocations_provider;"
                 " DELETE FROM schema_version WHERE version = 2"));
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto v = (*db)->exec("SELECT max(version) FROM schema_version");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->integer(0, 0), PostgresStore::kSchemaVersion);
  StoreChanges one;
  one.addTraits = {"CUSTOM_AFTER_MIGRATION"};
  EXPECT_TRUE(store->apply(one));
  EXPECT_GT(store->committedSeq(), 0);
}

TEST_F(PostgresStoreTest, ANewerSchemaOrAForeignDatabaseIsRefused) {
  ASSERT_NE(open(), nullptr);
  auto db = PgConnection::open(url_, "test");
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->run("INSERT INTO schema_version VALUES (99, 0)"));
  auto newer = PostgresStore::open(url_);
  ASSERT_FALSE(newer);
  EXPECT_THAT(newer.error().message(), HasSubstr("schema version 99, newer than"));

  auto admin = PgConnection::open(admin_, "admin");
  ASSERT_TRUE(admin);
  ASSERT_TRUE((*admin)->run("CREATE DATABASE " + database_ + "_other"));
  const std::string other = url_ + "_other";
  auto foreign = PgConnection::open(other, "test");
  ASSERT_TRUE(foreign);
  ASSERT_TRUE((*foreign)->run("CREATE TABLE payroll (id INT)"));
  auto refused = PostgresStore::open(other);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("not a bwfloor database"));
}

TEST(PostgresConnectionTest, ConnectionTextsAreCheckedAndExplained) {
  EXPECT_EQ(postgresConninfoFromConnection("postgresql+psycopg2://u:p@db:5432/placement").value(),
            "postgresql://u:p@db:5432/placement");
  auto noDb = postgresConninfoFromConnection("postgresql://u:secret@db:5432");
  ASSERT_FALSE(noDb);
  EXPECT_THAT(noDb.error().message(), HasSubstr("no database name"));
  EXPECT_THAT(noDb.error().message(), ::testing::Not(HasSubstr("secret")));
  auto badOption = postgresConninfoFromConnection("postgresql://u@db/placement?colour=red");
  ASSERT_FALSE(badOption);
  EXPECT_THAT(badOption.error().message(), HasSubstr("colour"));
  EXPECT_FALSE(postgresConninfoFromConnection("mysql+pymysql://u@db/placement"));
  auto down = PgConnection::open("postgresql://u@127.0.0.1:1/none?connect_timeout=2", "store");
  ASSERT_FALSE(down);
  EXPECT_THAT(down.error().message(), HasSubstr("cannot connect to postgresql://u@127.0.0.1:1"));
}

}  // namespace
}  // namespace bwfloor::placement
