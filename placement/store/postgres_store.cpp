#include "placement/store/postgres_store.h"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "core/logging.h"

namespace bwfloor::placement {
namespace {

// The SQLite schema's tables in PostgreSQL's types. providers.name's uniqueness is checked at
// COMMIT (DEFERRABLE), so a change may move names between providers in any statement order;
// parent_uuid likewise. v1_documents holds bwfloor's /v1 objects (placement/ports).
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  applied_at BIGINT NOT NULL
);
CREATE TABLE providers (
  uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  generation BIGINT NOT NULL,
  parent_uuid TEXT REFERENCES providers (uuid) DEFERRABLE INITIALLY DEFERRED,
  root_uuid TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT providers_name_unique UNIQUE (name) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX providers_parent_uuid ON providers (parent_uuid);
CREATE TABLE inventories (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  resource_class TEXT NOT NULL,
  total BIGINT NOT NULL,
  reserved BIGINT NOT NULL,
  min_unit BIGINT NOT NULL,
  max_unit BIGINT NOT NULL,
  step_size BIGINT NOT NULL,
  allocation_ratio DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (provider_uuid, resource_class)
);
CREATE TABLE provider_traits (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  trait TEXT NOT NULL,
  PRIMARY KEY (provider_uuid, trait)
);
CREATE TABLE provider_aggregates (
  provider_uuid TEXT NOT NULL REFERENCES providers (uuid) ON DELETE CASCADE,
  aggregate TEXT NOT NULL,
  PRIMARY KEY (provider_uuid, aggregate)
);
CREATE TABLE consumers (
  uuid TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  consumer_type TEXT,
  generation BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE allocations (
  consumer_uuid TEXT NOT NULL REFERENCES consumers (uuid) ON DELETE CASCADE,
  provider_uuid TEXT NOT NULL,
  resource_class TEXT NOT NULL,
  used BIGINT NOT NULL,
  PRIMARY KEY (consumer_uuid, provider_uuid, resource_class)
);
CREATE TABLE custom_traits (name TEXT PRIMARY KEY);
CREATE TABLE custom_resource_classes (name TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE);
CREATE TABLE v1_documents (
  seq BIGSERIAL NOT NULL,
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
)sql";

// Keys of pg_advisory locks: one server per database, and schema creation.
constexpr const char* kServerLockKey = "7303901";
constexpr const char* kSchemaLockKey = "7303902";

std::optional<std::string> nullIfEmpty(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return v;
}

}  // namespace

Status ensurePostgresSchema(PgConnection& db, int version) {
  return db.transaction("BEGIN", [&]() -> Status {
    RETURN_IF_ERROR(db.run("SELECT pg_advisory_xact_lock(" + std::string(kSchemaLockKey) + ")"));
    ASSIGN_OR_RETURN(PgRows known, db.exec("SELECT to_regclass('schema_version') IS NOT NULL"));
    if (known.text(0, 0) == "t") {
      ASSIGN_OR_RETURN(PgRows v, db.exec("SELECT coalesce(max(version), 0) FROM schema_version"));
      const int64_t found = v.integer(0, 0);
      if (found > version) {
        return makeError(ErrorCode::kUnsupported,
                         db.what() + ": the database has schema version " + pgInt(found) +
                             ", newer than this bwfloor-server knows (" + pgInt(version) +
                             "); run a newer bwfloor-server");
      }
      return Status::ok();  // version 1 is the only one: nothing to migrate yet
    }
    ASSIGN_OR_RETURN(PgRows tables, db.exec("SELECT count(*) FROM information_schema.tables"
                                            " WHERE table_schema = current_schema()"));
    if (tables.integer(0, 0) != 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       db.what() + ": not a bwfloor database (no schema_version table but " +
                           tables.text(0, 0) + " tables); refusing to add tables to it");
    }
    RETURN_IF_ERROR(db.run(kSchemaSql, {}, "create schema"));
    return db.run("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                  {pgInt(version), pgInt(std::time(nullptr))}, "record schema version");
  });
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& conninfo) {
  ASSIGN_OR_RETURN(auto db, PgConnection::open(conninfo, "postgres store"));
  ASSIGN_OR_RETURN(PgRows locked,
                   db->exec("SELECT pg_try_advisory_lock(" + std::string(kServerLockKey) + ")"));
  if (locked.text(0, 0) != "t") {
    return makeError(ErrorCode::kUnavailable,
                     "postgres store " + maskConnectionPassword(conninfo) +
                         ": the database is in use by another bwfloor-server; one server per "
                         "database for now (replicas that follow each other's writes are not "
                         "built yet), so stop the other one or use another database");
  }
  RETURN_IF_ERROR(ensurePostgresSchema(*db, kSchemaVersion));
  logger("placement")
      ->info("postgres store opened {} schema_version={}", maskConnectionPassword(conninfo),
             kSchemaVersion);
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(db)));
}

