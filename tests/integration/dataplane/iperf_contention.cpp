#include "tests/integration/dataplane/iperf_contention.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace bwfloor::test {

IperfContention::IperfContention(const Netns& servers, std::string address, double linkMbps,
                                 int bProcesses, int basePort)
    : servers_(servers),
      address_(std::move(address)),
      linkMbps_(linkMbps),
      bProcesses_(bProcesses),
      basePort_(basePort) {
  if (bProcesses < 1 || kBStreams % bProcesses != 0) {
    throw std::invalid_argument("IperfContention: B's streams must split evenly over processes");
  }
}

::testing::AssertionResult IperfContention::start() {
  for (int port = basePort_; port <= basePort_ + bProcesses_; ++port) {
    daemons_.push_back(std::make_unique<Background>(
        servers_.execArgv({"iperf3", "-s", "-J", "-p", std::to_string(port)})));
    const std::string filter = "sport = :" + std::to_string(port);
    const bool listening = waitUntil(
        [&] {
          CommandResult ss = servers_.exec({"ss", "-Hltn", filter}, 2s);
          return ss.ok() && ss.output.find("LISTEN") != std::string::npos;
        },
        10s);
    if (!listening) {
      return ::testing::AssertionFailure()
             << "iperf3 server on port " << port << ": " << daemons_.back()->output();
    }
  }
  return ::testing::AssertionSuccess();
}

std::unique_ptr<Background> IperfContention::client(const Netns& from, int port, int streams,
                                                    int seconds, int warmUpSeconds,
                                                    bool reverse) const {
  std::vector<std::string> argv{"iperf3",
                                "-c",
                                address_,
                                "-p",
                                std::to_string(port),
                                "-t",
                                std::to_string(seconds),
                                "-P",
                                std::to_string(streams),
                                "-J",
                                "--get-server-output"};
  if (warmUpSeconds > 0) argv.insert(argv.end(), {"-O", std::to_string(warmUpSeconds)});
  if (reverse) argv.emplace_back("-R");
  return std::make_unique<Background>(from.execArgv(argv));
}

::testing::AssertionResult IperfContention::waitIdle() {
  std::string filter = "( sport = :" + std::to_string(basePort_);
  for (int port = basePort_ + 1; port <= basePort_ + bProcesses_; ++port) {
    filter += " or sport = :" + std::to_string(port);
  }
  filter += " )";
  const bool idle = waitUntil(
      [&] {
        CommandResult ss = servers_.exec({"ss", "-Htn", "state", "established", filter}, 2s);
        return ss.ok() && ss.output.empty();
      },
      30s);
  if (idle) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "iperf3 servers still busy";
}

ContentionRates IperfContention::contend(const Netns& a, const Netns& b, bool reverse) {
  ContentionRates rates;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    rates = contendOnce(a, b, reverse);
    if (overlapped(rates)) break;
    std::printf("[ overlap  ] attempt %d: A %5.1f + B %5.1f Mbit/s %s: again\n", attempt, rates.a,
                rates.b, rates.aCoveredB ? "exceed the link" : "but A stopped before B did");
  }
  return rates;
}

std::optional<std::chrono::steady_clock::time_point> IperfContention::waitConnected(
    int port, std::size_t connections, std::chrono::milliseconds timeout) const {
  const std::string filter = "sport = :" + std::to_string(port);
  const bool connected = waitUntil(
      [&] {
        CommandResult ss = servers_.exec({"ss", "-Htn", "state", "established", filter}, 2s);
        const auto lines =
            static_cast<std::size_t>(std::count(ss.output.begin(), ss.output.end(), '\n'));
        return ss.ok() && lines >= connections;
      },
      timeout);
  if (!connected) return std::nullopt;
  return std::chrono::steady_clock::now();
}

