#pragma once
// Placement's state in PostgreSQL, behind the same Store interface as SQLite's: one transaction
// per change, the same tables. This is the first step of several replicas on one database
// (issue 16): today ONE bwfloor-server uses a database at a time. A session advisory lock makes a
// second one refuse to start, as the SQLite lock file does, because each server's in-memory
// model would not see the other's writes (the change log that lets replicas follow each other is
// not built yet).

#include <memory>
#include <mutex>
#include <string>

#include "placement/store/pg_connection.h"
#include "placement/store/store.h"

namespace bwfloor::placement {

class PostgresStore : public Store {
 public:
  static constexpr int kSchemaVersion = 1;
  // Connects, takes the one-server lock, then creates the schema in an empty database, accepts
  // this version's, and refuses a newer one or a database that holds other tables.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& conninfo);

  Result<StoreSnapshot> load() override;
  Status apply(const StoreChanges& changes) override;

 private:
  explicit PostgresStore(std::unique_ptr<PgConnection> db) : db_(std::move(db)) {}
  Status applyInTransaction(const StoreChanges& changes);
  Status upsertProvider(const Provider& p);
  Status upsertConsumer(const Consumer& c);

  std::mutex mutex_;
  std::unique_ptr<PgConnection> db_;
};

// Creates or checks the schema (shared with the /v1 document store). Serialised between servers
// by a transaction-level advisory lock.
Status ensurePostgresSchema(PgConnection& db, int version);

}  // namespace bwfloor::placement