Status PostgresStore::apply(const StoreChanges& changes) {
  if (changes.empty()) return Status::ok();
  std::lock_guard lock(mutex_);
  return db_->transaction("BEGIN", [&] { return applyInTransaction(changes); });
}

Status PostgresStore::applyInTransaction(const StoreChanges& changes) {
  PgConnection& db = *db_;
  for (const auto& uuid : changes.deleteConsumers) {
    RETURN_IF_ERROR(db.run("DELETE FROM consumers WHERE uuid = $1", {uuid}, "delete consumer"));
  }
  for (const auto& uuid : changes.deleteProviders) {
    RETURN_IF_ERROR(db.run("DELETE FROM providers WHERE uuid = $1", {uuid}, "delete provider"));
  }
  for (const auto& name : changes.deleteTraits) {
    RETURN_IF_ERROR(db.run("DELETE FROM custom_traits WHERE name = $1", {name}, "delete trait"));
  }
  for (const auto& name : changes.deleteResourceClasses) {
    RETURN_IF_ERROR(db.run("DELETE FROM custom_resource_classes WHERE name = $1", {name},
                           "delete resource class"));
  }
  for (const auto& name : changes.addTraits) {
    RETURN_IF_ERROR(db.run("INSERT INTO custom_traits (name) VALUES ($1) ON CONFLICT DO NOTHING",
                           {name}, "add trait"));
  }
  for (const auto& [name, id] : changes.addResourceClasses) {
    RETURN_IF_ERROR(
        db.run("INSERT INTO custom_resource_classes (name, id) VALUES ($1, $2)"
               " ON CONFLICT (name) DO UPDATE SET id = excluded.id",
               {name, pgInt(id)}, "add resource class"));
  }
  for (const auto& p : changes.upsertProviders) RETURN_IF_ERROR(upsertProvider(p));
  for (const auto& c : changes.upsertConsumers) RETURN_IF_ERROR(upsertConsumer(c));
  return Status::ok();
}

