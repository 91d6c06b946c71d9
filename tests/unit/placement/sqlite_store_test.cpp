#include "placement/store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "placement/store/database_lock.h"

namespace bwfloor::placement {
namespace {

Provider makeProvider(const std::string& uuid, const std::string& name,
                      const std::string& parent = "", const std::string& root = "") {
  Provider p;
  p.uuid = uuid;
  p.name = name;
  p.generation = 1;
  p.parentUuid = parent;
  p.rootUuid = root.empty() ? uuid : root;
  p.createdAt = 1700000000;
  p.updatedAt = 1700000100;
  return p;
}

Consumer makeConsumer(const std::string& uuid, std::optional<std::string> type) {
  Consumer c;
  c.uuid = uuid;
  c.projectId = "project-1";
  c.userId = "user-1";
  c.consumerType = std::move(type);
  c.generation = 3;
  c.createdAt = 1700000200;
  c.updatedAt = 1700000300;
  return c;
}

void expectSameProvider(const Provider& want, const Provider& got) {
  SCOPED_TRACE("provider " + want.uuid);
  EXPECT_EQ(want.uuid, got.uuid);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.generation, got.generation);
  EXPECT_EQ(want.parentUuid, got.parentUuid);
  EXPECT_EQ(want.rootUuid, got.rootUuid);
  EXPECT_EQ(want.inventories, got.inventories);
  EXPECT_EQ(want.traits, got.traits);
  EXPECT_EQ(want.aggregates, got.aggregates);
  EXPECT_EQ(want.createdAt, got.createdAt);
  EXPECT_EQ(want.updatedAt, got.updatedAt);
}

void expectSameConsumer(const Consumer& want, const Consumer& got) {
  SCOPED_TRACE("consumer " + want.uuid);
  EXPECT_EQ(want.uuid, got.uuid);
  EXPECT_EQ(want.projectId, got.projectId);
  EXPECT_EQ(want.userId, got.userId);
  EXPECT_EQ(want.consumerType, got.consumerType);
  EXPECT_EQ(want.generation, got.generation);
  EXPECT_EQ(want.allocations, got.allocations);
  EXPECT_EQ(want.createdAt, got.createdAt);
  EXPECT_EQ(want.updatedAt, got.updatedAt);
}

const Provider* findProvider(const StoreSnapshot& snap, const std::string& uuid) {
  for (const auto& p : snap.providers) {
    if (p.uuid == uuid) return &p;
  }
  return nullptr;
}

const Consumer* findConsumer(const StoreSnapshot& snap, const std::string& uuid) {
  for (const auto& c : snap.consumers) {
    if (c.uuid == uuid) return &c;
  }
  return nullptr;
}

// Everything a snapshot holds, as comparable text: "unchanged" means this is equal.
std::string dump(const StoreSnapshot& snap) {
  std::string out;
  for (const auto& p : snap.providers) {
    out += "P " + p.uuid + " " + p.name + " g" + std::to_string(p.generation) +
           " parent=" + p.parentUuid + "\n";
    for (const auto& [rc, inv] : p.inventories) {
      out += "  I " + rc + " " + std::to_string(inv.total) + " " +
             std::to_string(inv.allocationRatio) + "\n";
    }
    for (const auto& t : p.traits) out += "  T " + t + "\n";
    for (const auto& a : p.aggregates) out += "  A " + a + "\n";
  }
  for (const auto& c : snap.consumers) {
    out += "C " + c.uuid + " g" + std::to_string(c.generation) + "\n";
    for (const auto& [rp, amounts] : c.allocations) {
      for (const auto& [rc, n] : amounts) {
        out.append("  ").append(rp).append(" ").append(rc).append(" ");
        out.append(std::to_string(n)).append("\n");
      }
    }
  }
  for (const auto& t : snap.customTraits) out += "CT " + t + "\n";
  for (const auto& [name, id] : snap.customResourceClasses) {
    out += "CRC " + name + " " + std::to_string(id) + "\n";
  }
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bwfloor_sqlite_store_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "placement.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteStore> openStore(SqliteOptions options = {}) {
    auto store = SqliteStore::open(path_, options);
    EXPECT_TRUE(store.has_value()) << store.error();
    return store ? std::move(store).value() : nullptr;
  }

  static ::testing::AssertionResult applied(SqliteStore& store, const StoreChanges& changes) {
    Status st = store.apply(changes);
    if (st) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << st.error();
  }

  StoreSnapshot loadAll(SqliteStore& store) {
    auto snap = store.load();
    EXPECT_TRUE(snap.has_value()) << snap.error();
    return snap ? std::move(snap).value() : StoreSnapshot{};
  }

