#include "core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

namespace bwfloor {
namespace {

constexpr const char* kJsonPattern =
    R"({"time":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","component":"%n","pid":%P,"thread":%t,)"
    R"("request_id":"%q","message":"%*"})";

thread_local std::string currentRequestId;

// %Q: "req-... " when the thread serves a request, nothing otherwise. %q: the bare id (JSON).
class RequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  explicit RequestIdFlag(bool spaced) : spaced_(spaced) {}
  void format(const spdlog::details::log_msg& /*msg*/, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    if (currentRequestId.empty()) return;
    // Minted by the server ("req-" + uuid4): nothing in it needs escaping.
    dest.append(currentRequestId.data(), currentRequestId.data() + currentRequestId.size());
    if (spaced_) dest.push_back(' ');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>(spaced_);
  }

 private:
  bool spaced_;
};

// Writes the message payload as the inside of a JSON string. A plain "%v" would let a quote or a
// newline in a message (an interface name, a peer's error text) break the line's JSON.
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    for (const char c : msg.payload) append(c, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }

 private:
  static void append(char c, spdlog::memory_buf_t& dest) {
    constexpr std::string_view kHex = "0123456789abcdef";
    switch (c) {
      case '"':
        return appendText("\\\"", dest);
      case '\\':
        return appendText("\\\\", dest);
      case '\n':
        return appendText("\\n", dest);
      case '\r':
        return appendText("\\r", dest);
      case '\t':
        return appendText("\\t", dest);
      default:
        break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20) {
      dest.push_back(c);  // UTF-8 bytes pass through unchanged
      return;
    }
    const std::array<char, 6> escaped = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0x0f]};
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  static void appendText(std::string_view text, spdlog::memory_buf_t& dest) {
    dest.append(text.data(), text.data() + text.size());
  }
};

// "<N>": the syslog priority of the message's level, for journald (sd-daemon(3)).
class JournalPriority : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    const char* prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prefix = "<7>";
        break;
      case spdlog::level::info:
        prefix = "<6>";
        break;
      case spdlog::level::warn:
        prefix = "<4>";
        break;
      case spdlog::level::err:
        prefix = "<3>";
        break;
      case spdlog::level::critical:
        prefix = "<2>";
        break;
      default:
        break;
    }
    dest.append(prefix, prefix + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

// All loggers write to shared_, a dist_sink whose single child initLogging() swaps; that is how a
// logger created before initLogging() still follows its options.
class Registry {
 public:
  Registry() : shared_(std::make_shared<spdlog::sinks::dist_sink_mt>()) {
    shared_->set_sinks({makeSink(LogOptions{})});
  }

  void init(const LogOptions& options) {
    spdlog::sink_ptr target = makeSink(options);
    std::lock_guard lock(mutex_);
    shared_->set_sinks({std::move(target)});
    level_ = options.level;
    for (auto& [name, log] : loggers_) log->set_level(level_);
  }

  std::shared_ptr<spdlog::logger> get(std::string_view component) {
    std::lock_guard lock(mutex_);
    auto it = loggers_.find(component);
    if (it == loggers_.end()) {
      auto log = std::make_shared<spdlog::logger>(std::string(component), shared_);
      log->set_level(level_);
      // Warnings and errors reach the journal at once; a crash must not swallow them.
      log->flush_on(spdlog::level::warn);
      it = loggers_.emplace(std::string(component), std::move(log)).first;
    }
    return it->second;
  }

 private:
  static spdlog::sink_ptr makeSink(const LogOptions& options) {
    // automatic: colours only when the stream is a terminal that supports them.
    const auto mode = options.json ? spdlog::color_mode::never : spdlog::color_mode::automatic;
    spdlog::sink_ptr sink;
    if (options.sinkForTest) {
      sink = options.sinkForTest;
    } else if (options.toStderr) {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(mode);
    } else {
      sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>(mode);
    }
    sink->set_formatter(makeFormatter(options));
    return sink;
  }

  static std::unique_ptr<spdlog::formatter> makeFormatter(const LogOptions& options) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    std::string pattern = options.json              ? kJsonPattern
                          : options.pattern.empty() ? kDefaultLogPattern
                                                    : options.pattern;
    if (options.journalPriority) pattern = "%J" + pattern;
    formatter->add_flag<JsonEscapedMessage>('*')
        .add_flag<JournalPriority>('J')
        .add_flag<RequestIdFlag>('Q', true)
        .add_flag<RequestIdFlag>('q', false)
        .set_pattern(pattern);
    return formatter;
  }

  std::mutex mutex_;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> shared_;
  spdlog::level::level_enum level_ = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers_;
};

// Function-local static: constructed on first use, so loggers work even during other statics' init.
Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void initLogging(const LogOptions& options) {
  registry().init(options);
  // Libraries that log through spdlog's default logger end up in the same place.
  spdlog::set_default_logger(logger("bwfloor"));
}

LogRequestScope::LogRequestScope(std::string requestId)
    : previous_(std::exchange(currentRequestId, std::move(requestId))) {}

LogRequestScope::~LogRequestScope() { currentRequestId = std::move(previous_); }

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  const std::string expected = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                               std::to_string(static_cast<unsigned long long>(st.st_ino));
  return expected == stream;
}

Result<LogOptions> logOptionsFromConfig(std::string_view logLevel, bool debug, bool useJson) {
  ASSIGN_OR_RETURN(auto level, parseLogLevel(logLevel));
  LogOptions options;
  options.level = debug ? spdlog::level::debug : level;
  options.json = useJson;
  options.journalPriority = stderrIsJournal();
  return options;
}

std::shared_ptr<spdlog::logger> logger(std::string_view component) {
  return registry().get(component);
}

Result<spdlog::level::level_enum> parseLogLevel(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 8> kLevels = {
      {
          {"trace", spdlog::level::trace},
          {"debug", spdlog::level::debug},
          {"info", spdlog::level::info},
          {"warn", spdlog::level::warn},
          {"warning", spdlog::level::warn},
          {"error", spdlog::level::err},
          {"critical", spdlog::level::critical},
          {"off", spdlog::level::off},
      }};
  for (const auto& [name, level] : kLevels) {
    if (lower == name) return level;
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid log level \"" + std::string(text) +
                       "\": expected trace, debug, info, warn, error, critical or off");
}

}  // namespace bwfloor