Status PostgresStore::upsertProvider(const Provider& p) {
  PgConnection& db = *db_;
  RETURN_IF_ERROR(
      db.run("INSERT INTO providers (uuid, name, generation, parent_uuid, root_uuid, created_at,"
             " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uuid) DO UPDATE SET"
             " name = excluded.name, generation = excluded.generation,"
             " parent_uuid = excluded.parent_uuid, root_uuid = excluded.root_uuid,"
             " created_at = excluded.created_at, updated_at = excluded.updated_at",
             {p.uuid, p.name, pgInt(p.generation), nullIfEmpty(p.parentUuid), p.rootUuid,
              pgInt(p.createdAt), pgInt(p.updatedAt)},
             "upsert provider"));
  RETURN_IF_ERROR(
      db.run("DELETE FROM inventories WHERE provider_uuid = $1", {p.uuid}, "delete inventories"));
  for (const auto& [rc, inv] : p.inventories) {
    RETURN_IF_ERROR(
        db.run("INSERT INTO inventories (provider_uuid, resource_class, total, reserved, min_unit,"
               " max_unit, step_size, allocation_ratio) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               {p.uuid, rc, pgInt(inv.total), pgInt(inv.reserved), pgInt(inv.minUnit),
                pgInt(inv.maxUnit), pgInt(inv.stepSize), pgReal(inv.allocationRatio)},
               "insert inventory"));
  }
  RETURN_IF_ERROR(db.run("DELETE FROM provider_traits WHERE provider_uuid = $1", {p.uuid},
                         "delete provider traits"));
  for (const auto& trait : p.traits) {
    RETURN_IF_ERROR(db.run("INSERT INTO provider_traits (provider_uuid, trait) VALUES ($1, $2)",
                           {p.uuid, trait}, "insert provider trait"));
  }
  RETURN_IF_ERROR(db.run("DELETE FROM provider_aggregates WHERE provider_uuid = $1", {p.uuid},
                         "delete provider aggregates"));
  for (const auto& aggregate : p.aggregates) {
    RETURN_IF_ERROR(
        db.run("INSERT INTO provider_aggregates (provider_uuid, aggregate) VALUES ($1, $2)",
               {p.uuid, aggregate}, "insert provider aggregate"));
  }
  return Status::ok();
}

Status PostgresStore::upsertConsumer(const Consumer& c) {
  PgConnection& db = *db_;
  RETURN_IF_ERROR(db.run(
      "INSERT INTO consumers (uuid, project_id, user_id, consumer_type, generation, created_at,"
      " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uuid) DO UPDATE SET"
      " project_id = excluded.project_id, user_id = excluded.user_id,"
      " consumer_type = excluded.consumer_type, generation = excluded.generation,"
      " created_at = excluded.created_at, updated_at = excluded.updated_at",
      {c.uuid, c.projectId, c.userId, c.consumerType, pgInt(c.generation), pgInt(c.createdAt),
       pgInt(c.updatedAt)},
      "upsert consumer"));
  RETURN_IF_ERROR(
      db.run("DELETE FROM allocations WHERE consumer_uuid = $1", {c.uuid}, "delete allocations"));
  for (const auto& [providerUuid, amounts] : c.allocations) {
    for (const auto& [rc, used] : amounts) {
      RETURN_IF_ERROR(
          db.run("INSERT INTO allocations (consumer_uuid, provider_uuid,"
                 " resource_class, used) VALUES ($1, $2, $3, $4)",
                 {c.uuid, providerUuid, rc, pgInt(used)}, "insert allocation"));
    }
  }
  return Status::ok();
}

