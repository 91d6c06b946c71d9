#include "tests/integration/ovs/ovsdb_server_rig.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>

namespace bwfloor::test {
namespace {

constexpr std::chrono::milliseconds kStartDeadline{10000};
constexpr std::chrono::milliseconds kStopDeadline{5000};

bool isZombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// The daemon is our child (we are its subreaper): reap it once it exits. Should it not be ours,
// a zombie counts as gone (PID 1 of some containers reaps late).
bool processGone(pid_t pid) {
  if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  if (!isZombie(pid)) return false;
  waitpid(pid, nullptr, WNOHANG);  // it may have exited since the first waitpid
  return true;
}

std::optional<pid_t> readPidfile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
  return std::nullopt;
}

std::string program(const std::string& name) {
  return findProgram(name).value_or(name +
                                    " (not found: scripts/install-deps.sh installs "
                                    "openvswitch-switch)");
}

}  // namespace

OvsdbServerRig::OvsdbServerRig() {
  // ovsdb-server --detach leaves a daemon whose parent has exited: make it ours, so that stop()
  // reaps it instead of leaving a zombie where PID 1 does not reap.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // /tmp, not $TMPDIR: a unix socket path must stay under 108 bytes.
  std::string pattern = "/tmp/bwfloor-ovsdb-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  for (const char* var : {"OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"}) {
    env_.push_back(std::string(var) + "=" + dir_);
  }
}

OvsdbServerRig::~OvsdbServerRig() {
  const ::testing::AssertionResult stopped = stop();
  if (!stopped) ADD_FAILURE() << "cleanup: " << stopped.message();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (ec) ADD_FAILURE() << "cleanup: remove " << dir_ << ": " << ec.message();
  }
}

