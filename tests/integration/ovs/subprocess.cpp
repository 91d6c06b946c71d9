#include "tests/integration/ovs/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX's name

namespace bwfloor::test {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> mergedEnvironment(const std::vector<std::string>& extraEnv) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string current = *entry;
    const std::string name = current.substr(0, current.find('='));
    bool overridden = false;
    for (const std::string& extra : extraEnv) {
      overridden = overridden || extra.substr(0, extra.find('=')) == name;
    }
    if (!overridden) env.push_back(current);
  }
  env.insert(env.end(), extraEnv.begin(), extraEnv.end());
  return env;
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Reads what is available on `fd` into `out`; false at EOF or error.
bool drain(int fd, std::string& out) {
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n > 0) {
      out.append(buf.data(), static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

void recordStatus(int status, CommandResult& result) {
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exitCode = WEXITSTATUS(status);
  }
}

}  // namespace

std::string describe(const std::vector<std::string>& argv) {
  std::ostringstream os;
  for (size_t i = 0; i < argv.size(); ++i) os << (i ? " " : "") << argv[i];
  return os.str();
}

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extraEnv) {
  CommandResult result;
  if (argv.empty()) return result;
  std::array<int, 2> fds{};
  if (pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    result.output = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<std::string> args = argv;
  std::vector<std::string> env = mergedEnvironment(extraEnv);
  std::vector<char*> argp = cStrings(args);
  std::vector<char*> envp = cStrings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    result.output = "posix_spawn " + argv[0] + ": " + std::strerror(rc);
    return result;
  }

  // Stop at the child's exit, not at EOF: a daemonizing child (ovsdb-server --detach) leaves a
  // grandchild that may hold the pipe a little longer.
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  bool open = true;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timedOut = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    if (open && poll(&pfd, 1, 10) > 0) {
      open = drain(fds[0], result.output);
    } else if (!open) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // child closed stdout early
    }
  }
  if (open) drain(fds[0], result.output);
  close(fds[0]);
  if (!result.timedOut) recordStatus(status, result);
  return result;
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::optional<std::string> findProgram(const std::string& program) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::istringstream in(path);
    for (std::string dir; std::getline(in, dir, ':');) {
      if (!dir.empty()) dirs.push_back(dir);
    }
  }
  for (const char* dir : {"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    dirs.emplace_back(dir);
  }
  for (const std::string& dir : dirs) {
    std::string candidate = dir;
    candidate.append("/").append(program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace bwfloor::test