  // Rows in `table`, read through a separate connection.
  int64_t countRows(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "SELECT count(*) FROM " + table;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  // A tree root > child > grandchild with every kind of row, and two consumers on it.
  static StoreChanges fullChanges() {
    StoreChanges ch;
    Provider root = makeProvider("aaaa-root", "compute-1");
    root.inventories["VCPU"] = Inventory{16, 2, 1, 8, 1, 1.5};
    root.inventories["MEMORY_MB"] = Inventory{65536, 512, 256, 32768, 256, 1.0};
    root.traits = {"HW_CPU_X86_AVX2", "CUSTOM_GOLD"};
    root.aggregates = {"agg-1", "agg-2"};
    Provider child = makeProvider("cccc-child", "compute-1:br-ex", "aaaa-root", "aaaa-root");
    child.inventories["NET_BW_EGR_KILOBIT_PER_SEC"] = Inventory{10000000, 0, 1, 10000000, 1, 1.0};
    child.traits = {"CUSTOM_PHYSNET_PUBLIC", "CUSTOM_VNIC_TYPE_NORMAL"};
    child.generation = 7;
    Provider grandchild =
        makeProvider("0000-grand", "compute-1:br-ex:eth0", "cccc-child", "aaaa-root");
    grandchild.inventories["CUSTOM_PACKETS"] = Inventory{1000, 0, 1, 1000, 10, 2.0};
    grandchild.aggregates = {"agg-3"};
    ch.upsertProviders = {root, child, grandchild};
    Consumer vm = makeConsumer("vm-1", "INSTANCE");
    vm.allocations["aaaa-root"] = {{"VCPU", 4}, {"MEMORY_MB", 2048}};
    vm.allocations["cccc-child"] = {{"NET_BW_EGR_KILOBIT_PER_SEC", 100000}};
    Consumer untyped = makeConsumer("vm-2", std::nullopt);
    untyped.allocations["0000-grand"] = {{"CUSTOM_PACKETS", 20}};
    ch.upsertConsumers = {vm, untyped};
    ch.addTraits = {"CUSTOM_GOLD", "CUSTOM_PHYSNET_PUBLIC", "CUSTOM_VNIC_TYPE_NORMAL"};
    ch.addResourceClasses = {{"CUSTOM_PACKETS", 10000}, {"CUSTOM_FPGA", 10001}};
    return ch;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, RoundTripsEverything) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  StoreChanges ch = fullChanges();
  ASSERT_TRUE(applied(*store, ch));
  StoreSnapshot snap = loadAll(*store);

  ASSERT_EQ(snap.providers.size(), 3u);
  // Parents before children, whatever the uuid order.
  EXPECT_EQ(snap.providers[0].uuid, "aaaa-root");
  EXPECT_EQ(snap.providers[1].uuid, "cccc-child");
  EXPECT_EQ(snap.providers[2].uuid, "0000-grand");
  for (const auto& want : ch.upsertProviders) {
    const Provider* got = findProvider(snap, want.uuid);
    ASSERT_NE(got, nullptr) << want.uuid;
    expectSameProvider(want, *got);
  }
  EXPECT_DOUBLE_EQ(findProvider(snap, "aaaa-root")->inventories.at("VCPU").allocationRatio, 1.5);

  ASSERT_EQ(snap.consumers.size(), 2u);
  for (const auto& want : ch.upsertConsumers) {
    const Consumer* got = findConsumer(snap, want.uuid);
    ASSERT_NE(got, nullptr) << want.uuid;
    expectSameConsumer(want, *got);
  }
  EXPECT_EQ(findConsumer(snap, "vm-1")->consumerType, std::optional<std::string>("INSTANCE"));
  EXPECT_EQ(findConsumer(snap, "vm-2")->consumerType, std::nullopt);

  EXPECT_EQ(snap.customTraits, (std::vector<std::string>{"CUSTOM_GOLD", "CUSTOM_PHYSNET_PUBLIC",
                                                         "CUSTOM_VNIC_TYPE_NORMAL"}));
  EXPECT_EQ(snap.customResourceClasses, (std::vector<std::pair<std::string, int>>{
                                            {"CUSTOM_PACKETS", 10000}, {"CUSTOM_FPGA", 10001}}));
}

TEST_F(SqliteStoreTest, EmptyDatabaseLoadsEmptyAndEmptyChangeIsANoOp) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->apply(StoreChanges{}));
  StoreSnapshot snap = loadAll(*store);
  EXPECT_TRUE(snap.providers.empty());
  EXPECT_TRUE(snap.consumers.empty());
  EXPECT_TRUE(snap.customTraits.empty());
  EXPECT_TRUE(snap.customResourceClasses.empty());
}

