#include "core/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bwfloor {
namespace {

// Points all loggers at an in-memory stream; puts stderr back afterwards so later tests are
// unaffected.
class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { initLogging(LogOptions{}); }

  void captureWith(LogOptions options) {
    options.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    initLogging(options);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

  std::ostringstream out_;
};

TEST_F(LoggingTest, SameComponentSameLogger) {
  const auto tc = logger("tc");
  EXPECT_EQ(tc, logger("tc"));
  EXPECT_EQ(tc->name(), "tc");
  EXPECT_NE(tc, logger("ovs"));
  EXPECT_EQ(logger("ovs")->name(), "ovs");
}

TEST_F(LoggingTest, ConcurrentLookupsAgree) {
  std::vector<std::shared_ptr<spdlog::logger>> seen(8);
  std::vector<std::thread> threads;
  threads.reserve(seen.size());
  for (auto& slot : seen) {
    threads.emplace_back([&slot] { slot = logger("concurrent"); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& log : seen) EXPECT_EQ(log, seen.front());
}

TEST_F(LoggingTest, InitRetargetsExistingLoggersAndAppliesLevel) {
  const auto early = logger("discovery");  // created before initLogging
  captureWith(LogOptions{.level = spdlog::level::info, .pattern = "%n|%l|%v"});
  early->debug("hidden");
  early->info("link up dev={}", "eth0");
  logger("sriov")->warn("vf=3 min_tx_rate_mbps={}", 2);
  EXPECT_EQ(lines(), (std::vector<std::string>{"discovery|info|link up dev=eth0",
                                               "sriov|warning|vf=3 min_tx_rate_mbps=2"}));
}

TEST_F(LoggingTest, DebugLevelReachesEarlierLoggers) {
  const auto early = logger("reconcile");  // created at the default level, info
  captureWith(LogOptions{.level = spdlog::level::debug, .pattern = "%n %l %v"});
  early->debug("tick");
  logger("placement")->debug("sync");
  early->trace("too fine");
  EXPECT_EQ(lines(), (std::vector<std::string>{"reconcile debug tick", "placement debug sync"}));
}

TEST_F(LoggingTest, DefaultPatternHasTimePidLevelComponent) {
  captureWith(LogOptions{});
  logger("tc")->info("port={} classid=1:12 min_kbps={}", "p1", 1000);
  const auto output = lines();
  ASSERT_EQ(output.size(), 1u) << out_.str();
  EXPECT_TRUE(std::regex_match(output[0],
                               std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \d+ info tc: )"
                                          R"(port=p1 classid=1:12 min_kbps=1000)")))
      << output[0];
}

TEST_F(LoggingTest, JsonLinesEscapeMessages) {
  captureWith(LogOptions{.level = spdlog::level::info, .json = true});
  logger("ovs")->error("ovsdb said \"no\"\n\tat {}\\x{}", "row", '\x01');
  const auto output = lines();
  ASSERT_EQ(output.size(), 1u) << out_.str();
  const auto json = nlohmann::json::parse(output[0], nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << output[0];
  EXPECT_EQ(json["component"], "ovs");
  EXPECT_EQ(json["level"], "error");
  EXPECT_EQ(json["message"], "ovsdb said \"no\"\n\tat row\\x\x01");
  EXPECT_TRUE(json["pid"].is_number());
  EXPECT_TRUE(json["time"].is_string());
}

// Issue 17: under systemd every line reached the journal at one priority.
TEST_F(LoggingTest, JournalPriorityPrefixesEachLineWithItsSyslogLevel) {
  captureWith(LogOptions{.level = spdlog::level::debug, .journalPriority = true});
  logger("agent")->debug("d");
  logger("agent")->info("i");
  logger("agent")->warn("w");
  logger("agent")->error("e");
  logger("agent")->critical("c");
  const auto output = lines();
  ASSERT_EQ(output.size(), 5u) << out_.str();
  const char* expected[] = {"<7>", "<6>", "<4>", "<3>", "<2>"};
  for (size_t i = 0; i < output.size(); ++i) {
    EXPECT_EQ(output[i].substr(0, 3), expected[i]) << output[i];
  }
  captureWith(LogOptions{.level = spdlog::level::info, .json = true, .journalPriority = true});
  logger("agent")->warn("w");
  const auto json = lines().back();
  EXPECT_EQ(json.substr(0, 4), "<4>{") << "journald strips the prefix, the JSON stays whole";
}

TEST_F(LoggingTest, JournalIsStderrOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                           std::to_string(static_cast<unsigned long long>(st.st_ino));
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_TRUE(stderrIsJournal());
  ::setenv("JOURNAL_STREAM", "1:2", 1);  // inherited from a parent whose stderr was the journal
  EXPECT_FALSE(stderrIsJournal());
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderrIsJournal());
}

TEST_F(LoggingTest, OsloDebugAndUseJsonOptions) {
  auto plain = logOptionsFromConfig("warning", false, false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->level, spdlog::level::warn);
  EXPECT_FALSE(plain->json);
  auto debug = logOptionsFromConfig("warning", true, true);
  ASSERT_TRUE(debug);
  EXPECT_EQ(debug->level, spdlog::level::debug) << "debug = true wins, as in oslo.log";
  EXPECT_TRUE(debug->json);
  EXPECT_FALSE(logOptionsFromConfig("loud", false, false));
}

// Issue 17: request ids in the server's log lines.
TEST_F(LoggingTest, LinesWrittenForARequestCarryItsId) {
  captureWith(LogOptions{.level = spdlog::level::info});
  {
    LogRequestScope scope("req-1234");
    logger("placement")->info("claimed");
    {
      LogRequestScope inner("req-inner");
      logger("placement")->info("nested");
    }
    logger("placement")->info("back");
  }
  logger("placement")->info("outside");
  const auto output = lines();
  ASSERT_EQ(output.size(), 4u) << out_.str();
  EXPECT_NE(output[0].find("placement: req-1234 claimed"), std::string::npos) << output[0];
  EXPECT_NE(output[1].find("placement: req-inner nested"), std::string::npos) << output[1];
  EXPECT_NE(output[2].find("placement: req-1234 back"), std::string::npos) << output[2];
  EXPECT_NE(output[3].find("placement: outside"), std::string::npos) << output[3];
  captureWith(LogOptions{.level = spdlog::level::info, .json = true});
  {
    LogRequestScope scope("req-5");
    logger("placement")->info("x");
  }
  const auto json = nlohmann::json::parse(lines().back(), nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_EQ(json["request_id"], "req-5");
}

TEST_F(LoggingTest, ParsesLevelNames) {
  EXPECT_EQ(parseLogLevel("debug").value(), spdlog::level::debug);
  EXPECT_EQ(parseLogLevel("INFO").value(), spdlog::level::info);
  EXPECT_EQ(parseLogLevel("warning").value(), spdlog::level::warn);
  EXPECT_EQ(parseLogLevel("warn").value(), spdlog::level::warn);
  EXPECT_EQ(parseLogLevel("error").value(), spdlog::level::err);
  EXPECT_EQ(parseLogLevel("critical").value(), spdlog::level::critical);
  EXPECT_EQ(parseLogLevel("trace").value(), spdlog::level::trace);
  EXPECT_EQ(parseLogLevel("off").value(), spdlog::level::off);
  const auto bad = parseLogLevel("verbose");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(),
            "invalid log level \"verbose\": expected trace, debug, info, warn, error, critical or "
            "off");
}

}  // namespace
}  // namespace bwfloor
