#pragma once
// A private ovsdb-server (and, on request, ovs-vswitchd) for one test: database, sockets,
// pidfiles, control sockets and logs all in a fresh /tmp/bwfloor-ovsdb-XXXXXX directory (never
// /var/run/openvswitch). The daemons run in the network namespace of the thread that starts them.
// The destructor stops them and removes the directory, whether or not the test's assertions
// passed.

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
  // Starts ovs-vswitchd on the database (after start()). Bridges use datapath_type=netdev (the
  // userspace datapath) unless the kernel has the openvswitch module (the vf-vm rig's has).
  ::testing::AssertionResult startVswitchd();
  // Stops ovs-vswitchd (ovs-appctl exit: what it put in the kernel stays). Idempotent.
  ::testing::AssertionResult stopVswitchd();
  // Stops ovs-vswitchd (if running), then the server (ovs-appctl exit, SIGKILL after a deadline).
  // Idempotent.
  ::testing::AssertionResult stop();

  // Neutron's topology: br-int and the physical bridge `physical` (datapath_type `datapath`:
  // "netdev", the userspace datapath, by default; "system" needs the openvswitch kernel module),
  // joined by the patch ports int-<physical> / phy-<physical>, with the existing kernel device
  // `uplink` as the physical bridge's uplink.
  ::testing::AssertionResult addNeutronBridges(const std::string& physical,
                                               const std::string& uplink,
                                               const std::string& datapath = "netdev");

  // ovs-vsctl --db=<remote> --timeout=10 <args>, with --no-wait unless ovs-vswitchd runs (then it
  // returns once ovs-vswitchd has applied the change). Its output goes to `output` if given.
  ::testing::AssertionResult vsctl(const std::vector<std::string>& args,
                                   std::string* output = nullptr);

  const std::string& dir() const { return dir_; }
  std::string socketPath() const { return dir_ + "/db.sock"; }
  std::string remote() const { return "unix:" + socketPath(); }
  // Last lines of the daemons' logs, for failure messages.
  std::string logTail() const;

 private:
  ::testing::AssertionResult run(const std::vector<std::string>& argv,
                                 std::string* output = nullptr);
  ::testing::AssertionResult stopDaemon(const std::string& name, pid_t pid);

  std::string dir_;
  std::vector<std::string> env_;  // OVS_RUNDIR etc. pointing into dir_
  bool launched_ = false;         // ovsdb-server was started and not yet stopped
  pid_t pid_ = -1;
  bool vswitchdLaunched_ = false;
  pid_t vswitchdPid_ = -1;
};

// ovs-vswitchd 3.1 sizes its kernel-datapath upcall handlers by count_cpu_cores(), which caches
// the CPU count for 10 s from time 0 of CLOCK_MONOTONIC, i.e. boot. Started within the first 10 s
// of uptime (a freshly booted test VM) it counts 0 CPUs, creates no handler, and every packet that
// misses the kernel flow table is dropped as "lost". Waits (at most 15 s) until that window has
// passed; false if it did not. Real hosts start ovs-vswitchd later than that.
bool waitForOvsCpuCount();

}  // namespace bwfloor::test
