#pragma once
// Test-only helpers for rigs built in network namespaces: run a program (no shell), start one in
// the background, create namespaces that are always deleted (RAII), enter a namespace for the
// calling thread, wait on a condition instead of sleeping. CommandResult, describe() and
// waitUntil() are the ones of tests/integration/ovs/subprocess.h (link subprocess.cpp too), so a
// test can combine these rigs with the OVSDB rig.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/ovs/subprocess.h"

namespace bwfloor::test {

using namespace std::chrono_literals;

// Runs argv (argv[0] looked up in PATH and the sbin directories), capturing its output; killed at
// the deadline. Never throws.
CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s);

// A process started in the background with its output in a file; killed (SIGKILL, by pid) and
// reaped when destroyed unless it was waited for.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits for the exit; -1 when it did not exit in time (it is then killed).
  int wait(std::chrono::milliseconds timeout);
  std::string output() const;  // what it wrote so far
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string outputPath_;
  bool reaped_ = false;
};

// "bwf<pid>x<n>": unique per process and call, short enough to build device names from.
std::string uniqueName(const std::string& tag);

// `ip netns add NAME` now, `ip netns del NAME` (killing whatever still runs inside) at the end.
class Netns {
 public:
  explicit Netns(std::string name);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  bool created() const { return created_; }
  // argv run inside the namespace (ip netns exec NAME argv...).
  CommandResult exec(const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = 30s) const;
  std::vector<std::string> execArgv(const std::vector<std::string>& argv) const;

 private:
  std::string name_;
  bool created_ = false;
};

// Moves the calling thread into a namespace until destroyed. Sockets opened meanwhile (a
// LibnlTcApi) keep working on that namespace afterwards.
class EnterNetns {
 public:
  explicit EnterNetns(const std::string& name);
  ~EnterNetns();
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  int original_ = -1;
  bool ok_ = false;
};

// Counts "quantum of class ... is big/small" lines in the kernel log (dmesg).
int kernelQuantumWarnings();

}  // namespace bwfloor::test
