#include "placement/store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "core/logging.h"
#include "placement/store/pg_connection.h"

namespace bwfloor::placement {

// Schema, version 1. Every table is WITHOUT ROWID: the keys are short text, so the rows live in
// the primary-key b-tree itself instead of a rowid table plus a key index.
//
// providers.name is UNIQUE but nullable: a change set may move a name from one provider to
// another (A renamed away, B takes A's old name, or two names swapped). SQLite checks UNIQUE per
// statement and cannot defer it, so when a change upserts several providers, apply() first sets
// the name of each one whose name changes to NULL (NULLs never collide), then writes the new
// names. Outside apply() no name is NULL. Deletes run before upserts, so a deleted provider's name
// is free for a new one. parent_uuid is a foreign key checked at COMMIT (DEFERRABLE INITIALLY
// DEFERRED): statement order within a change cannot trip it, but a provider left with a missing
// parent, or a parent deleted under a child, fails the whole transaction.
//
// allocations.provider_uuid has no foreign key, as in Placement: the model refuses to delete a
// provider that has allocations, and no index on it is kept for a check nobody needs on each write.
namespace {

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY NOT NULL,
  applied_at INTEGER NOT NULL
);
CREATE TABLE providers (
  uuid TEXT PRIMARY KEY NOT NULL,
  name TEXT UNIQUE,
  generation INTEGER NOT NULL,
  parent_uuid TEXT REFERENCES providers (uuid) DEFERRABLE INITIALLY DEFERRED,
  root_uuid TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX providers_parent_uuid ON providers (parent_uuid);
CREATE TABLE inventories (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  resource_class TEXT NOT NULL,
  total INTEGER NOT NULL,
  reserved INTEGER NOT NULL,
  min_unit INTEGER NOT NULL,
  max_unit INTEGER NOT NULL,
  step_size INTEGER NOT NULL,
  allocation_ratio REAL NOT NULL,
  PRIMARY KEY (provider_uuid, resource_class)
) WITHOUT ROWID;
CREATE TABLE provider_traits (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  trait TEXT NOT NULL,
  PRIMARY KEY (provider_uuid, trait)
) WITHOUT ROWID;
CREATE TABLE provider_aggregates (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  aggregate TEXT NOT NULL,
  PRIMARY KEY (provider_uuid, aggregate)
) WITHOUT ROWID;
CREATE TABLE consumers (
  uuid TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  consumer_type TEXT,
  generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE allocations (
  consumer_uuid TEXT NOT NULL REFERENCES consumers (uuid) ON DELETE CASCADE,
  provider_uuid TEXT NOT NULL,
  resource_class TEXT NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (consumer_uuid, provider_uuid, resource_class)
) WITHOUT ROWID;
CREATE TABLE custom_traits (
  name TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;
CREATE TABLE custom_resource_classes (
  name TEXT PRIMARY KEY NOT NULL,
  id INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
)sql";

// Busy, locked, I/O, disk full, can't open, read-only: the world outside, worth a retry.
// Anything else (constraint, corrupt file, misuse) is a bug or needs an operator: kInternal.
ErrorCode codeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

int sysErrnoFor(sqlite3* db, int rc) {
  int primary = rc & 0xff;
  bool fromOs = primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL;
  return fromOs && db != nullptr ? sqlite3_system_errno(db) : 0;
}

Error sqliteError(sqlite3* db, const std::string& path, std::string_view what, int rc) {
  std::string message = "sqlite store " + path + ": " + std::string(what) + " failed: ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (sqlite code " + std::to_string(rc) + ")";
  return makeError(codeFor(rc), std::move(message), sysErrnoFor(db, rc));
}

// One-off statements at open(): pragmas and the schema script.
Status execSql(sqlite3* db, const std::string& path, std::string_view what, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db, path, what, rc);
  return Status::ok();
}

// The first column of the first row of a one-off query, as text ("" when no row).
Result<std::string> queryText(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (rc != SQLITE_OK) return sqliteError(db, path, sql, rc);
  rc = sqlite3_step(raw);
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return sqliteError(db, path, sql, rc);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  return std::string(text != nullptr ? text : "");
}

Status configure(sqlite3* db, const std::string& path, const SqliteOptions& options) {
  int rc = sqlite3_busy_timeout(db, options.busyTimeoutMs);
  if (rc != SQLITE_OK) return sqliteError(db, path, "busy_timeout", rc);
  RETURN_IF_ERROR(execSql(db, path, "PRAGMA foreign_keys", "PRAGMA foreign_keys = ON"));
  ASSIGN_OR_RETURN(std::string foreignKeys, queryText(db, path, "PRAGMA foreign_keys"));
  if (foreignKeys != "1") {
    return makeError(ErrorCode::kUnsupported,
                     "sqlite store " + path + ": this SQLite build cannot enforce foreign keys");
  }
  ASSIGN_OR_RETURN(std::string mode, queryText(db, path, "PRAGMA journal_mode = WAL"));
  if (mode != "wal" && mode != "memory") {
    return makeError(ErrorCode::kUnsupported, "sqlite store " + path +
                                                  ": cannot use WAL journal mode (got '" + mode +
                                                  "'); is the file on a network file system?");
  }
  const char* sync =
      options.synchronousNormal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL";
  return execSql(db, path, "PRAGMA synchronous", sync);
}

// Creates the schema in an empty database, accepts our current version, refuses anything else.
Status ensureSchema(sqlite3* db, const std::string& path) {
  RETURN_IF_ERROR(execSql(db, path, "BEGIN IMMEDIATE (schema)", "BEGIN IMMEDIATE"));
  auto check = [&]() -> Status {
    ASSIGN_OR_RETURN(std::string version, queryText(db, path, "PRAGMA user_version"));
    if (version == std::to_string(SqliteStore::kSchemaVersion)) return Status::ok();
    if (version != "0") {
      return makeError(ErrorCode::kUnsupported,
                       "sqlite store " + path + ": schema version " + version +
                           " is not supported (this build knows version " +
                           std::to_string(SqliteStore::kSchemaVersion) + ")");
    }
    ASSIGN_OR_RETURN(
        std::string tables,
        queryText(db, path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"));
    if (tables != "0") {
      return makeError(ErrorCode::kInvalidArgument,
                       "sqlite store " + path + ": not a bwfloor database (schema version 0 but " +
                           tables + " tables); refusing to add tables to it");
    }
    RETURN_IF_ERROR(execSql(db, path, "create schema", kSchemaSql));
    std::string record =
        "INSERT INTO schema_version (version, applied_at) VALUES (" +
        std::to_string(SqliteStore::kSchemaVersion) + ", " + std::to_string(std::time(nullptr)) +
        "); PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion) + ";";
    return execSql(db, path, "record schema version", record.c_str());
  };
  Status st = check();
  if (!st) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  return execSql(db, path, "COMMIT (schema)", "COMMIT");
}

// Binding: text is SQLITE_STATIC because every argument outlives the statement's step.
int bindOne(sqlite3_stmt* stmt, int index, std::string_view value) {
  return sqlite3_bind_text(stmt, index, value.data(), static_cast<int>(value.size()),
                           SQLITE_STATIC);
}
int bindOne(sqlite3_stmt* stmt, int index, const std::string& value) {
  return bindOne(stmt, index, std::string_view(value));
}
int bindOne(sqlite3_stmt* stmt, int index, std::optional<std::string_view> value) {
  return value ? bindOne(stmt, index, *value) : sqlite3_bind_null(stmt, index);
}
int bindOne(sqlite3_stmt* stmt, int index, int64_t value) {
  return sqlite3_bind_int64(stmt, index, value);
}
int bindOne(sqlite3_stmt* stmt, int index, double value) {
  return sqlite3_bind_double(stmt, index, value);
}

std::optional<std::string_view> nullIfEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return value;
}

std::string columnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text != nullptr ? std::string(text, sqlite3_column_bytes(stmt, column)) : std::string();
}

// Resets a cached statement when a use of it ends, however it ends.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ResetOnExit() { sqlite3_reset(stmt_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

enum class SqliteStore::Sql : int {
  kBeginWrite,
  kBeginRead,
  kCommit,
  kRollback,
  kUpsertProvider,
  kParkProviderName,
  kDeleteProvider,
  kDeleteInventories,
  kInsertInventory,
  kDeleteProviderTraits,
  kInsertProviderTrait,
  kDeleteProviderAggregates,
  kInsertProviderAggregate,
  kUpsertConsumer,
  kDeleteConsumer,
  kDeleteAllocations,
  kInsertAllocation,
  kAddTrait,
  kDeleteTrait,
  kAddResourceClass,
  kDeleteResourceClass,
  kSelectProviders,
  kSelectInventories,
  kSelectProviderTraits,
  kSelectProviderAggregates,
  kSelectConsumers,
  kSelectAllocations,
  kSelectTraits,
  kSelectResourceClasses,
  kCount,
};

std::pair<const char*, const char*> SqliteStore::statementText(Sql which) {
  switch (which) {
    case Sql::kBeginWrite:
      return {"BEGIN IMMEDIATE", "BEGIN IMMEDIATE"};
    case Sql::kBeginRead:
      return {"BEGIN", "BEGIN"};
    case Sql::kCommit:
      return {"COMMIT", "COMMIT"};
    case Sql::kRollback:
      return {"ROLLBACK", "ROLLBACK"};
    case Sql::kUpsertProvider:
      return {"upsert provider",
              "INSERT INTO providers (uuid, name, generation, parent_uuid, root_uuid, created_at,"
              " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (uuid) DO UPDATE SET"
              " name = excluded.name, generation = excluded.generation,"
              " parent_uuid = excluded.parent_uuid, root_uuid = excluded.root_uuid,"
              " created_at = excluded.created_at, updated_at = excluded.updated_at"};
    case Sql::kParkProviderName:
      return {"free provider name",
              "UPDATE providers SET name = NULL WHERE uuid = ?1 AND name IS NOT ?2"};
    case Sql::kDeleteProvider:
      return {"delete provider", "DELETE FROM providers WHERE uuid = ?1"};
    case Sql::kDeleteInventories:
      return {"delete inventories", "DELETE FROM inventories WHERE provider_uuid = ?1"};
    case Sql::kInsertInventory:
      return {"insert inventory",
              "INSERT INTO inventories (provider_uuid, resource_class, total, reserved, min_unit,"
              " max_unit, step_size, allocation_ratio) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
    case Sql::kDeleteProviderTraits:
      return {"delete provider traits", "DELETE FROM provider_traits WHERE provider_uuid = ?1"};
    case Sql::kInsertProviderTrait:
      return {"insert provider trait",
              "INSERT INTO provider_traits (provider_uuid, trait) VALUES (?1, ?2)"};
    case Sql::kDeleteProviderAggregates:
      return {"delete provider aggregates",
              "DELETE FROM provider_aggregates WHERE provider_uuid = ?1"};
    case Sql::kInsertProviderAggregate:
      return {"insert provider aggregate",
              "INSERT INTO provider_aggregates (provider_uuid, aggregate) VALUES (?1, ?2)"};
    case Sql::kUpsertConsumer:
      return {"upsert consumer",
              "INSERT INTO consumers (uuid, project_id, user_id, consumer_type, generation,"
              " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (uuid)"
              " DO UPDATE SET project_id = excluded.project_id, user_id = excluded.user_id,"
              " consumer_type = excluded.consumer_type, generation = excluded.generation,"
              " created_at = excluded.created_at, updated_at = excluded.updated_at"};
    case Sql::kDeleteConsumer:
      return {"delete consumer", "DELETE FROM consumers WHERE uuid = ?1"};
    case Sql::kDeleteAllocations:
      return {"delete allocations", "DELETE FROM allocations WHERE consumer_uuid = ?1"};
    case Sql::kInsertAllocation:
      return {"insert allocation",
              "INSERT INTO allocations (consumer_uuid, provider_uuid, resource_class, used)"
              " VALUES (?1, ?2, ?3, ?4)"};
    case Sql::kAddTrait:
      return {"add custom trait",
              "INSERT INTO custom_traits (name) VALUES (?1) ON CONFLICT (name) DO NOTHING"};
    case Sql::kDeleteTrait:
      return {"delete custom trait", "DELETE FROM custom_traits WHERE name = ?1"};
    case Sql::kAddResourceClass:
      return {"add custom resource class",
              "INSERT INTO custom_resource_classes (name, id) VALUES (?1, ?2)"
              " ON CONFLICT (name) DO UPDATE SET id = excluded.id"};
    case Sql::kDeleteResourceClass:
      return {"delete custom resource class",
              "DELETE FROM custom_resource_classes WHERE name = ?1"};
    case Sql::kSelectProviders:
      return {"read providers",
              "SELECT uuid, name, generation, parent_uuid, root_uuid, created_at, updated_at"
              " FROM providers ORDER BY uuid"};
    case Sql::kSelectInventories:
      return {"read inventories",
              "SELECT provider_uuid, resource_class, total, reserved, min_unit, max_unit,"
              " step_size, allocation_ratio FROM inventories"};
    case Sql::kSelectProviderTraits:
      return {"read provider traits", "SELECT provider_uuid, trait FROM provider_traits"};
    case Sql::kSelectProviderAggregates:
      return {"read provider aggregates",
              "SELECT provider_uuid, aggregate FROM provider_aggregates"};
    case Sql::kSelectConsumers:
      return {"read consumers",
              "SELECT uuid, project_id, user_id, consumer_type, generation, created_at,"
              " updated_at FROM consumers ORDER BY uuid"};
    case Sql::kSelectAllocations:
      return {"read allocations",
              "SELECT consumer_uuid, provider_uuid, resource_class, used FROM allocations"};
    case Sql::kSelectTraits:
      return {"read custom traits", "SELECT name FROM custom_traits ORDER BY name"};
    case Sql::kSelectResourceClasses:
      return {"read custom resource classes",
              "SELECT name, id FROM custom_resource_classes ORDER BY id"};
    case Sql::kCount:
      break;
  }
  return {"?", ""};
}

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStore::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStore::SqliteStore(std::string path, DbHandle db)
    : path_(std::move(path)), db_(std::move(db)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       SqliteOptions options) {
  if (path.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "sqlite store: empty database path");
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: the store's own mutex serialises every use of this connection.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);  // sqlite3_open_v2 hands back a handle to close even when it fails
  if (rc != SQLITE_OK) return sqliteError(raw, path, "open", rc);
  RETURN_IF_ERROR(configure(raw, path, options));
  RETURN_IF_ERROR(ensureSchema(raw, path));
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, std::move(db)));
  RETURN_IF_ERROR(store->prepareAll());
  logger("placement")
      ->info("sqlite store opened path={} schema_version={} synchronous={} busy_timeout_ms={}",
             path, kSchemaVersion, options.synchronousNormal ? "NORMAL" : "FULL",
             options.busyTimeoutMs);
  return store;
}

Status SqliteStore::prepareAll() {
  stmts_.resize(static_cast<size_t>(Sql::kCount));
  for (size_t i = 0; i < stmts_.size(); ++i) {
    auto [name, sql] = statementText(static_cast<Sql>(i));
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmts_[i].reset(raw);
    if (rc != SQLITE_OK) return sqliteError(db_.get(), path_, std::string("prepare ") + name, rc);
  }
  return Status::ok();
}

Error SqliteStore::error(Sql which, std::string_view object, int rc) const {
  std::string what = statementText(which).first;
  if (!object.empty()) what += " " + std::string(object);
  return sqliteError(db_.get(), path_, what, rc);
}

template <typename... Args>
Status SqliteStore::run(Sql which, std::string_view object, const Args&... args) {
  sqlite3_stmt* s = stmt(which);
  ResetOnExit reset(s);
  int rc = SQLITE_OK;
  int index = 0;
  ((rc = rc == SQLITE_OK ? bindOne(s, ++index, args) : rc), ...);
  if (rc == SQLITE_OK) rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(which, object, rc);
  return Status::ok();
}

template <typename OnRow>
Status SqliteStore::forEachRow(Sql which, OnRow&& onRow) {
  sqlite3_stmt* s = stmt(which);
  ResetOnExit reset(s);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) RETURN_IF_ERROR(onRow(s));
  if (rc != SQLITE_DONE) return error(which, "", rc);
  return Status::ok();
}

void SqliteStore::rollback() {
  // Some errors (I/O, disk full, busy during a statement) roll back by themselves.
  if (sqlite3_get_autocommit(db_.get()) != 0) return;
  if (Status st = run(Sql::kRollback, ""); !st) {
    logger("placement")->error("sqlite store rollback failed: {}", st.error().toString());
  }
}

Status SqliteStore::apply(const StoreChanges& changes) {
  if (changes.empty()) return Status::ok();
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(run(Sql::kBeginWrite, ""));
  Status st = applyInTransaction(changes);
  if (st) st = run(Sql::kCommit, "");  // a deferred foreign key may fail here
  if (!st) rollback();
  return st;
}

Status SqliteStore::applyInTransaction(const StoreChanges& changes) {
  // Deletes first: they free names and resource-class ids that upserts and adds may reuse.
  for (const auto& uuid : changes.deleteConsumers) {
    RETURN_IF_ERROR(run(Sql::kDeleteConsumer, uuid, uuid));
  }
  for (const auto& uuid : changes.deleteProviders) {
    RETURN_IF_ERROR(run(Sql::kDeleteProvider, uuid, uuid));
  }
  for (const auto& name : changes.deleteTraits) RETURN_IF_ERROR(run(Sql::kDeleteTrait, name, name));
  for (const auto& name : changes.deleteResourceClasses) {
    RETURN_IF_ERROR(run(Sql::kDeleteResourceClass, name, name));
  }
  for (const auto& name : changes.addTraits) RETURN_IF_ERROR(run(Sql::kAddTrait, name, name));
  for (const auto& [name, id] : changes.addResourceClasses) {
    RETURN_IF_ERROR(run(Sql::kAddResourceClass, name, name, static_cast<int64_t>(id)));
  }
  // Names may move between the upserted providers: free the changing ones first (see schema).
  // A single upsert cannot collide with a name that is legitimately being moved.
  if (changes.upsertProviders.size() > 1) {
    for (const auto& p : changes.upsertProviders) {
      RETURN_IF_ERROR(run(Sql::kParkProviderName, p.uuid, p.uuid, p.name));
    }
  }
  for (const auto& p : changes.upsertProviders) RETURN_IF_ERROR(upsertProvider(p));
  for (const auto& c : changes.upsertConsumers) RETURN_IF_ERROR(upsertConsumer(c));
  return Status::ok();
}

Status SqliteStore::upsertProvider(const Provider& p) {
  const std::string& uuid = p.uuid;
  RETURN_IF_ERROR(run(Sql::kUpsertProvider, uuid, uuid, p.name, p.generation,
                      nullIfEmpty(p.parentUuid), p.rootUuid, p.createdAt, p.updatedAt));
  RETURN_IF_ERROR(run(Sql::kDeleteInventories, uuid, uuid));
  for (const auto& [rc, inv] : p.inventories) {
    RETURN_IF_ERROR(run(Sql::kInsertInventory, uuid, uuid, rc, inv.total, inv.reserved, inv.minUnit,
                        inv.maxUnit, inv.stepSize, inv.allocationRatio));
  }
  RETURN_IF_ERROR(run(Sql::kDeleteProviderTraits, uuid, uuid));
  for (const auto& trait : p.traits) {
    RETURN_IF_ERROR(run(Sql::kInsertProviderTrait, uuid, uuid, trait));
  }
  RETURN_IF_ERROR(run(Sql::kDeleteProviderAggregates, uuid, uuid));
  for (const auto& aggregate : p.aggregates) {
    RETURN_IF_ERROR(run(Sql::kInsertProviderAggregate, uuid, uuid, aggregate));
  }
  return Status::ok();
}

Status SqliteStore::upsertConsumer(const Consumer& c) {
  const std::string& uuid = c.uuid;
  std::optional<std::string_view> type;
  if (c.consumerType) type = *c.consumerType;
  RETURN_IF_ERROR(run(Sql::kUpsertConsumer, uuid, uuid, c.projectId, c.userId, type, c.generation,
                      c.createdAt, c.updatedAt));
  RETURN_IF_ERROR(run(Sql::kDeleteAllocations, uuid, uuid));
  for (const auto& [providerUuid, amounts] : c.allocations) {
    for (const auto& [rc, used] : amounts) {
      RETURN_IF_ERROR(run(Sql::kInsertAllocation, uuid, uuid, providerUuid, rc, used));
    }
  }
  return Status::ok();
}

Result<StoreSnapshot> SqliteStore::load() {
  std::lock_guard lock(mutex_);
  StoreSnapshot snapshot;
  // One read transaction: in WAL mode every query below sees the same commit.
  RETURN_IF_ERROR(run(Sql::kBeginRead, ""));
  Status st = loadProviders(snapshot);
  if (st) st = loadConsumers(snapshot);
  if (st) st = loadCustomNames(snapshot);
  if (st) st = run(Sql::kCommit, "");
  if (!st) {
    rollback();
    return st.error();
  }
  return snapshot;
}

Status SqliteStore::loadProviders(StoreSnapshot& snapshot) {
  auto& providers = snapshot.providers;
  RETURN_IF_ERROR(forEachRow(Sql::kSelectProviders, [&](sqlite3_stmt* s) -> Status {
    if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
      return makeError(ErrorCode::kInternal,
                       "sqlite store " + path_ + ": provider " + columnText(s, 0) + " has no name");
    }
    Provider& p = providers.emplace_back();
    p.uuid = columnText(s, 0);
    p.name = columnText(s, 1);
    p.generation = sqlite3_column_int64(s, 2);
    p.parentUuid = columnText(s, 3);
    p.rootUuid = columnText(s, 4);
    p.createdAt = sqlite3_column_int64(s, 5);
    p.updatedAt = sqlite3_column_int64(s, 6);
    return Status::ok();
  }));
  std::unordered_map<std::string, Provider*> byUuid;
  byUuid.reserve(providers.size());
  for (auto& p : providers) byUuid.emplace(p.uuid, &p);
  auto owner = [&](sqlite3_stmt* s, const char* table) -> Result<Provider*> {
    auto it = byUuid.find(columnText(s, 0));
    if (it == byUuid.end()) {
      return makeError(ErrorCode::kInternal, "sqlite store " + path_ + ": " + table +
                                                 " row for unknown provider " + columnText(s, 0));
    }
    return it->second;
  };
  RETURN_IF_ERROR(forEachRow(Sql::kSelectInventories, [&](sqlite3_stmt* s) -> Status {
    ASSIGN_OR_RETURN(Provider * p, owner(s, "inventories"));
    Inventory& inv = p->inventories[columnText(s, 1)];
    inv.total = sqlite3_column_int64(s, 2);
    inv.reserved = sqlite3_column_int64(s, 3);
    inv.minUnit = sqlite3_column_int64(s, 4);
    inv.maxUnit = sqlite3_column_int64(s, 5);
    inv.stepSize = sqlite3_column_int64(s, 6);
    inv.allocationRatio = sqlite3_column_double(s, 7);
    return Status::ok();
  }));
  RETURN_IF_ERROR(forEachRow(Sql::kSelectProviderTraits, [&](sqlite3_stmt* s) -> Status {
    ASSIGN_OR_RETURN(Provider * p, owner(s, "provider_traits"));
    p->traits.insert(columnText(s, 1));
    return Status::ok();
  }));
  RETURN_IF_ERROR(forEachRow(Sql::kSelectProviderAggregates, [&](sqlite3_stmt* s) -> Status {
    ASSIGN_OR_RETURN(Provider * p, owner(s, "provider_aggregates"));
    p->aggregates.insert(columnText(s, 1));
    return Status::ok();
  }));
  sortParentsFirst(providers);  // uuid order within a depth
  return Status::ok();
}

