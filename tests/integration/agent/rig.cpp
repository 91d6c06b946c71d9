#include "tests/integration/agent/rig.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/ovs/subprocess.h"

namespace bwfloor::test {
namespace {

constexpr std::chrono::milliseconds kCommandTimeout{10000};
constexpr std::chrono::milliseconds kStopDeadline{5000};

std::string ipProgram() { return findProgram("ip").value_or("/usr/sbin/ip"); }

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

::testing::AssertionResult ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ipProgram()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult result = runCommand(argv, kCommandTimeout);
  if (result.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << describe(argv) << " failed: " << result.output;
}

NetnsGuard::NetnsGuard() {
  static std::atomic<int> counter{0};
  name_ = "bwf-agent-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  originalFd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (originalFd_ < 0) {
    error_ = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
    return;
  }
  if (auto added = ip({"netns", "add", name_}); !added) {
    error_ = added.message();
    return;
  }
  created_ = true;
  const int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    error_ = "entering netns " + name_ + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return;
  }
  close(fd);
  entered_ = true;
}

NetnsGuard::~NetnsGuard() {
  if (entered_) setns(originalFd_, CLONE_NEWNET);
  if (originalFd_ >= 0) close(originalFd_);
  if (created_) (void)ip({"netns", "del", name_});
}

::testing::AssertionResult NetnsGuard::ok() const {
  if (entered_) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "network namespace rig: " << error_;
}

BackgroundProcess::~BackgroundProcess() { stop(); }

::testing::AssertionResult BackgroundProcess::start(const std::vector<std::string>& argv,
                                                    const std::string& logPath) {
  logPath_ = logPath;
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  cargs.reserve(args.size() + 1);
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  pid_ = pid;
  return ::testing::AssertionSuccess();
}

bool BackgroundProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

bool BackgroundProcess::signal(int sig) { return running() && kill(pid_, sig) == 0; }

std::string BackgroundProcess::stop() {
  if (pid_ <= 0) return "not running";
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return describeStatus(status);
  }
  kill(pid_, SIGTERM);
  const bool exited =
      waitUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, kStopDeadline);
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return describeStatus(status);
}

std::string BackgroundProcess::log() const {
  std::ifstream in(logPath_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string pattern = "/tmp/bwfloor-agent-it-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  std::string file = path_ + "/" + name;
  std::ofstream out(file, std::ios::trunc);
  out << text;
  return file;
}

int countOf(const std::string& haystack, const std::string& text) {
  int n = 0;
  for (size_t pos = haystack.find(text); pos != std::string::npos;
       pos = haystack.find(text, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace bwfloor::test
