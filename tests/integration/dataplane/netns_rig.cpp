#include "tests/integration/dataplane/netns_rig.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace bwfloor::test {
namespace {

// A non-login root shell may not have the sbin directories in PATH.
void extendPath() {
  static const bool done = [] {
    std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    setenv("PATH", (path + ":/usr/local/sbin:/usr/sbin:/sbin").c_str(), 1);
    return true;
  }();
  (void)done;
}

std::vector<char*> cArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Between fork and exec only async-signal-safe calls: the argv array is built before the fork.
[[noreturn]] void execChild(char* const* args, int outFd) {
  dup2(outFd, STDOUT_FILENO);
  dup2(outFd, STDERR_FILENO);
  int devNull = open("/dev/null", O_RDONLY);
  dup2(devNull, STDIN_FILENO);
  execvp(args[0], args);
  _exit(127);
}

int reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(2ms);
  }
}

}  // namespace

CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  extendPath();  // for what `ip netns exec` runs in turn
  if (argv.empty()) return {};
  std::vector<std::string> resolved = argv;
  if (argv[0].find('/') == std::string::npos) {
    resolved[0] = findProgram(argv[0]).value_or(argv[0]);
  }
  return runCommand(resolved, timeout);
}

Background::Background(const std::vector<std::string>& argv) {
  extendPath();
  char path[] = "/tmp/bwfloor-bg-XXXXXX";
  int fd = mkstemp(path);
  outputPath_ = path;
  std::vector<char*> args = cArgv(argv);
  pid_ = fork();
  if (pid_ == 0) execChild(args.data(), fd);
  close(fd);
}

Background::~Background() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(outputPath_.c_str());
}

int Background::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return -1;
  reaped_ = true;
  return reap(pid_, timeout);
}

std::string Background::output() const {
  std::ifstream in(outputPath_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string uniqueName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "bwf" + std::to_string(getpid() % 100000) + tag + std::to_string(counter++);
}

Netns::Netns(std::string name) : name_(std::move(name)) {
  created_ = run({"ip", "netns", "add", name_}).ok();
  if (created_) exec({"ip", "link", "set", "lo", "up"});
}

Netns::~Netns() {
  if (!created_) return;
  // Whatever still runs inside (iperf3 servers) is ours: kill it by pid, then delete.
  CommandResult pids = run({"ip", "netns", "pids", name_});
  std::istringstream in(pids.output);
  for (pid_t pid; in >> pid;) kill(pid, SIGKILL);
  run({"ip", "netns", "del", name_});
}

std::vector<std::string> Netns::execArgv(const std::vector<std::string>& argv) const {
  std::vector<std::string> full{"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

CommandResult Netns::exec(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout) const {
  return run(execArgv(argv), timeout);
}

EnterNetns::EnterNetns(const std::string& name) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  ok_ = original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
  if (target >= 0) close(target);
}

EnterNetns::~EnterNetns() {
  if (original_ >= 0) {
    setns(original_, CLONE_NEWNET);
    close(original_);
  }
}

int kernelQuantumWarnings() {
  CommandResult dmesg = run({"dmesg"});
  int count = 0;
  std::istringstream in(dmesg.output);
  for (std::string line; std::getline(in, line);) {
    if (line.find("quantum of class") != std::string::npos) ++count;
  }
  return count;
}

}  // namespace bwfloor::test
