#include "placement/ports/json_store.h"

#include <sqlite3.h>

#include <mutex>

#include "placement/store/pg_change_log.h"
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

using placement::LogStream;

std::string encodeDocs(const std::vector<JsonDocChange>& changes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : changes) {
    out.push_back({{"kind", c.kind}, {"id", c.id}, {"body", c.body ? *c.body : nullptr}});
  }
  return out.dump();
}

Result<OthersDocs> decodeDocs(const placement::LogRead& read) {
  OthersDocs out;
  out.reloadNeeded = read.trimmed;
  out.head = read.head;
  for (const auto& entry : read.changes) {
    auto j = nlohmann::json::parse(entry.payload, nullptr, false);
    std::vector<JsonDocChange> docs;
    bool ok = j.is_array();
    for (const auto& d : ok ? j : nlohmann::json::array()) {
      ok = ok && d.is_object() && d.contains("kind") && d["kind"].is_string() && d.contains("id") &&
           d["id"].is_string() && d.contains("body");
      if (!ok) break;
      std::optional<nlohmann::json> body;
      if (!d["body"].is_null()) body = d["body"];
      docs.push_back({d["kind"].get<std::string>(), d["id"].get<std::string>(), std::move(body)});
    }
    if (!ok) {
      return makeError(ErrorCode::kInternal,
                       "v1 change log entry " + placement::pgInt(entry.seq) + " is malformed");
    }
    out.changes.emplace_back(entry.seq, std::move(docs));
  }
  return out;
}

// Shared by every bwfloor-server on the database: writes take the /v1 stream's lock and append
// to the change log (placement/store/pg_change_log.h); a second connection follows the others.
class PostgresJsonStore : public JsonStore {
 public:
  PostgresJsonStore(std::unique_ptr<placement::PgConnection> db,
                    std::unique_ptr<placement::PgConnection> followDb)
      : db_(std::move(db)), followDb_(std::move(followDb)) {}

  Result<std::vector<std::pair<std::string, nlohmann::json>>> loadKind(
      const std::string& kind) override {
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
    if (changes.empty()) return Status::ok();
    if (!db_->inTransaction()) {
      RETURN_IF_ERROR(db_->run("BEGIN", {}, "BEGIN"));
      if (Status st = placement::lockStream(*db_, LogStream::kV1); !st) {
        db_->rollback();
        return st;
      }
    }
    Status st = write(changes);
    if (st) {
      auto seq = placement::appendLog(*db_, LogStream::kV1, encodeDocs(changes));
      st = seq ? db_->run("COMMIT", {}, "COMMIT") : Status(seq.error());
      if (st) committedSeq_ = *seq;
    }
    if (!st) db_->rollback();
    return st;
  }

  bool shared() const override { return true; }
  Result<int64_t> head() override { return placement::logHead(*db_, LogStream::kV1); }

  Result<OthersDocs> beginWrite(int64_t seq) override {
    db_->rollback();
    RETURN_IF_ERROR(db_->run("BEGIN", {}, "BEGIN"));
    Result<placement::LogRead> read = [&]() -> Result<placement::LogRead> {
      RETURN_IF_ERROR(placement::lockStream(*db_, LogStream::kV1));
      return placement::readLogAfter(*db_, LogStream::kV1, seq);
    }();
    if (!read) {
      db_->rollback();
      return read.error();
    }
    return decodeDocs(*read);
  }
  void abortWrite() override { db_->rollback(); }
  int64_t committedSeq() const override { return committedSeq_; }

  Result<OthersDocs> changesAfter(int64_t seq) override {
    std::lock_guard lock(followMutex_);
    ASSIGN_OR_RETURN(placement::LogRead read,
                     placement::readLogAfter(*followDb_, LogStream::kV1, seq));
    return decodeDocs(read);
  }

 private:
  Status write(const std::vector<JsonDocChange>& changes) {
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
  }

  // Writes and loads; PortsService serialises them (its lock spans beginWrite..apply).
  std::unique_ptr<placement::PgConnection> db_;
  int64_t committedSeq_ = 0;
  std::mutex followMutex_;
  std::unique_ptr<placement::PgConnection> followDb_;
};

}  // namespace

Result<std::unique_ptr<JsonStore>> openPostgresJsonStore(const std::string& conninfo) {
  ASSIGN_OR_RETURN(auto db, placement::PgConnection::open(conninfo, "v1 store"));
  ASSIGN_OR_RETURN(auto followDb, placement::PgConnection::open(conninfo, "v1 store (follower)"));
  return std::unique_ptr<JsonStore>(new PostgresJsonStore(std::move(db), std::move(followDb)));
}

}  // namespace bwfloor::ports
