#pragma once
// SqliteStore: placement's state in one SQLite file, through the SQLite C API. One apply() is one
// BEGIN IMMEDIATE transaction (all or nothing); every statement is prepared once at open() and
// reused, so a write costs only its steps and the commit's fsync.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "placement/store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace bwfloor::placement {

struct SqliteOptions {
  // false: synchronous=FULL, a committed write survives power loss. true: synchronous=NORMAL, a
  // commit may be lost on power loss (never on a process crash) but never corrupts the file.
  bool synchronousNormal = false;
  // How long a write waits for another connection's lock before failing with kUnavailable.
  int busyTimeoutMs = 5000;
};

// The file path in a Placement / SQLAlchemy connection URL: "sqlite:////abs/path.db" ->
// "/abs/path.db", "sqlite:///rel.db" -> "rel.db", "sqlite://" and "sqlite:///:memory:" ->
// ":memory:". Anything else is kInvalidArgument naming the value (any password masked).
Result<std::string> sqlitePathFromConnection(std::string_view connection);

class SqliteStore : public Store {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if missing; parent directories are not created) the database at `path`, sets
  // WAL, synchronous, busy_timeout and foreign_keys, creates or checks the schema, and prepares
  // every statement. ":memory:" gives a private in-memory database.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   SqliteOptions options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<StoreSnapshot> load() override;
  Status apply(const StoreChanges& changes) override;

  const std::string& path() const { return path_; }

 private:
  // The cached statements, one per kind of write or read; defined with their SQL in the .cpp.
  enum class Sql : int;

  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
  using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  SqliteStore(std::string path, DbHandle db);

  // {name for errors, SQL text}; a switch, so a statement without SQL does not compile.
  static std::pair<const char*, const char*> statementText(Sql which);
  Status prepareAll();
  sqlite3_stmt* stmt(Sql which) const { return stmts_[static_cast<size_t>(which)].get(); }
  // Binds `args` to ?1, ?2, ... and steps to completion; `object` names what is written.
  template <typename... Args>
  Status run(Sql which, std::string_view object, const Args&... args);
  // Calls onRow(stmt) -> Status for every row of a query.
  template <typename OnRow>
  Status forEachRow(Sql which, OnRow&& onRow);
  Error error(Sql which, std::string_view object, int rc) const;

  Status applyInTransaction(const StoreChanges& changes);
  Status upsertProvider(const Provider& provider);
  Status upsertConsumer(const Consumer& consumer);
  Status loadProviders(StoreSnapshot& snapshot);
  Status loadConsumers(StoreSnapshot& snapshot);
  Status loadCustomNames(StoreSnapshot& snapshot);
  void rollback();

  std::mutex mutex_;  // one statement sequence at a time: the cached statements are shared
  std::string path_;
  DbHandle db_;
  std::vector<StmtHandle> stmts_;  // declared after db_: finalized before it closes
};

}  // namespace bwfloor::placement
