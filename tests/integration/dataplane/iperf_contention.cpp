#include "tests/integration/dataplane/iperf_contention.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <utility>

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
                rates.b,
                rates.aCoveredB ? "exceed the link" : "were not measured over the same seconds");
  }
  return rates;
}

std::vector<std::optional<std::chrono::steady_clock::time_point>> IperfContention::waitConnected(
    const std::vector<std::pair<int, std::size_t>>& wanted,
    std::chrono::milliseconds timeout) const {
  // One `ss` per poll for all ports: waiting port by port can miss a client that connected,
  // ran and ended while another was still being waited for.
  std::vector<std::optional<std::chrono::steady_clock::time_point>> seen(wanted.size());
  std::string filter = "(";
  for (const auto& [port, connections] : wanted) {
    filter += (filter.size() > 1 ? " or sport = :" : " sport = :") + std::to_string(port);
  }
  filter += " )";
  waitUntil(
      [&] {
        CommandResult ss = servers_.exec({"ss", "-Htn", "state", "established", filter}, 2s);
        if (!ss.ok()) return false;
        const auto now = std::chrono::steady_clock::now();
        std::map<int, std::size_t> perPort;  // local port -> established connections
        std::istringstream lines(ss.output);
        for (std::string line; std::getline(lines, line);) {
          std::istringstream fields(line);
          std::string recvQ, sendQ, local;
          if (!(fields >> recvQ >> sendQ >> local)) continue;
          const std::size_t colon = local.rfind(':');
          if (colon != std::string::npos) ++perPort[std::atoi(local.c_str() + colon + 1)];
        }
        bool all = true;
        for (std::size_t i = 0; i < wanted.size(); ++i) {
          if (!seen[i] && perPort[wanted[i].first] >= wanted[i].second) seen[i] = now;
          all = all && seen[i].has_value();
        }
        return all;
      },
      timeout);
  return seen;
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
  // Each B process: 1 s warm-up + 6 s measured, of which the seconds all of them measured count
  // (at least kMinSeconds). A B process whose connection set-up lost a SYN-ACK in a full queue
  // starts 1 or 3 s late (SYN retransmission): a 1 s skew still leaves 5 s in common, a 3 s one
  // makes the run inconclusive (repeated). A runs long enough to cover them.
  constexpr int kBSeconds = 6;
  constexpr double kMinSeconds = 4;
  constexpr int kASeconds = 15;
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
  std::vector<std::pair<int, std::size_t>> wanted{{basePort_, 2}};
  for (int i = 1; i <= bProcesses_; ++i) wanted.emplace_back(basePort_ + i, streamsPerProcess + 1);
  const auto started = waitConnected(wanted, 15s);

  std::vector<std::vector<ReceiverInterval>> bReports;
  for (const auto& clientB : clientsB) {
    EXPECT_EQ(clientB->wait(30s), 0) << clientB->output();
    bReports.push_back(receiverIntervals(*clientB, reverse));
  }
  EXPECT_EQ(clientA->wait(30s), 0) << clientA->output();
  const std::vector<ReceiverInterval> aReports = receiverIntervals(*clientA, reverse);
  for (std::size_t i = 0; i < started.size(); ++i) {
    // Not a failure on its own: the run is inconclusive (aCoveredB false) and repeated.
    if (!started[i]) {
      std::printf("[ connect  ] port %d: not all %zu connections seen within 15 s\n",
                  wanted[i].first, wanted[i].second);
      return rates;
    }
  }

  // The seconds in which every B process measured: rates over different windows do not add up
  // (one process alone on the link after another stopped reads as more than the link).
  const auto sinceA = [&](std::size_t i) {
    return std::chrono::duration<double>(*started[i] - *started[0]).count() + 1;  // + warm-up
  };
  double from = 0;
  double to = std::numeric_limits<double>::max();
  for (std::size_t i = 1; i < started.size(); ++i) {
    from = std::max(from, sinceA(i));
    to = std::min(to, sinceA(i) + kBSeconds);
  }
  bool measured = to - from >= kMinSeconds;

  for (std::size_t i = 0; i < bReports.size(); ++i) {
    const std::optional<double> mbps = meanMbps(bReports[i], sinceA(i + 1), from, to);
    measured = measured && mbps.has_value();
    rates.b += mbps.value_or(0);
  }
  const std::optional<double> aMbps = meanMbps(aReports, 0, from, to);
  rates.a = aMbps.value_or(0);
  rates.aCoveredB = measured && aMbps.has_value() && lastEnd(aReports) >= to;
  if (!rates.aCoveredB) {
    std::printf("[ window   ] B measured from");
    for (std::size_t i = 1; i < started.size(); ++i) std::printf(" %.2f", sinceA(i));
    std::printf(" s for %d s, A until %.2f s: %.2f s in common, %.0f needed\n", kBSeconds,
                lastEnd(aReports), std::min(to, lastEnd(aReports)) - from, kMinSeconds);
  }
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

int bProcessesFromEnvironment() {
  const char* env = std::getenv("BWFLOOR_TEST_B_PROCESSES");
  return env == nullptr ? 1 : std::atoi(env);
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