TEST_F(SqliteStoreTest, UpsertReplacesChildRows) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(applied(*store, fullChanges()));

  StoreChanges update;
  Provider root = makeProvider("aaaa-root", "compute-1-renamed");
  root.generation = 2;
  root.updatedAt = 1700009999;
  root.inventories["VCPU"] = Inventory{32, 0, 1, 32, 1, 4.0};  // MEMORY_MB dropped
  root.traits = {"COMPUTE_STATUS_DISABLED"};
  // no aggregates any more
  update.upsertProviders = {root};
  Consumer vm = makeConsumer("vm-1", std::nullopt);  // type cleared
  vm.generation = 4;
  vm.allocations["aaaa-root"] = {{"VCPU", 8}};
  update.upsertConsumers = {vm};
  ASSERT_TRUE(applied(*store, update));

  StoreSnapshot snap = loadAll(*store);
  ASSERT_EQ(snap.providers.size(), 3u);
  expectSameProvider(root, *findProvider(snap, "aaaa-root"));
  expectSameProvider(fullChanges().upsertProviders[1], *findProvider(snap, "cccc-child"));
  expectSameConsumer(vm, *findConsumer(snap, "vm-1"));
  expectSameConsumer(fullChanges().upsertConsumers[1], *findConsumer(snap, "vm-2"));
  EXPECT_EQ(countRows("inventories"), 3);
  EXPECT_EQ(countRows("provider_aggregates"), 1);
  EXPECT_EQ(countRows("allocations"), 2);
}

TEST_F(SqliteStoreTest, DeletesRemoveRowsAndTheirChildren) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(applied(*store, fullChanges()));

  StoreChanges del;
  del.deleteConsumers = {"vm-1", "vm-2"};
  del.deleteProviders = {"0000-grand", "cccc-child"};  // children first, as the caller orders
  del.deleteTraits = {"CUSTOM_PHYSNET_PUBLIC"};
  del.deleteResourceClasses = {"CUSTOM_PACKETS"};
  ASSERT_TRUE(applied(*store, del));

  StoreSnapshot snap = loadAll(*store);
  ASSERT_EQ(snap.providers.size(), 1u);
  EXPECT_EQ(snap.providers[0].uuid, "aaaa-root");
  EXPECT_TRUE(snap.consumers.empty());
  EXPECT_EQ(snap.customTraits,
            (std::vector<std::string>{"CUSTOM_GOLD", "CUSTOM_VNIC_TYPE_NORMAL"}));
  EXPECT_EQ(snap.customResourceClasses,
            (std::vector<std::pair<std::string, int>>{{"CUSTOM_FPGA", 10001}}));
  EXPECT_EQ(countRows("allocations"), 0);
  EXPECT_EQ(countRows("inventories"), 2);  // the root's only
  EXPECT_EQ(countRows("provider_traits"), 2);

  // Deleting what is not there is not an error.
  StoreChanges again;
  again.deleteProviders = {"cccc-child"};
  again.deleteConsumers = {"vm-1"};
  EXPECT_TRUE(store->apply(again));

  StoreChanges last;
  last.deleteProviders = {"aaaa-root"};
  ASSERT_TRUE(applied(*store, last));
  EXPECT_TRUE(loadAll(*store).providers.empty());
  EXPECT_EQ(countRows("inventories"), 0);
  EXPECT_EQ(countRows("provider_traits"), 0);
  EXPECT_EQ(countRows("provider_aggregates"), 0);
}

TEST_F(SqliteStoreTest, NamesMayMoveBetweenProvidersInOneChange) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  StoreChanges create;
  create.upsertProviders = {makeProvider("p-a", "alpha"), makeProvider("p-b", "beta"),
                            makeProvider("p-c", "gamma")};
  ASSERT_TRUE(applied(*store, create));

  // Swap two names, and hand a third to a new provider while its owner takes a new one.
  StoreChanges swap;
  swap.upsertProviders = {makeProvider("p-a", "beta"), makeProvider("p-b", "alpha"),
                          makeProvider("p-d", "gamma"), makeProvider("p-c", "delta")};
  ASSERT_TRUE(applied(*store, swap));
  // A deleted provider's name is free for a new one in the same change.
  StoreChanges replace;
  replace.deleteProviders = {"p-a"};
  replace.upsertProviders = {makeProvider("p-e", "beta")};
  ASSERT_TRUE(applied(*store, replace));

  StoreSnapshot snap = loadAll(*store);
  ASSERT_EQ(snap.providers.size(), 4u);
  EXPECT_EQ(findProvider(snap, "p-b")->name, "alpha");
  EXPECT_EQ(findProvider(snap, "p-c")->name, "delta");
  EXPECT_EQ(findProvider(snap, "p-d")->name, "gamma");
  EXPECT_EQ(findProvider(snap, "p-e")->name, "beta");
}

