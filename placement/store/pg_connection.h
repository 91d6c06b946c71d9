#pragma once
// One libpq connection with typed errors: the PostgreSQL stores (placement's and /v1's) run every
// statement through it with text parameters. Not thread-safe: its owner serialises calls.

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bwfloor::placement {

// "postgresql://user:pass@host:port/db?opt=v" (also postgres:// and SQLAlchemy's
// postgresql+psycopg2:// as Placement's configuration has it) -> the URI libpq takes. The error
// says what is wrong with the text, the password masked.
Result<std::string> postgresConninfoFromConnection(std::string_view connection);
// The text with its password replaced by ***, for logs and errors.
std::string maskConnectionPassword(std::string_view connection);

// A query's rows as text; a NULL is nullopt.
class PgRows {
 public:
  explicit PgRows(PGresult* result) : result_(result, PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool isNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const { return PQgetvalue(result_.get(), row, column); }
  int64_t integer(int row, int column) const;
  double real(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

using PgParam = std::optional<std::string>;  // nullopt = NULL

class PgConnection {
 public:
  // Connects; `what` names the store in errors ("postgres store").
  static Result<std::unique_ptr<PgConnection>> open(const std::string& conninfo, std::string what);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. A lost connection is reset once before the statement (never inside a
  // transaction: the caller starts over). Errors: kUnavailable for connection, serialization and
  // deadlock failures (worth a retry), kInternal for the rest, with the SQLSTATE.
  Result<PgRows> exec(const std::string& sql, const std::vector<PgParam>& params = {},
                      std::string_view step = "");
  Status run(const std::string& sql, const std::vector<PgParam>& params = {},
             std::string_view step = "");
  // BEGIN ... COMMIT around `body`; ROLLBACK when it or the COMMIT fails.
  template <typename Body>
  Status transaction(const char* begin, Body&& body) {
    RETURN_IF_ERROR(run(begin, {}, begin));
    Status st = body();
    if (st) st = run("COMMIT", {}, "COMMIT");
    if (!st) rollback();
    return st;
  }
  // Ends an open transaction, if any (a failed write, or a write lock given back unused).
  void rollback();
  bool inTransaction() const { return inTransaction_; }
  const std::string& what() const { return what_; }

  // LISTEN/NOTIFY: the socket to wait on, and whether a notification arrived since the last call
  // (false also when the connection is lost: then `alive()` says so).
  int socket() const { return PQsocket(conn_); }
  bool takeNotifications();
  bool alive() const { return PQstatus(conn_) == CONNECTION_OK; }

 private:
  PgConnection(PGconn* conn, std::string what) : conn_(conn), what_(std::move(what)) {}
  PGconn* conn_;
  std::string what_;
  bool inTransaction_ = false;
};

std::string pgInt(int64_t value);
std::string pgReal(double value);

}  // namespace bwfloor::placement
