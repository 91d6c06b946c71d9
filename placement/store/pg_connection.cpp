#include "placement/store/pg_connection.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/logging.h"

namespace bwfloor::placement {
namespace {

// libpq's messages end in a newline.
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::string maskConnectionPassword(std::string_view url) {
  size_t authority = url.find("://");
  if (authority == std::string_view::npos) return std::string(url);
  authority += 3;
  size_t at = url.find('@', authority);
  size_t slash = url.find('/', authority);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

Result<std::string> postgresConninfoFromConnection(std::string_view connection) {
  auto invalid = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidArgument,
                     "database connection '" + maskConnectionPassword(connection) + "': " + why +
                         "; expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
  };
  const size_t sep = connection.find("://");
  if (sep == std::string_view::npos) return invalid("not a URL");
  const std::string_view scheme = connection.substr(0, sep);
  if (scheme != "postgresql" && scheme != "postgres" && scheme != "postgresql+psycopg2") {
    return invalid("scheme '" + std::string(scheme) + "' is not PostgreSQL");
  }
  std::string uri = "postgresql://" + std::string(connection.substr(sep + 3));
  const size_t slash = uri.find('/', std::string_view("postgresql://").size());
  if (slash == std::string::npos || slash + 1 >= uri.size() || uri[slash + 1] == '?') {
    return invalid("no database name after the host");
  }
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &err);
  if (options == nullptr) {
    const std::string why = trimmed(err != nullptr ? err : "libpq cannot parse it");
    PQfreemem(err);
    return invalid(why);
  }
  PQconninfoFree(options);
  return uri;
}

int64_t PgRows::integer(int row, int column) const {
  const std::string value = text(row, column);
  int64_t out = 0;
  std::from_chars(value.data(), value.data() + value.size(), out);
  return out;
}

int64_t PgRows::affected() const {
  const char* n = PQcmdTuples(result_.get());
  int64_t out = 0;
  std::from_chars(n, n + std::strlen(n), out);
  return out;
}

double PgRows::real(int row, int column) const {
  return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

std::string pgInt(int64_t value) { return std::to_string(value); }

std::string pgReal(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& conninfo,
                                                         std::string what) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return makeError(ErrorCode::kUnavailable, what + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string why = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return makeError(ErrorCode::kUnavailable,
                     what + ": cannot connect to " + maskConnectionPassword(conninfo) + ": " + why);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, std::move(what)));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<PgRows> PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params,
                                  std::string_view step) {
  if (PQstatus(conn_) != CONNECTION_OK && !inTransaction_) {
    PQreset(conn_);  // the server restarted or the network blinked: once, outside a transaction
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Without parameters: the simple protocol, which also runs a script of several statements.
  auto send = [&] {
    return values.empty() ? PQexec(conn_, sql.c_str())
                          : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                         nullptr, values.data(), nullptr, nullptr, 0);
  };
  const std::string head = sql.substr(0, sql.find(' '));
  PGresult* result = send();
  // A connection the server dropped (a restart) looks fine until a statement fails on it. The
  // first statement of a transaction, or a read outside one, changed nothing: reconnect and
  // send it again, once.
  const bool repeatable =
      !inTransaction_ && (head == "BEGIN" || head == "SELECT" || head == "LISTEN");
  if (repeatable && PQstatus(conn_) != CONNECTION_OK) {
    PQclear(result);
    PQreset(conn_);
    result = send();
  }
  if (head == "COMMIT" || head == "ROLLBACK") inTransaction_ = false;
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    const std::string why =
        trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
    PQclear(result);
    // Connection (08), serialization (40001), deadlock (40P01), shutdown (57P): the world.
    const bool transient = PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
                           sqlstate == "40001" || sqlstate == "40P01" ||
                           sqlstate.rfind("57P", 0) == 0;
    return makeError(transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                     what_ + ": " + std::string(step.empty() ? std::string_view(sql) : step) +
                         " failed: " + why +
                         (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  }
  if (head == "BEGIN") inTransaction_ = true;
  return PgRows(result);
}

Status PgConnection::run(const std::string& sql, const std::vector<PgParam>& params,
                         std::string_view step) {
  auto rows = exec(sql, params, step);
  if (!rows) return rows.error();
  return Status::ok();
}

bool PgConnection::takeNotifications() {
  if (PQconsumeInput(conn_) == 0) return false;
  bool any = false;
  while (PGnotify* n = PQnotifies(conn_)) {
    any = true;
    PQfreemem(n);
  }
  return any;
}

void PgConnection::rollback() {
  if (!inTransaction_) return;
  PGresult* r = PQexec(conn_, "ROLLBACK");
  PQclear(r);
  inTransaction_ = false;
}

}  // namespace bwfloor::placement
