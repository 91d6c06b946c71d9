#include "agent/status/status_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/logging.h"

namespace bwfloor::agent {
namespace {

Result<sockaddr_un> addressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "status socket path \"" + path + "\" is empty or longer than " +
                         std::to_string(sizeof(addr.sun_path) - 1) + " characters");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Error systemError(const std::string& what, const std::string& path) {
  const int err = errno;
  return makeError(ErrorCode::kUnavailable, what + " " + path + ": " + std::strerror(err), err);
}

bool writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<StatusSocket>> StatusSocket::open(const std::string& path,
                                                         DocumentSource source) {
  ASSIGN_OR_RETURN(const sockaddr_un addr, addressOf(path));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return systemError("socket() for", path);
  ::unlink(path.c_str());  // a stale socket of a previous run
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::chmod(path.c_str(), 0660) != 0 || ::listen(fd, 16) != 0) {
    Error e = systemError("cannot listen on", path);
    ::close(fd);
    return e;
  }
  return std::unique_ptr<StatusSocket>(new StatusSocket(path, fd, std::move(source)));
}

StatusSocket::StatusSocket(std::string path, int fd, DocumentSource source)
    : path_(std::move(path)), fd_(fd), source_(std::move(source)) {
  thread_ = std::thread([this] { serve(); });
}

StatusSocket::~StatusSocket() {
  stopping_ = true;
  ::shutdown(fd_, SHUT_RDWR);  // wakes the poll below
  thread_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void StatusSocket::serve() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) continue;  // the timeout only bounds how late a stop is seen
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (!writeAll(client, source_() + "\n")) {
      logger("agent")->debug("status socket: reader went away: {}", std::strerror(errno));
    }
    ::close(client);
  }
}

Result<std::string> readStatusSocket(const std::string& path) {
  ASSIGN_OR_RETURN(const sockaddr_un addr, addressOf(path));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return systemError("socket() for", path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    Error e = systemError("cannot connect to the agent's status socket", path);
    ::close(fd);
    return e;
  }
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace bwfloor::agent