::testing::AssertionResult OvsdbServerRig::run(const std::vector<std::string>& argv,
                                               std::string* output) {
  const CommandResult result = runCommand(argv, kCommandTimeout, env_);
  if (output != nullptr) *output = result.output;
  if (result.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << describe(argv) << " failed ("
         << (result.timedOut ? "timed out"
             : result.exited ? "exit " + std::to_string(result.exitCode)
                             : std::string("killed"))
         << "): " << result.output;
}

::testing::AssertionResult OvsdbServerRig::start(const std::string& schema) {
  if (dir_.empty())
    return ::testing::AssertionFailure() << "mkdtemp /tmp/bwfloor-ovsdb-XXXXXX failed";
  if (access(schema.c_str(), R_OK) != 0) {
    return ::testing::AssertionFailure()
           << schema << " missing: scripts/install-deps.sh installs openvswitch-switch";
  }
  const std::string db = dir_ + "/conf.db";
  if (auto created = run({program("ovsdb-tool"), "create", db, schema}); !created) return created;
  const std::string pidfile = dir_ + "/ovsdb-server.pid";
  launched_ = true;
  auto started = run({program("ovsdb-server"), db, "--remote=punix:" + socketPath(),
                      "--pidfile=" + pidfile, "--unixctl=" + dir_ + "/ovsdb-server.ctl",
                      "--log-file=" + dir_ + "/ovsdb-server.log", "--detach", "--no-chdir"});
  if (!started) return started << "\n" << logTail();
  // --detach returns once the daemon is ready; still, wait for its traces rather than assume.
  if (!waitUntil([&] { return readPidfile(pidfile).has_value(); }, kStartDeadline)) {
    return ::testing::AssertionFailure() << "no pid in " << pidfile << "\n" << logTail();
  }
  pid_ = *readPidfile(pidfile);
  if (!waitUntil([&] { return std::filesystem::exists(socketPath()); }, kStartDeadline)) {
    return ::testing::AssertionFailure() << "no socket " << socketPath() << "\n" << logTail();
  }
  if (schema != kVswitchSchema) return ::testing::AssertionSuccess();
  ::testing::AssertionResult initialized = ::testing::AssertionFailure();
  waitUntil([&] { return static_cast<bool>(initialized = vsctl({"init"})); }, kStartDeadline);
  return initialized;
}

::testing::AssertionResult OvsdbServerRig::startVswitchd() {
  if (!launched_) return ::testing::AssertionFailure() << "startVswitchd() before start()";
  const std::string pidfile = dir_ + "/ovs-vswitchd.pid";
  std::error_code ignored;
  std::filesystem::remove(pidfile, ignored);  // a restart must not read the last run's pid
  vswitchdLaunched_ = true;
  auto started = run({program("ovs-vswitchd"), remote(), "--pidfile=" + pidfile,
                      "--unixctl=" + dir_ + "/ovs-vswitchd.ctl",
                      "--log-file=" + dir_ + "/ovs-vswitchd.log", "--detach", "--no-chdir"});
  if (!started) return started << "\n" << logTail();
  if (!waitUntil([&] { return readPidfile(pidfile).has_value(); }, kStartDeadline)) {
    return ::testing::AssertionFailure() << "no pid in " << pidfile << "\n" << logTail();
  }
  vswitchdPid_ = *readPidfile(pidfile);
  // ovs-vsctl without --no-wait returns once ovs-vswitchd has caught up with the database.
  return vsctl({"set", "Open_vSwitch", ".", "external_ids:bwfloor-test=1"});
}

::testing::AssertionResult OvsdbServerRig::stopDaemon(const std::string& name, pid_t pid) {
  if (pid <= 0) return ::testing::AssertionSuccess();
  // Ask politely first; the exit code does not matter, only that the process goes away.
  (void)runCommand({program("ovs-appctl"), "-t", dir_ + "/" + name + ".ctl", "exit"}, kStopDeadline,
                   env_);
  if (waitUntil([pid] { return processGone(pid); }, kStopDeadline)) {
    return ::testing::AssertionSuccess();
  }
  kill(pid, SIGKILL);
  if (waitUntil([pid] { return processGone(pid); }, kStopDeadline)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << name << " pid " << pid << " survived SIGKILL";
}

::testing::AssertionResult OvsdbServerRig::stopVswitchd() {
  if (!vswitchdLaunched_) return ::testing::AssertionSuccess();
  vswitchdLaunched_ = false;
  const pid_t pid =
      vswitchdPid_ > 0 ? vswitchdPid_ : readPidfile(dir_ + "/ovs-vswitchd.pid").value_or(-1);
  vswitchdPid_ = -1;
  return stopDaemon("ovs-vswitchd", pid);
}

::testing::AssertionResult OvsdbServerRig::stop() {
  ::testing::AssertionResult result = stopVswitchd();
  if (!launched_) return result;
  launched_ = false;
  // start() may have failed after the daemon came up but before it read the pidfile.
  const pid_t pid = pid_ > 0 ? pid_ : readPidfile(dir_ + "/ovsdb-server.pid").value_or(-1);
  pid_ = -1;
  ::testing::AssertionResult server = stopDaemon("ovsdb-server", pid);
  return result ? server : result;
}

::testing::AssertionResult OvsdbServerRig::vsctl(const std::vector<std::string>& args,
                                                 std::string* output) {
  std::vector<std::string> argv{program("ovs-vsctl"), "--db=" + remote(), "--timeout=10"};
  if (vswitchdPid_ <= 0) argv.emplace_back("--no-wait");
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, output);
}

::testing::AssertionResult OvsdbServerRig::addNeutronBridges(const std::string& physical,
                                                             const std::string& uplink,
                                                             const std::string& datapath) {
  const std::string intPatch = "int-" + physical;
  const std::string phyPatch = "phy-" + physical;
  return vsctl({"--",         "add-br",
                "br-int",     "--",
                "set",        "Bridge",
                "br-int",     "datapath_type=" + datapath,
                "--",         "add-br",
                physical,     "--",
                "set",        "Bridge",
                physical,     "datapath_type=" + datapath,
                "--",         "add-port",
                "br-int",     intPatch,
                "--",         "set",
                "Interface",  intPatch,
                "type=patch", "options:peer=" + phyPatch,
                "--",         "add-port",
                physical,     phyPatch,
                "--",         "set",
                "Interface",  phyPatch,
                "type=patch", "options:peer=" + intPatch,
                "--",         "add-port",
                physical,     uplink});
}

std::string OvsdbServerRig::logTail() const {
  std::string tail;
  for (const char* name : {"ovsdb-server.log", "ovs-vswitchd.log"}) {
    std::ifstream in(dir_ + "/" + name);
    if (!in) continue;
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
      if (lines.size() > 20) lines.pop_front();
    }
    tail += std::string(tail.empty() ? "" : "\n") + name + ":";
    for (const std::string& line : lines) tail += "\n  " + line;
  }
  return tail;
}

namespace {
double uptimeSeconds() {
  std::ifstream in("/proc/uptime");
  double up = 0;
  in >> up;
  return up;
}
}  // namespace

bool waitForOvsCpuCount() {
  constexpr double kCpuCountCacheS = 10.0;
  return waitUntil([] { return uptimeSeconds() > kCpuCountCacheS + 0.5; },
                   std::chrono::seconds(15));
}

}  // namespace bwfloor::test
