#include "placement/ports/json_store.h"

#include <sqlite3.h>

#include <mutex>

#include "placement/store/pg_connection.h"

namespace bwfloor::ports {

Result<std::vector<std::pair<std::string, nlohmann::json>>> MemoryJsonStore::loadKind(
    const std::string& kind) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& [key, body] : docs_) {
    if (key.first == kind) out.emplace_back(key.second, body);
  }
  return out;
}

Status MemoryJsonStore::apply(const std::vector<JsonDocChange>& changes) {
  for (const auto& c : changes) {
    if (c.body) {
      docs_[{c.kind, c.id}] = *c.body;
    } else {
      docs_.erase({c.kind, c.id});
    }
  }
  return Status::ok();
}

namespace {

class SqliteJsonStore : public JsonStore {
 public:
  explicit SqliteJsonStore(sqlite3* db) : db_(db) {}
  ~SqliteJsonStore() override { sqlite3_close(db_); }

  Result<std::vector<std::pair<std::string, nlohmann::json>>> loadKind(
      const std::string& kind) override {
    std::lock_guard lock(mutex_);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT id, body FROM v1_documents WHERE kind = ? ORDER BY seq", -1,
                           &stmt, nullptr) != SQLITE_OK) {
      return error("prepare load");
    }
    sqlite3_bind_text(stmt, 1, kind.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::pair<std::string, nlohmann::json>> out;
    int rc = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      auto body = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
                                        nullptr, false);
      if (body.is_discarded()) {
        sqlite3_finalize(stmt);
        return makeError(ErrorCode::kInternal, "v1_documents: corrupt JSON for " + kind + " " + id);
      }
      out.emplace_back(std::move(id), std::move(body));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return error("load " + kind);
    return out;
  }

  Status apply(const std::vector<JsonDocChange>& changes) override {
    std::lock_guard lock(mutex_);
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return error("BEGIN IMMEDIATE");
    }
    for (const auto& c : changes) {
      const char* sql = c.body ? "INSERT INTO v1_documents(kind, id, body) VALUES(?, ?, ?) "
                                 "ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body"
                               : "DELETE FROM v1_documents WHERE kind = ? AND id = ?";
      sqlite3_stmt* stmt = nullptr;
      bool ok = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) == SQLITE_OK;
      std::string body = c.body ? c.body->dump() : std::string();
      if (ok) {
        sqlite3_bind_text(stmt, 1, c.kind.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 2, c.id.c_str(), -1, SQLITE_TRANSIENT);
        if (c.body) sqlite3_bind_text(stmt, 3, body.c_str(), -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(stmt) == SQLITE_DONE;
      }
      sqlite3_finalize(stmt);
      if (!ok) {
        Error e = error("write " + c.kind + " " + c.id);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
      }
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = error("COMMIT");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return e;
    }
    return Status::ok();
  }

 private:
  Error error(const std::string& what) const {
    return makeError(ErrorCode::kUnavailable,
                     "v1 store: " + what + ": " + std::string(sqlite3_errmsg(db_)));
  }

  sqlite3* db_;
  std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<JsonStore>> openSqliteJsonStore(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return makeError(ErrorCode::kUnavailable, "v1 store: cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS v1_documents (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE(kind, id));";
  char* err = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db);
    return makeError(ErrorCode::kUnavailable, "v1 store: schema in " + path + ": " + msg);
  }
  return std::unique_ptr<JsonStore>(new SqliteJsonStore(db));
}

namespace {

class PostgresJsonStore : public JsonStore {
 public:
  explicit PostgresJsonStore(std::unique_ptr<placement::PgConnection> db) : db_(std::move(db)) {}

  Result<std::vector<std::pair<std::string, nlohmann::json>>> loadKind(
      const std::string& kind) override {
    std::lock_guard lock(mutex_);
    ASSIGN_OR_RETURN(placement::PgRows rows,
                     db_->exec("SELECT id, body FROM v1_documents WHERE kind = $1 ORDER BY seq",
                               {kind}, "load " + kind));
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (int r = 0; r < rows.size(); ++r) {
      auto body = nlohmann::json::parse(rows.text(r, 1), nullptr, false);
      if (body.is_discarded()) {
        return makeError(ErrorCode::kInternal,
                         "v1_documents: corrupt JSON for " + kind + " " + rows.text(r, 0));
      }
      out.emplace_back(rows.text(r, 0), std::move(body));
    }
    return out;
  }

  Status apply(const std::vector<JsonDocChange>& changes) override {
    std::lock_guard lock(mutex_);
    return db_->transaction("BEGIN", [&]() -> Status {
      for (const auto& c : changes) {
        if (c.body) {
          RETURN_IF_ERROR(
              db_->run("INSERT INTO v1_documents (kind, id, body) VALUES ($1, $2, $3)"
                       " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                       {c.kind, c.id, c.body->dump()}, "write " + c.kind));
        } else {
          RETURN_IF_ERROR(db_->run("DELETE FROM v1_documents WHERE kind = $1 AND id = $2",
                                   {c.kind, c.id}, "delete " + c.kind));
        }
      }
      return Status::ok();
    });
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<placement::PgConnection> db_;
};

}  // namespace

Result<std::unique_ptr<JsonStore>> openPostgresJsonStore(const std::string& conninfo) {
  ASSIGN_OR_RETURN(auto db, placement::PgConnection::open(conninfo, "v1 store"));
  return std::unique_ptr<JsonStore>(new PostgresJsonStore(std::move(db)));
}

}  // namespace bwfloor::ports
