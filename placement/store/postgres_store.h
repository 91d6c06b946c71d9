#pragma once
// Placement's state in PostgreSQL, behind the same Store interface as SQLite's, for one or several
// bwfloor-servers (replicas) on one database. Each write is one transaction that takes the
// placement stream's database-wide write lock, checks again in SQL what the writer's model
// validated (provider and consumer generations, capacity where usage grows), writes the rows and
// appends the change to the change log (placement/store/pg_change_log.h), from which the other
// replicas follow.

#include <memory>
#include <mutex>
#include <string>

#include "placement/store/pg_connection.h"
#include "placement/store/store.h"

namespace bwfloor::placement {

class PostgresStore : public Store {
 public:
  static constexpr int kSchemaVersion = 2;
  // Connects, then creates the schema in an empty database, migrates an older one, and refuses a
  // newer one or a database that holds other tables.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& conninfo);

  Result<StoreSnapshot> load() override;
  // Inside beginWrite()'s transaction, or one of its own.
  Status apply(const StoreChanges& changes) override;

  bool shared() const override { return true; }
  Result<OthersChanges> beginWrite(int64_t seq) override;
  void abortWrite() override;
  int64_t committedSeq() const override { return committedSeq_; }
  Result<OthersChanges> changesAfter(int64_t seq) override;

 private:
  PostgresStore(std::unique_ptr<PgConnection> db, std::unique_ptr<PgConnection> followDb)
      : db_(std::move(db)), followDb_(std::move(followDb)) {}
  Status applyInTransaction(const StoreChanges& changes);
  Status upsertProvider(const Provider& p, const StoreChanges& changes);
  Status upsertConsumer(const Consumer& c, const StoreChanges& changes);
  Status checkCapacity(const StoreChanges& changes);

  // Writes and loads; the model serialises them (its write lock spans beginWrite..apply).
  std::unique_ptr<PgConnection> db_;
  int64_t committedSeq_ = 0;
  // A follower's reads, which must not wait for a write in progress.
  std::mutex followMutex_;
  std::unique_ptr<PgConnection> followDb_;
};

// Creates, migrates or checks the schema (shared with the /v1 document store). Serialised
// between servers by a transaction-level advisory lock.
Status ensurePostgresSchema(PgConnection& db, int version);

}  // namespace bwfloor::placement