Result<StoreSnapshot> PostgresStore::load() {
  std::lock_guard lock(mutex_);
  PgConnection& db = *db_;
  StoreSnapshot snap;
  Status st = db.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&]() -> Status {
    ASSIGN_OR_RETURN(PgRows providers,
                     db.exec("SELECT uuid, name, generation, parent_uuid, root_uuid, created_at,"
                             " updated_at FROM providers ORDER BY uuid"));
    std::unordered_map<std::string, size_t> index;
    for (int r = 0; r < providers.size(); ++r) {
      Provider& p = snap.providers.emplace_back();
      p.uuid = providers.text(r, 0);
      p.name = providers.text(r, 1);
      p.generation = providers.integer(r, 2);
      if (!providers.isNull(r, 3)) p.parentUuid = providers.text(r, 3);
      p.rootUuid = providers.text(r, 4);
      p.createdAt = providers.integer(r, 5);
      p.updatedAt = providers.integer(r, 6);
      index[p.uuid] = snap.providers.size() - 1;
    }
    auto owner = [&](const std::string& uuid, const char* table) -> Result<Provider*> {
      auto it = index.find(uuid);
      if (it == index.end()) {
        return makeError(ErrorCode::kInternal,
                         db.what() + ": " + table + " row for unknown provider " + uuid);
      }
      return &snap.providers[it->second];
    };
    ASSIGN_OR_RETURN(PgRows inv, db.exec("SELECT provider_uuid, resource_class, total, reserved,"
                                         " min_unit, max_unit, step_size, allocation_ratio"
                                         " FROM inventories"));
    for (int r = 0; r < inv.size(); ++r) {
      ASSIGN_OR_RETURN(Provider * p, owner(inv.text(r, 0), "inventories"));
      Inventory& i = p->inventories[inv.text(r, 1)];
      i.total = inv.integer(r, 2);
      i.reserved = inv.integer(r, 3);
      i.minUnit = inv.integer(r, 4);
      i.maxUnit = inv.integer(r, 5);
      i.stepSize = inv.integer(r, 6);
      i.allocationRatio = inv.real(r, 7);
    }
    ASSIGN_OR_RETURN(PgRows traits, db.exec("SELECT provider_uuid, trait FROM provider_traits"));
    for (int r = 0; r < traits.size(); ++r) {
      ASSIGN_OR_RETURN(Provider * p, owner(traits.text(r, 0), "provider_traits"));
      p->traits.insert(traits.text(r, 1));
    }
    ASSIGN_OR_RETURN(PgRows aggs,
                     db.exec("SELECT provider_uuid, aggregate FROM provider_aggregates"));
    for (int r = 0; r < aggs.size(); ++r) {
      ASSIGN_OR_RETURN(Provider * p, owner(aggs.text(r, 0), "provider_aggregates"));
      p->aggregates.insert(aggs.text(r, 1));
    }
    ASSIGN_OR_RETURN(PgRows consumers,
                     db.exec("SELECT uuid, project_id, user_id, consumer_type, generation,"
                             " created_at, updated_at FROM consumers ORDER BY uuid"));
    std::unordered_map<std::string, size_t> byConsumer;
    for (int r = 0; r < consumers.size(); ++r) {
      Consumer& c = snap.consumers.emplace_back();
      c.uuid = consumers.text(r, 0);
      c.projectId = consumers.text(r, 1);
      c.userId = consumers.text(r, 2);
      if (!consumers.isNull(r, 3)) c.consumerType = consumers.text(r, 3);
      c.generation = consumers.integer(r, 4);
      c.createdAt = consumers.integer(r, 5);
      c.updatedAt = consumers.integer(r, 6);
      byConsumer[c.uuid] = snap.consumers.size() - 1;
    }
    ASSIGN_OR_RETURN(PgRows allocs, db.exec("SELECT consumer_uuid, provider_uuid, resource_class,"
                                            " used FROM allocations"));
    for (int r = 0; r < allocs.size(); ++r) {
      auto it = byConsumer.find(allocs.text(r, 0));
      if (it == byConsumer.end()) {
        return makeError(ErrorCode::kInternal,
                         db.what() + ": allocation row for unknown consumer " + allocs.text(r, 0));
      }
      snap.consumers[it->second].allocations[allocs.text(r, 1)][allocs.text(r, 2)] =
          allocs.integer(r, 3);
    }
    ASSIGN_OR_RETURN(PgRows names, db.exec("SELECT name FROM custom_traits ORDER BY name"));
    for (int r = 0; r < names.size(); ++r) snap.customTraits.push_back(names.text(r, 0));
    ASSIGN_OR_RETURN(PgRows classes,
                     db.exec("SELECT name, id FROM custom_resource_classes ORDER BY id"));
    for (int r = 0; r < classes.size(); ++r) {
      snap.customResourceClasses.emplace_back(classes.text(r, 0),
                                              static_cast<int>(classes.integer(r, 1)));
    }
    return Status::ok();
  });
  if (!st) return st.error();
  sortParentsFirst(snap.providers);
  return snap;
}

}  // namespace bwfloor::placement
