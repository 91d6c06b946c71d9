#pragma once
// One bwfloor-server per SQLite file. SQLite itself would let two processes share the file, but
// each server keeps the model in memory and would never see the other's writes: the two diverge
// (a provider created through one is missing on the other). The lock makes the second refuse to
// start instead, naming the process that holds the file.

#include <string>

#include "core/result.h"

namespace bwfloor::placement {

// An exclusive flock(2) on "<database>.lock", held while this object lives; the kernel releases it
// when the process dies, also by kill -9. The file holds the holder's pid, for the message.
class DatabaseLock {
 public:
  static Result<DatabaseLock> acquire(const std::string& databasePath);
  DatabaseLock(DatabaseLock&& other) noexcept;
  DatabaseLock& operator=(DatabaseLock&& other) noexcept;
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;
  ~DatabaseLock();

 private:
  explicit DatabaseLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bwfloor::placement