Status SqliteStore::loadConsumers(StoreSnapshot& snapshot) {
  auto& consumers = snapshot.consumers;
  RETURN_IF_ERROR(forEachRow(Sql::kSelectConsumers, [&](sqlite3_stmt* s) -> Status {
    Consumer& c = consumers.emplace_back();
    c.uuid = columnText(s, 0);
    c.projectId = columnText(s, 1);
    c.userId = columnText(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) c.consumerType = columnText(s, 3);
    c.generation = sqlite3_column_int64(s, 4);
    c.createdAt = sqlite3_column_int64(s, 5);
    c.updatedAt = sqlite3_column_int64(s, 6);
    return Status::ok();
  }));
  std::unordered_map<std::string, Consumer*> byUuid;
  byUuid.reserve(consumers.size());
  for (auto& c : consumers) byUuid.emplace(c.uuid, &c);
  return forEachRow(Sql::kSelectAllocations, [&](sqlite3_stmt* s) -> Status {
    auto it = byUuid.find(columnText(s, 0));
    if (it == byUuid.end()) {
      return makeError(
          ErrorCode::kInternal,
          "sqlite store " + path_ + ": allocation row for unknown consumer " + columnText(s, 0));
    }
    it->second->allocations[columnText(s, 1)][columnText(s, 2)] = sqlite3_column_int64(s, 3);
    return Status::ok();
  });
}

