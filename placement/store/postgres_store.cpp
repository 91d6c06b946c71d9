#include "placement/store/postgres_store.h"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "core/logging.h"
#include "placement/store/change_codec.h"
#include "placement/store/pg_change_log.h"

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

// Version 2: the change log that replicas follow (placement/store/pg_change_log.h), and the
// index the capacity check reads allocations by.
constexpr const char* kSchemaV2Sql = R"sql(
CREATE TABLE change_log (
  seq BIGSERIAL PRIMARY KEY,
  stream TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX change_log_stream_seq ON change_log (stream, seq);
CREATE TABLE change_log_trim (stream TEXT PRIMARY KEY, trimmed_through BIGINT NOT NULL);
CREATE INDEX allocations_provider ON allocations (provider_uuid, resource_class);
)sql";

// The key of the pg_advisory lock that serialises schema creation and migration.
constexpr const char* kSchemaLockKey = "7303902";

std::optional<std::string> nullIfEmpty(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return v;
}

// The generation a writer saw (NULL, which matches no row, for "must not exist yet").
PgParam expected(const std::map<std::string, int64_t>& generations, const std::string& uuid) {
  auto it = generations.find(uuid);
  if (it == generations.end()) return std::nullopt;
  return pgInt(it->second);
}

// A generation-checked statement touched exactly one row, or the database holds another
// generation than the writer saw: a write this server did not know about.
Status oneRow(Result<PgRows> rows, const char* kind, const std::string& uuid) {
  if (!rows) return rows.error();
  if (rows->affected() == 1) return Status::ok();
  return makeError(ErrorCode::kConflict, std::string("the database refused the write: ") + kind +
                                             " " + uuid + " changed since this server read it");
}

// A text[] literal: every element double-quoted, backslashes and quotes escaped.
std::string pgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : item) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Status ensurePostgresSchema(PgConnection& db, int version) {
  return db.transaction("BEGIN", [&]() -> Status {
    RETURN_IF_ERROR(db.run("SELECT pg_advisory_xact_lock(" + std::string(kSchemaLockKey) + ")"));
    ASSIGN_OR_RETURN(PgRows known, db.exec("SELECT to_regclass('schema_version') IS NOT NULL"));
    int64_t found = 0;
    if (known.text(0, 0) == "t") {
      ASSIGN_OR_RETURN(PgRows v, db.exec("SELECT coalesce(max(version), 0) FROM schema_version"));
      found = v.integer(0, 0);
      if (found > version) {
        return makeError(ErrorCode::kUnsupported,
                         db.what() + ": the database has schema version " + pgInt(found) +
                             ", newer than this bwfloor-server knows (" + pgInt(version) +
                             "); run a newer bwfloor-server");
      }
    } else {
      ASSIGN_OR_RETURN(PgRows tables, db.exec("SELECT count(*) FROM information_schema.tables"
                                              " WHERE table_schema = current_schema()"));
      if (tables.integer(0, 0) != 0) {
        return makeError(ErrorCode::kInvalidArgument,
                         db.what() + ": not a bwfloor database (no schema_version table but " +
                             tables.text(0, 0) + " tables); refusing to add tables to it");
      }
    }
    // Each step migrates from the version before it, in this transaction.
    const std::pair<int, const char*> steps[] = {{1, kSchemaSql}, {2, kSchemaV2Sql}};
    for (const auto& [to, sql] : steps) {
      if (to <= found || to > version) continue;
      RETURN_IF_ERROR(db.run(sql, {}, "migrate the schema to version " + pgInt(to)));
      RETURN_IF_ERROR(db.run("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                             {pgInt(to), pgInt(std::time(nullptr))}, "record schema version"));
      logger("placement")->info("{}: schema migrated to version {}", db.what(), to);
    }
    return Status::ok();
  });
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& conninfo) {
  ASSIGN_OR_RETURN(auto db, PgConnection::open(conninfo, "postgres store"));
  RETURN_IF_ERROR(ensurePostgresSchema(*db, kSchemaVersion));
  ASSIGN_OR_RETURN(auto followDb, PgConnection::open(conninfo, "postgres store (follower)"));
  logger("placement")
      ->info("postgres store opened {} schema_version={}", maskConnectionPassword(conninfo),
             kSchemaVersion);
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(db), std::move(followDb)));
}

namespace {

Result<OthersChanges> decodeLogRead(const LogRead& read) {
  OthersChanges out;
  out.reloadNeeded = read.trimmed;
  out.head = read.head;
  for (const auto& entry : read.changes) {
    auto changes = decodeStoreChanges(entry.payload);
    if (!changes) {
      return makeError(ErrorCode::kInternal,
                       "change log entry " + pgInt(entry.seq) + ": " + changes.error().message());
    }
    out.changes.emplace_back(entry.seq, std::move(*changes));
  }
  return out;
}

}  // namespace

Result<OthersChanges> PostgresStore::beginWrite(int64_t seq) {
  db_->rollback();  // a write lock given back unused is released here at the latest
  RETURN_IF_ERROR(db_->run("BEGIN", {}, "BEGIN"));
  Result<LogRead> read = [&]() -> Result<LogRead> {
    RETURN_IF_ERROR(lockStream(*db_, LogStream::kPlacement));
    return readLogAfter(*db_, LogStream::kPlacement, seq);
  }();
  if (!read) {
    db_->rollback();
    return read.error();
  }
  return decodeLogRead(*read);
}

void PostgresStore::abortWrite() { db_->rollback(); }

