#pragma once
// Test-only process helpers: run a program (no shell) with a deadline and capture its output, and
// wait for a condition with a deadline instead of sleeping a fixed time.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bwfloor::test {

struct CommandResult {
  bool exited = false;  // exited normally (not killed, not timed out)
  int exitCode = -1;    // valid when exited
  bool timedOut = false;
  std::string output;  // stdout and stderr, interleaved
  bool ok() const { return exited && exitCode == 0; }
};

// Runs argv[0] (an absolute path) with argv, the current environment plus `extraEnv`
// ("NAME=value", overriding). Kills it with SIGKILL at the deadline. Never throws.
CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extraEnv = {});

// "argv[0] argv[1] ..." for messages.
std::string describe(const std::vector<std::string>& argv);

// Polls `condition` every few milliseconds until it holds (true) or the deadline passes (false).
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The absolute path of `program` in PATH or the sbin directories, which a non-login root shell
// may lack in PATH.
std::optional<std::string> findProgram(const std::string& program);

}  // namespace bwfloor::test