Status SqliteStore::loadCustomNames(StoreSnapshot& snapshot) {
  RETURN_IF_ERROR(forEachRow(Sql::kSelectTraits, [&](sqlite3_stmt* s) -> Status {
    snapshot.customTraits.push_back(columnText(s, 0));
    return Status::ok();
  }));
  return forEachRow(Sql::kSelectResourceClasses, [&](sqlite3_stmt* s) -> Status {
    snapshot.customResourceClasses.emplace_back(columnText(s, 0), sqlite3_column_int(s, 1));
    return Status::ok();
  });
}

Result<std::string> sqlitePathFromConnection(std::string_view connection) {
  auto invalid = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidArgument,
                     "database connection '" + maskConnectionPassword(connection) + "': " + why +
                         "; expected sqlite:////absolute/path.db, sqlite:///relative/path.db, "
                         "sqlite:// (in memory) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
  };
  size_t sep = connection.find("://");
  if (sep == std::string_view::npos) return invalid("not a URL");
  std::string_view scheme = connection.substr(0, sep);
  if (scheme != "sqlite" && scheme != "sqlite+pysqlite") {
    return invalid("scheme '" + std::string(scheme) + "' is not SQLite");
  }
  std::string_view rest = connection.substr(sep + 3);
  if (rest.empty()) return std::string(":memory:");
  if (rest.front() != '/') {
    return invalid("a SQLite URL has no host, got '" + std::string(rest.substr(0, rest.find('/'))) +
                   "'");
  }
  std::string_view path = rest.substr(1);
  if (path.empty()) return invalid("no file path after 'sqlite:///'");
  if (path.find('?') != std::string_view::npos)
    return invalid("query parameters are not supported");
  if (path == ":memory:") return std::string(":memory:");
  return std::string(path);
}

}  // namespace bwfloor::placement
