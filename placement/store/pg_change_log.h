#pragma once
// The change log that lets several bwfloor-servers share one PostgreSQL database (issue 16).
//
// Each write appends what it changed to change_log in the same transaction, while it holds its
// stream's database-wide write lock (a transaction-level advisory lock). Writes of a stream are
// therefore serial across replicas and their sequence numbers are in commit order. A writer first
// reads what others appended since it last looked and applies it, so it validates against the
// database's current state. A replica follows the others' writes by reading the log after the
// last sequence number it applied; NOTIFY wakes it, polling bounds the wait.
//
// Two streams: placement's model and the /v1 documents. Both run their own write lock, so
// placement claims never wait for /v1 writes.

#include <cstdint>
#include <string>
#include <vector>

#include "placement/store/pg_connection.h"

namespace bwfloor::placement {

enum class LogStream { kPlacement, kV1 };
const char* logStreamName(LogStream stream);

// The channel that every append NOTIFYs (payload: the stream's name).
inline constexpr const char* kChangeChannel = "bwfloor_changes";

struct LoggedChange {
  int64_t seq = 0;
  std::string payload;
};

struct LogRead {
  std::vector<LoggedChange> changes;  // in sequence order
  // The reader is too far behind: entries after its sequence number were trimmed. It must
  // reload everything (at `head`).
  bool trimmed = false;
  int64_t head = 0;  // the stream's last sequence number when read
};

// Inside an open transaction: takes the stream's write lock until COMMIT or ROLLBACK.
Status lockStream(PgConnection& db, LogStream stream);
// What the stream logged after `after`.
Result<LogRead> readLogAfter(PgConnection& db, LogStream stream, int64_t after);
// Appends (under lockStream) and NOTIFYs at COMMIT; returns the entry's sequence number. Now
// and then trims entries far behind the head.
Result<int64_t> appendLog(PgConnection& db, LogStream stream, const std::string& payload);
// The stream's last sequence number (0 when empty).
Result<int64_t> logHead(PgConnection& db, LogStream stream);

// How many entries a stream keeps: a replica further behind reloads.
inline constexpr int64_t kLogKeep = 100000;

}  // namespace bwfloor::placement