TEST_F(SqliteStoreTest, SurvivesCloseAndReopen) {
  StoreChanges ch = fullChanges();
  {
    auto store = openStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(applied(*store, ch));
  }
  for (bool normal : {false, true}) {
    SqliteOptions options;
    options.synchronousNormal = normal;
    auto store = openStore(options);
    ASSERT_NE(store, nullptr);
    StoreSnapshot snap = loadAll(*store);
    ASSERT_EQ(snap.providers.size(), 3u);
    for (const auto& want : ch.upsertProviders)
      expectSameProvider(want, *findProvider(snap, want.uuid));
    for (const auto& want : ch.upsertConsumers)
      expectSameConsumer(want, *findConsumer(snap, want.uuid));
    EXPECT_EQ(snap.customTraits.size(), 3u);
    EXPECT_EQ(snap.customResourceClasses.size(), 2u);
  }
  EXPECT_EQ(countRows("schema_version"), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::kSchemaVersion);
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, FailedApplyLeavesDatabaseUnchanged) {
  auto store = openStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(applied(*store, fullChanges()));
  const std::string before = dump(loadAll(*store));

  // A statement fails midway: the second new provider takes a name an untouched provider holds.
  StoreChanges clash;
  clash.deleteConsumers = {"vm-1"};
  clash.addTraits = {"CUSTOM_NEW"};
  clash.upsertProviders = {makeProvider("p-new-1", "fresh"), makeProvider("p-new-2", "compute-1")};
  Status st = store->apply(clash);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInternal);
  EXPECT_NE(st.error().message().find("upsert provider p-new-2"), std::string::npos)
      << st.error().message();
  EXPECT_NE(st.error().message().find("UNIQUE constraint failed: providers.name"),
            std::string::npos)
      << st.error().message();
  EXPECT_NE(st.error().message().find(path_), std::string::npos) << st.error().message();
  EXPECT_EQ(dump(loadAll(*store)), before);

  // The commit fails: a provider's parent does not exist (a deferred foreign key).
  StoreChanges orphan;
  orphan.deleteConsumers = {"vm-2"};
  orphan.upsertProviders = {makeProvider("p-orphan", "orphan", "no-such-parent", "no-such-parent")};
  st = store->apply(orphan);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInternal);
  EXPECT_NE(st.error().message().find("COMMIT"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find("FOREIGN KEY"), std::string::npos) << st.error().message();
  EXPECT_EQ(dump(loadAll(*store)), before);

  // Deleting a parent that still has a child fails the same way.
  StoreChanges parentOnly;
  parentOnly.deleteProviders = {"cccc-child"};
  EXPECT_FALSE(store->apply(parentOnly));
  EXPECT_EQ(dump(loadAll(*store)), before);

  // The store is still usable, and a reopened store sees the same.
  StoreChanges fine;
  fine.upsertProviders = {makeProvider("p-new-1", "fresh")};
  ASSERT_TRUE(applied(*store, fine));
  store.reset();
  store = openStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(loadAll(*store).providers.size(), 4u);
}

TEST_F(SqliteStoreTest, LockedDatabaseIsUnavailableAndChangesNothing) {
  SqliteOptions options;
  options.busyTimeoutMs = 50;
  auto store = openStore(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(applied(*store, fullChanges()));
  const std::string before = dump(loadAll(*store));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  StoreChanges ch;
  ch.upsertProviders = {makeProvider("p-late", "late")};
  Status st = store->apply(ch);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message().find("BEGIN IMMEDIATE"), std::string::npos)
      << st.error().message();
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_EQ(dump(loadAll(*store)), before);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(store->apply(ch));
  EXPECT_EQ(loadAll(*store).providers.size(), 4u);
}

TEST_F(SqliteStoreTest, OpenReportsBadPaths) {
  auto dir = SqliteStore::open(dir_.string());
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message().find(dir_.string()), std::string::npos) << dir.error();

  std::string missing = (dir_ / "no-such-dir" / "placement.db").string();
  auto noParent = SqliteStore::open(missing);
  ASSERT_FALSE(noParent.has_value());
  EXPECT_EQ(noParent.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(noParent.error().message().find(missing), std::string::npos) << noParent.error();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "no-such-dir"));

  std::string text = (dir_ / "notes.txt").string();
  std::ofstream(text) << "this is not a database, it is a text file that is long enough\n";
  auto notDb = SqliteStore::open(text);
  ASSERT_FALSE(notDb.has_value());
  EXPECT_NE(notDb.error().message().find("not a database"), std::string::npos) << notDb.error();

  EXPECT_FALSE(SqliteStore::open("").has_value());
}

