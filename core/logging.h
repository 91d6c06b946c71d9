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
  // Replaces the stderr/stdout sink, e.g. a spdlog ostream_sink that a test reads back.
  spdlog::sink_ptr sinkForTest;
};

inline constexpr const char* kDefaultLogPattern = "%Y-%m-%d %H:%M:%S.%e %P %^%l%$ %n: %v";

// Re-targets every logger, existing and future. Thread-safe; normally called once from main().
void initLogging(const LogOptions& options);

// The logger named `component`, created on first use with the current sink and level. The same
// component always yields the same object. Thread-safe.
std::shared_ptr<spdlog::logger> logger(std::string_view component);

// "trace", "debug", "info", "warn"/"warning", "error", "critical", "off"; any case.
Result<spdlog::level::level_enum> parseLogLevel(std::string_view text);

}  // namespace bwfloor
