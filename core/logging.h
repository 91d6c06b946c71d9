#pragma once
// Logging set-up (STYLE.md §6): one named spdlog logger per component (agent, discovery, tc, ovs,
// sriov, placement, http, server, cli, ...), all writing through one shared sink, so the output
// target, format and level are chosen once in initLogging() and apply to loggers created before
// and after it.

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace bwfloor {

struct LogOptions {
  spdlog::level::level_enum level = spdlog::level::info;
  // true: stderr (what systemd's journal captures); false: stdout. Colour only on a terminal.
  bool toStderr = true;
  // spdlog pattern; empty means kDefaultLogPattern. Ignored when json is set.
  std::string pattern;
  // One JSON object per line ({"time","level","component","pid","thread","message"}), for log
  // shippers. The message is escaped, so any text is safe to log.
  bool json = false;
  // Each line starts with its syslog priority, "<3>" for an error ... "<7>" for debug, which
  // journald takes as the entry's PRIORITY (sd-daemon(3)); see stderrIsJournal().
  bool journalPriority = false;
  // Replaces the stderr/stdout sink, e.g. a spdlog ostream_sink that a test reads back.
  spdlog::sink_ptr sinkForTest;
};

// True when stderr is connected to the journal: systemd sets JOURNAL_STREAM to its
// "device:inode" (systemd.exec(5)), which must match stderr's, not one inherited elsewhere.
bool stderrIsJournal();

// The options [DEFAULT] log_level, debug and use_json ask for, as oslo.log reads them (debug =
// true is DEBUG whatever log_level says), with journald priorities when stderr is the journal.
// The error names what is wrong with log_level.
Result<LogOptions> logOptionsFromConfig(std::string_view logLevel, bool debug, bool useJson);

// %Q is the request id of the line's thread (LogRequestScope) and a space, or nothing.
inline constexpr const char* kDefaultLogPattern = "%Y-%m-%d %H:%M:%S.%e %P %^%l%$ %n: %Q%v";

// While alive, every line this thread logs carries `requestId` (the server sets it around each
// request's handler). Scopes nest; the previous id comes back at the end.
class LogRequestScope {
 public:
  explicit LogRequestScope(std::string requestId);
  ~LogRequestScope();
  LogRequestScope(const LogRequestScope&) = delete;
  LogRequestScope& operator=(const LogRequestScope&) = delete;

 private:
  std::string previous_;
};

// Re-targets every logger, existing and future. Thread-safe; normally called once from main().
void initLogging(const LogOptions& options);

// The logger named `component`, created on first use with the current sink and level. The same
// component always yields the same object. Thread-safe.
std::shared_ptr<spdlog::logger> logger(std::string_view component);

// "trace", "debug", "info", "warn"/"warning", "error", "critical", "off"; any case.
Result<spdlog::level::level_enum> parseLogLevel(std::string_view text);

}  // namespace bwfloor