Result<OthersChanges> PostgresStore::changesAfter(int64_t seq) {
  std::lock_guard lock(followMutex_);
  ASSIGN_OR_RETURN(LogRead read, readLogAfter(*followDb_, LogStream::kPlacement, seq));
  return decodeLogRead(read);
}

Status PostgresStore::apply(const StoreChanges& changes) {
  if (changes.empty()) return Status::ok();
  if (!db_->inTransaction()) {  // not opened by beginWrite(): lock the stream here
    RETURN_IF_ERROR(db_->run("BEGIN", {}, "BEGIN"));
    if (Status st = lockStream(*db_, LogStream::kPlacement); !st) {
      db_->rollback();
      return st;
    }
  }
  Status st = applyInTransaction(changes);
  if (st) {
    auto seq = appendLog(*db_, LogStream::kPlacement, encodeStoreChanges(changes));
    if (seq) {
      st = db_->run("COMMIT", {}, "COMMIT");
      if (st) committedSeq_ = *seq;
    } else {
      st = seq.error();
    }
  }
  if (!st) db_->rollback();
  return st;
}

Status PostgresStore::applyInTransaction(const StoreChanges& changes) {
  PgConnection& db = *db_;
  for (const auto& uuid : changes.deleteConsumers) {
    RETURN_IF_ERROR(
        oneRow(db.exec("DELETE FROM consumers WHERE uuid = $1 AND generation = $2",
                       {uuid, expected(changes.consumerGenerations, uuid)}, "delete consumer"),
               "consumer", uuid));
  }
  for (const auto& uuid : changes.deleteProviders) {
    RETURN_IF_ERROR(
        oneRow(db.exec("DELETE FROM providers WHERE uuid = $1 AND generation = $2",
                       {uuid, expected(changes.providerGenerations, uuid)}, "delete provider"),
               "resource provider", uuid));
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
  for (const auto& p : changes.upsertProviders) RETURN_IF_ERROR(upsertProvider(p, changes));
  for (const auto& c : changes.upsertConsumers) RETURN_IF_ERROR(upsertConsumer(c, changes));
  return checkCapacity(changes);
}

Status PostgresStore::checkCapacity(const StoreChanges& changes) {
  if (changes.usageGrows.empty()) return Status::ok();
  std::vector<std::string> providers;
  std::vector<std::string> classes;
  for (const auto& [p, rc] : changes.usageGrows) {
    providers.push_back(p);
    classes.push_back(rc);
  }
  // Placement's capacity, int((total - reserved) * allocation_ratio), against the sum of the
  // allocations as this transaction leaves them.
  ASSIGN_OR_RETURN(PgRows over,
                   db_->exec("SELECT i.provider_uuid, i.resource_class FROM inventories i"
                             " JOIN unnest($1::text[], $2::text[]) AS g (p, rc)"
                             " ON i.provider_uuid = g.p AND i.resource_class = g.rc"
                             " WHERE (SELECT coalesce(sum(a.used), 0) FROM allocations a"
                             "        WHERE a.provider_uuid = i.provider_uuid"
                             "        AND a.resource_class = i.resource_class)"
                             "   > trunc((i.total - i.reserved) * i.allocation_ratio)",
                             {pgTextArray(providers), pgTextArray(classes)}, "check capacity"));
  if (over.size() > 0) {
    return makeError(ErrorCode::kConflict,
                     db_->what() + ": the database refused the write: " + over.text(0, 1) +
                         " on resource provider " + over.text(0, 0) + " would exceed its capacity");
  }
  return Status::ok();
}

Status PostgresStore::upsertProvider(const Provider& p, const StoreChanges& changes) {
  PgConnection& db = *db_;
  // A new provider must not exist; an existing one must still have the generation the writer saw.
  RETURN_IF_ERROR(oneRow(
      db.exec(
          "INSERT INTO providers (uuid, name, generation, parent_uuid, root_uuid, created_at,"
          " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uuid) DO UPDATE SET"
          " name = excluded.name, generation = excluded.generation,"
          " parent_uuid = excluded.parent_uuid, root_uuid = excluded.root_uuid,"
          " created_at = excluded.created_at, updated_at = excluded.updated_at"
          " WHERE providers.generation = $8",
          {p.uuid, p.name, pgInt(p.generation), nullIfEmpty(p.parentUuid), p.rootUuid,
           pgInt(p.createdAt), pgInt(p.updatedAt), expected(changes.providerGenerations, p.uuid)},
          "upsert provider"),
      "resource provider", p.uuid));
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

Status PostgresStore::upsertConsumer(const Consumer& c, const StoreChanges& changes) {
  PgConnection& db = *db_;
  RETURN_IF_ERROR(oneRow(
      db.exec(
          "INSERT INTO consumers (uuid, project_id, user_id, consumer_type, generation,"
          " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
          " ON CONFLICT (uuid) DO UPDATE SET"
          " project_id = excluded.project_id, user_id = excluded.user_id,"
          " consumer_type = excluded.consumer_type, generation = excluded.generation,"
          " created_at = excluded.created_at, updated_at = excluded.updated_at"
          " WHERE consumers.generation = $8",
          {c.uuid, c.projectId, c.userId, c.consumerType, pgInt(c.generation), pgInt(c.createdAt),
           pgInt(c.updatedAt), expected(changes.consumerGenerations, c.uuid)},
          "upsert consumer"),
      "consumer", c.uuid));
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
  PgConnection& db = *db_;
  StoreSnapshot snap;
  Status st = db.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&]() -> Status {
    // The log's head in the same snapshot: the replica follows from there.
    ASSIGN_OR_RETURN(snap.seq, logHead(db, LogStream::kPlacement));
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