namespace {

// One per-second report of an iperf3 receiver.
struct ReceiverInterval {
  double start = 0;  // seconds since its test (or, after the warm-up, its measurement) began
  double end = 0;
  double mbps = 0;
  bool warmUp = false;
};

// The receiver's reports: the client's with -R, else the server's (riding in the client's).
// Empty, and a test failure, when unreadable.
std::vector<ReceiverInterval> receiverIntervals(const Background& client, bool reverse) {
  std::vector<ReceiverInterval> intervals;
  try {
    nlohmann::json j = nlohmann::json::parse(client.output());
    const nlohmann::json& receiver = reverse ? j : j.at("server_output_json");
    for (const nlohmann::json& interval : receiver.at("intervals")) {
      const nlohmann::json& sum = interval.at("sum");
      intervals.push_back({sum.at("start").get<double>(), sum.at("end").get<double>(),
                           sum.at("bits_per_second").get<double>() / 1e6,
                           sum.value("omitted", false)});
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "iperf3 output: " << e.what() << "\n" << client.output();
    intervals.clear();
  }
  return intervals;
}

// The mean Mbit/s of the reports that lie within [from, to] once shifted by `offset` seconds
// (onto a time axis shared by all clients), weighted by their length; nullopt for none. Warm-up
// reports do not count.
std::optional<double> meanMbps(const std::vector<ReceiverInterval>& intervals, double offset,
                               double from, double to) {
  constexpr double kSlack = 0.05;  // report boundaries are a few ms off whole seconds
  double megabits = 0;
  double seconds = 0;
  for (const ReceiverInterval& i : intervals) {
    if (i.warmUp || i.start + offset < from - kSlack || i.end + offset > to + kSlack) continue;
    megabits += i.mbps * (i.end - i.start);
    seconds += i.end - i.start;
  }
  if (seconds <= 0) return std::nullopt;
  return megabits / seconds;
}

double lastEnd(const std::vector<ReceiverInterval>& intervals) {
  double end = 0;
  for (const ReceiverInterval& i : intervals) end = std::max(end, i.end);
  return end;
}

}  // namespace

ContentionRates IperfContention::contendOnce(const Netns& a, const Netns& b, bool reverse) {
  // B's run, once connected: 1 s warm-up + 5 s measured. A runs long enough to cover it even
  // when B takes seconds to connect.
  constexpr int kBSeconds = 5;
  constexpr int kASeconds = 14;
  const int streamsPerProcess = kBStreams / bProcesses_;
  ContentionRates rates;
  EXPECT_TRUE(waitIdle());
  // B first by a few milliseconds: under emulated CPUs a B that starts while A already fills
  // the link and both CPUs can take more than 8 s to connect.
  std::vector<std::unique_ptr<Background>> clientsB;
  for (int i = 1; i <= bProcesses_; ++i) {
    clientsB.push_back(client(b, basePort_ + i, streamsPerProcess, kBSeconds, 1, reverse));
  }
  std::unique_ptr<Background> clientA = client(a, basePort_, 1, kASeconds, 0, reverse);
  // A client's test, and its reports' clock, start when all its streams are connected (plus the
  // control connection). The time axis below counts seconds from A's start.
  const auto aStarted = waitConnected(basePort_, 2, 15s);
  EXPECT_TRUE(aStarted) << "A's stream did not connect: " << clientA->output();
  std::vector<std::optional<double>> bOffsets;  // where each B's measured seconds begin
  for (int i = 1; i <= bProcesses_; ++i) {
    const auto started = waitConnected(basePort_ + i, streamsPerProcess + 1, 15s);
    EXPECT_TRUE(started) << "B's streams did not connect: " << clientsB[i - 1]->output();
    if (started && aStarted) {
      bOffsets.push_back(std::chrono::duration<double>(*started - *aStarted).count() + 1);
    } else {
      bOffsets.push_back(std::nullopt);
    }
  }
  std::vector<std::vector<ReceiverInterval>> bReports;
  for (const auto& clientB : clientsB) {
    EXPECT_EQ(clientB->wait(30s), 0) << clientB->output();
    bReports.push_back(receiverIntervals(*clientB, reverse));
  }
  EXPECT_EQ(clientA->wait(30s), 0) << clientA->output();
  const std::vector<ReceiverInterval> aReports = receiverIntervals(*clientA, reverse);
  if (!aStarted || std::count(bOffsets.begin(), bOffsets.end(), std::nullopt) > 0) return rates;

  // The seconds in which every B process measured: rates over different windows do not add up
  // (one process alone on the link after another stopped reads as more than the link).
  double from = 0;
  double to = std::numeric_limits<double>::max();
  for (const std::optional<double>& offset : bOffsets) {
    from = std::max(from, *offset);
    to = std::min(to, *offset + kBSeconds);
  }
  bool measured = to - from >= 1;
  for (std::size_t i = 0; i < bReports.size(); ++i) {
    const std::optional<double> mbps = meanMbps(bReports[i], *bOffsets[i], from, to);
    measured = measured && mbps.has_value();
    rates.b += mbps.value_or(0);
  }
  const std::optional<double> aMbps = meanMbps(aReports, 0, from, to);
  rates.a = aMbps.value_or(0);
  rates.aCoveredB = measured && aMbps.has_value() && lastEnd(aReports) >= to;
  return rates;
}

ContentionRates IperfContention::control(const Netns& a, const Netns& b, double belowMbps,
                                         bool reverse) {
  ContentionRates rates;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    rates = contend(a, b, reverse);
    std::printf("[ control  ] attempt %d: A %5.1f Mbit/s, B %5.1f Mbit/s (needs A < %.1f)\n",
                attempt, rates.a, rates.b, belowMbps);
    if (rates.a < belowMbps) break;
  }
  return rates;
}

double IperfContention::alone(const Netns& a, int seconds) {
  EXPECT_TRUE(waitIdle());
  std::unique_ptr<Background> clientA = client(a, basePort_, 1, seconds, 0, false);
  EXPECT_EQ(clientA->wait(30s), 0) << clientA->output();
  return receivedMbps(*clientA);
}

double receivedMbps(const Background& client) {
  try {
    nlohmann::json j = nlohmann::json::parse(client.output());
    return j.at("end").at("sum_received").at("bits_per_second").get<double>() / 1e6;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "iperf3 output: " << e.what() << "\n" << client.output();
    return 0;
  }
}

}  // namespace bwfloor::test
