#include "placement/store/pg_change_log.h"

namespace bwfloor::placement {
namespace {

// Advisory lock keys of the streams' write locks (the schema and one-server keys are 7303901-2).
const char* lockKey(LogStream stream) {
  return stream == LogStream::kPlacement ? "7303911" : "7303912";
}

}  // namespace

const char* logStreamName(LogStream stream) {
  return stream == LogStream::kPlacement ? "placement" : "v1";
}

Status lockStream(PgConnection& db, LogStream stream) {
  return db.run("SELECT pg_advisory_xact_lock(" + std::string(lockKey(stream)) + ")", {},
                "take the write lock");
}

Result<LogRead> readLogAfter(PgConnection& db, LogStream stream, int64_t after) {
  const std::string name = logStreamName(stream);
  LogRead out;
  ASSIGN_OR_RETURN(PgRows trim, db.exec("SELECT trimmed_through FROM change_log_trim"
                                        " WHERE stream = $1",
                                        {name}, "read the log's trim mark"));
  if (trim.size() > 0 && after < trim.integer(0, 0)) {
    out.trimmed = true;
    ASSIGN_OR_RETURN(out.head, logHead(db, stream));
    return out;
  }
  ASSIGN_OR_RETURN(PgRows rows, db.exec("SELECT seq, payload FROM change_log WHERE stream = $1"
                                        " AND seq > $2 ORDER BY seq",
                                        {name, pgInt(after)}, "read the change log"));
  out.head = after;
  for (int r = 0; r < rows.size(); ++r) {
    out.changes.push_back({rows.integer(r, 0), rows.text(r, 1)});
    out.head = out.changes.back().seq;
  }
  return out;
}

Result<int64_t> appendLog(PgConnection& db, LogStream stream, const std::string& payload) {
  const std::string name = logStreamName(stream);
  ASSIGN_OR_RETURN(PgRows row, db.exec("INSERT INTO change_log (stream, payload) VALUES ($1, $2)"
                                       " RETURNING seq",
                                       {name, payload}, "append to the change log"));
  const int64_t seq = row.integer(0, 0);
  RETURN_IF_ERROR(db.run("SELECT pg_notify($1, $2)", {kChangeChannel, name}, "notify"));
  if (seq % 1024 == 0) {
    // Keep the last kLogKeep entries: a replica further behind reloads instead.
    ASSIGN_OR_RETURN(PgRows old, db.exec("SELECT seq FROM change_log WHERE stream = $1"
                                         " ORDER BY seq DESC OFFSET $2 LIMIT 1",
                                         {name, pgInt(kLogKeep)}, "find old log entries"));
    if (old.size() > 0) {
      const std::string through = old.text(0, 0);
      RETURN_IF_ERROR(db.run("DELETE FROM change_log WHERE stream = $1 AND seq <= $2",
                             {name, through}, "trim the change log"));
      RETURN_IF_ERROR(
          db.run("INSERT INTO change_log_trim (stream, trimmed_through)"
                 " VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE"
                 " SET trimmed_through = excluded.trimmed_through",
                 {name, through}, "record the trim"));
    }
  }
  return seq;
}

Result<int64_t> logHead(PgConnection& db, LogStream stream) {
  ASSIGN_OR_RETURN(PgRows row, db.exec("SELECT coalesce(max(seq), 0) FROM change_log"
                                       " WHERE stream = $1",
                                       {std::string(logStreamName(stream))}, "read the log head"));
  return row.integer(0, 0);
}

}  // namespace bwfloor::placement
