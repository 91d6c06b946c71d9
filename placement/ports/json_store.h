#pragma once
// Durable storage for the /v1 objects (networks, policies, ports, servers, agents): one JSON
// document per (kind, id) in the server's SQLite file. These objects are few and small; a
// document table keeps their schema in code, next to their validation.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::ports {

struct JsonDocChange {
  std::string kind;
  std::string id;
  std::optional<nlohmann::json> body;  // nullopt = delete
};

// What other servers committed to a shared store after a given sequence number.
struct OthersDocs {
  std::vector<std::pair<int64_t, std::vector<JsonDocChange>>> changes;  // (seq, changes)
  bool reloadNeeded = false;  // the log no longer reaches back that far
  int64_t head = 0;
};

class JsonStore {
 public:
  virtual ~JsonStore() = default;
  virtual Result<std::vector<std::pair<std::string, nlohmann::json>>> loadKind(
      const std::string& kind) = 0;
  // All or nothing.
  virtual Status apply(const std::vector<JsonDocChange>& changes) = 0;

  // --- Several servers on one database, as placement::Store has them (PostgreSQL). ---
  virtual bool shared() const { return false; }
  // The change log's head; read it before loading (re-applying a logged change is harmless).
  virtual Result<int64_t> head() { return int64_t{0}; }
  // Takes the /v1 stream's write lock; returns what others committed after `seq`.
  virtual Result<OthersDocs> beginWrite(int64_t seq) { return OthersDocs{{}, false, seq}; }
  virtual void abortWrite() {}
  virtual int64_t committedSeq() const { return 0; }
  virtual Result<OthersDocs> changesAfter(int64_t seq) { return OthersDocs{{}, false, seq}; }
};

class MemoryJsonStore : public JsonStore {
 public:
  Result<std::vector<std::pair<std::string, nlohmann::json>>> loadKind(
      const std::string& kind) override;
  Status apply(const std::vector<JsonDocChange>& changes) override;

 private:
  std::map<std::pair<std::string, std::string>, nlohmann::json> docs_;
};

// Opens (creating if needed) the v1_documents table in the SQLite file at path.
Result<std::unique_ptr<JsonStore>> openSqliteJsonStore(const std::string& path);
// The v1_documents table of a PostgreSQL database (its schema made by PostgresStore::open).
Result<std::unique_ptr<JsonStore>> openPostgresJsonStore(const std::string& conninfo);

}  // namespace bwfloor::ports
