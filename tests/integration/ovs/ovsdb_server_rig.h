#pragma once
// A private ovsdb-server for one test: database, socket, pidfile, control socket and log all in a
// fresh /tmp/bwfloor-ovsdb-XXXXXX directory (never /var/run/openvswitch). The destructor stops the
// server and removes the directory, whether or not the test's assertions passed.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/ovs/subprocess.h"

namespace bwfloor::test {

class OvsdbServerRig {
 public:
  static constexpr std::chrono::milliseconds kCommandTimeout{10000};
  static constexpr const char* kVswitchSchema = "/usr/share/openvswitch/vswitch.ovsschema";

  OvsdbServerRig();   // creates the directory only
  ~OvsdbServerRig();  // stop(), then removes the directory
  OvsdbServerRig(const OvsdbServerRig&) = delete;
  OvsdbServerRig& operator=(const OvsdbServerRig&) = delete;

  // Creates an empty database of `schema`, starts ovsdb-server on it and, for the Open_vSwitch
  // schema, runs `ovs-vsctl init` (which also proves the server answers).
  ::testing::AssertionResult start(const std::string& schema = kVswitchSchema);
  // Stops the server (ovs-appctl exit, SIGKILL after a deadline). Idempotent.
  ::testing::AssertionResult stop();

  // ovs-vsctl --db=<remote> --no-wait --timeout=10 <args>: no ovs-vswitchd runs, so never wait.
  ::testing::AssertionResult vsctl(const std::vector<std::string>& args);

  const std::string& dir() const { return dir_; }
  std::string socketPath() const { return dir_ + "/db.sock"; }
  std::string remote() const { return "unix:" + socketPath(); }
  std::string logTail() const;  // last lines of the server's log, for failure messages

 private:
  ::testing::AssertionResult run(const std::vector<std::string>& argv);

  std::string dir_;
  std::vector<std::string> env_;  // OVS_RUNDIR etc. pointing into dir_
  bool launched_ = false;         // ovsdb-server was started and not yet stopped
  pid_t pid_ = -1;
};

}  // namespace bwfloor::test
