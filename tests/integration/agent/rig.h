#pragma once
// Test rig pieces for the agent's integration tests (root): a private network namespace that the
// calling thread enters (so every command and process it starts runs there, and its own sockets
// reach the namespace's 127.0.0.1), long-running daemons with their output in a log file, and
// `ip` helpers. Every piece undoes itself in its destructor, whatever the test's assertions did.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace bwfloor::test {

// `ip netns add bwf-agent-<pid>-<n>`, entered by this thread (setns); the destructor returns the
// thread to its original namespace and deletes the new one (with every link in it).
class NetnsGuard {
 public:
  NetnsGuard();
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

  ::testing::AssertionResult ok() const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string error_;
  int originalFd_ = -1;
  bool created_ = false;
  bool entered_ = false;
};

// A daemon started with fork/exec, stdout and stderr appended to `logPath`. It dies with the test
// process (PR_SET_PDEATHSIG); the destructor stops it (SIGTERM, SIGKILL after 5 s) and reaps it.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  ::testing::AssertionResult start(const std::vector<std::string>& argv,
                                   const std::string& logPath);
  // Sends `sig`; false when the process is not running.
  bool signal(int sig);
  bool running();
  // Stops it; returns its exit status text ("exit 0", "signal 9", ...).
  std::string stop();
  std::string log() const;  // the whole log file
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string logPath_;
};

// Runs /usr/sbin/ip (or wherever ip is) with `args`, in this thread's namespace.
::testing::AssertionResult ip(const std::vector<std::string>& args);

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// Counts the occurrences of `text` in `haystack`.
int countOf(const std::string& haystack, const std::string& text);

}  // namespace bwfloor::test
