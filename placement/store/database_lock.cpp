#include "placement/store/database_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bwfloor::placement {
namespace {

std::string holderOf(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "another process" : "pid " + pid;
}

}  // namespace

Result<DatabaseLock> DatabaseLock::acquire(const std::string& databasePath) {
  const std::string path = databasePath + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return makeError(ErrorCode::kUnavailable,
                     "cannot open the lock file " + path + ": " + std::strerror(errno), errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = holderOf(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return makeError(ErrorCode::kUnavailable,
                       "the database " + databasePath + " is in use by another bwfloor-server (" +
                           holder + ", lock " + path +
                           "): one SQLite file serves one server, whose model would not see a "
                           "second one's writes; stop the other server or give this one its own "
                           "[placement_database] connection");
    }
    return makeError(ErrorCode::kUnavailable, "cannot lock " + path + ": " + std::strerror(err),
                     err);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only a second server's message is poorer.
  }
  return DatabaseLock(fd);
}

DatabaseLock::DatabaseLock(DatabaseLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DatabaseLock& DatabaseLock::operator=(DatabaseLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace bwfloor::placement