TEST_F(SqliteStoreTest, OpenRefusesForeignOrNewerDatabases) {
  sqlite3* db = nullptr;
  std::string foreign = (dir_ / "foreign.db").string();
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE resource_providers (id INTEGER)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto notOurs = SqliteStore::open(foreign);
  ASSERT_FALSE(notOurs.has_value());
  EXPECT_EQ(notOurs.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(notOurs.error().message().find("not a bwfloor database"), std::string::npos)
      << notOurs.error();

  ASSERT_NE(openStore(), nullptr);  // creates version 1 at path_
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = SqliteStore::open(path_);
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(newer.error().message().find("schema version 99"), std::string::npos) << newer.error();
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.has_value()) << store.error();
  ASSERT_TRUE((*store)->apply(fullChanges()));
  auto snap = (*store)->load();
  ASSERT_TRUE(snap.has_value()) << snap.error();
  EXPECT_EQ(snap->providers.size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(":memory:"));
}

TEST_F(SqliteStoreTest, ConcurrentAppliesAndLoadsAreSerialised) {
  SqliteOptions options;
  options.synchronousNormal = true;
  auto store = openStore(options);
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        StoreChanges ch;
        Provider p = makeProvider("p-" + id, "name-" + id);
        p.inventories["VCPU"] = Inventory{8, 0, 1, 8, 1, 1.0};
        ch.upsertProviders = {p};
        if (!store->apply(ch)) ++failures;
        if (!store->load()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(loadAll(*store).providers.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(SqliteStoreConnectionTest, ParsesSqliteUrls) {
  auto path = [](std::string_view url) {
    auto r = sqlitePathFromConnection(url);
    EXPECT_TRUE(r.has_value()) << url << ": " << r.error();
    return r.value_or("<error>");
  };
  EXPECT_EQ(path("sqlite:////var/lib/bwfloor/placement.db"), "/var/lib/bwfloor/placement.db");
  EXPECT_EQ(path("sqlite:///placement.db"), "placement.db");
  EXPECT_EQ(path("sqlite:///data/placement.db"), "data/placement.db");
  EXPECT_EQ(path("sqlite://"), ":memory:");
  EXPECT_EQ(path("sqlite:///:memory:"), ":memory:");
  EXPECT_EQ(path("sqlite+pysqlite:////tmp/p.db"), "/tmp/p.db");
}

TEST(SqliteStoreConnectionTest, RejectsOtherValuesNamingThem) {
  auto fails = [](std::string_view url, std::string_view why) {
    auto r = sqlitePathFromConnection(url);
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find("sqlite:////absolute/path.db"), std::string::npos);
  };
  fails("mysql+pymysql://placement:secret@db.example/placement", "scheme 'mysql+pymysql'");
  fails("/var/lib/placement.db", "'/var/lib/placement.db': not a URL");
  fails("", "'': not a URL");
  fails("sqlite:", "not a URL");
  fails("sqlite://host/placement.db", "no host, got 'host'");
  fails("sqlite:///", "no file path");
  fails("sqlite:///placement.db?timeout=5", "query parameters");
  fails("postgresql://u@db/placement", "'postgresql://u@db/placement'");

  // A password never reaches the message (it ends up in logs).
  auto r = sqlitePathFromConnection("postgresql+psycopg2://placement:s3cr3t@db:5432/placement");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find("s3cr3t"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("postgresql+psycopg2://placement:***@db:5432/placement"),
            std::string::npos)
      << r.error();
}

// Issue 16: two servers on one SQLite file diverged silently. The second is refused, naming the
// first; the lock goes with its holder.
TEST(DatabaseLockTest, ASecondHolderIsRefusedNamingTheFirstUntilItLetsGo) {
  const std::string dir = ::testing::TempDir() + "/bwfloor-lock-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/placement.db";
  {
    auto first = DatabaseLock::acquire(db);
    ASSERT_TRUE(first) << first.error().message();
    auto second = DatabaseLock::acquire(db);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message().find("in use by another bwfloor-server (pid " +
                                            std::to_string(::getpid()) + ","),
              std::string::npos)
        << second.error().message();
    EXPECT_NE(second.error().message().find(db), std::string::npos);
  }
  EXPECT_TRUE(DatabaseLock::acquire(db)) << "the lock outlived its holder";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwfloor::placement
