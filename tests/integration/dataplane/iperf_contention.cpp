#include "tests/integration/dataplane/iperf_contention.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace bwfloor::test {

double ManyRates::sum() const {
  double total = 0;
  for (double rate : ports) total += rate;
  return total;
}

IperfContention::IperfContention(const Netns& servers, std::string address, double linkMbps,
                                 int basePort, int portClients)
    : servers_(servers),
      address_(std::move(address)),
      linkMbps_(linkMbps),
      basePort_(basePort),
      portClients_(portClients) {}

std::string IperfContention::serversFilter() const {
  return "( sport >= :" + std::to_string(basePort_) + " and sport <= :" + std::to_string(bPort()) +
         " )";
}

::testing::AssertionResult IperfContention::start() {
  for (int port = basePort_; port <= bPort(); ++port) {
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
                                                    int seconds, int warmUpSeconds, bool reverse,
                                                    const std::vector<std::string>& extra) const {
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
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Background>(from.execArgv(argv));
}

std::unique_ptr<Background> IperfContention::neighbourClient(const Netns& from, int seconds,
                                                             int warmUpSeconds,
                                                             bool reverse) const {
  if (!neighbour_.udp) return client(from, bPort(), kBStreams, seconds, warmUpSeconds, reverse);
  char rate[32];
  std::snprintf(rate, sizeof(rate), "%.0fk", neighbour_.udpMbps * 1000);
  return client(from, bPort(), 1, seconds, warmUpSeconds, reverse, {"-u", "-b", rate});
}

::testing::AssertionResult IperfContention::waitIdle() {
  const std::string filter = serversFilter();
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
  const ManyRates many = contendMany({&a}, b, reverse);
  return ContentionRates{many.ports.empty() ? 0 : many.ports.front(), many.b, many.covered};
}

ManyRates IperfContention::contendMany(const std::vector<const Netns*>& ports, const Netns& b,
                                       bool reverse) {
  EXPECT_EQ(ports.size(), static_cast<std::size_t>(portClients_)) << "one client per server";
  ManyRates rates;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    rates = contendOnce(ports, b, reverse);
    if (overlapped(rates)) break;
    std::printf("[ overlap  ] attempt %d: ports %5.1f + B %5.1f Mbit/s %s: again\n", attempt,
                rates.sum(), rates.b,
                rates.covered ? "exceed the link" : "were not measured over the same seconds");
  }
  return rates;
}

std::vector<std::optional<std::chrono::steady_clock::time_point>> IperfContention::waitConnected(
    std::chrono::milliseconds timeout) const {
  // One `ss` per poll for all servers: waiting port by port can miss a client that connected,
  // ran and ended while another was still being waited for. Each client holds its streams plus
  // the control connection (a UDP neighbour: the control connection only).
  std::vector<std::pair<int, std::size_t>> wanted;
  for (int port = basePort_; port < bPort(); ++port) wanted.emplace_back(port, 2);
  wanted.emplace_back(bPort(), neighbour_.udp ? 1 : kBStreams + 1);
  std::vector<std::optional<std::chrono::steady_clock::time_point>> seen(wanted.size());
  const std::string filter = serversFilter();
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

ManyRates IperfContention::contendOnce(const std::vector<const Netns*>& ports, const Netns& b,
                                       bool reverse) {
  // B: 1 s warm-up + 6 s measured, all of which must fall in every port's run. The ports run long
  // enough to cover B even when B connects seconds late (a SYN-ACK lost in a full queue).
  constexpr int kBSeconds = 6;
  constexpr int kPortSeconds = 15;
  ManyRates rates;
  rates.ports.assign(ports.size(), 0);
  EXPECT_TRUE(waitIdle());
  // B first by a few milliseconds: under emulated CPUs a B that starts while A already fills
  // the link and both CPUs can take more than 8 s to connect.
  std::unique_ptr<Background> clientB = neighbourClient(b, kBSeconds, 1, reverse);
  std::vector<std::unique_ptr<Background>> portClients;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    portClients.push_back(
        client(*ports[i], basePort_ + static_cast<int>(i), 1, kPortSeconds, 0, reverse));
  }
  // A client's test, and its reports' clock, start when all its streams are connected. The time
  // axis below counts seconds from the first port's start.
  const auto seen = waitConnected(15s + std::chrono::seconds(ports.size() / 4));
  EXPECT_EQ(clientB->wait(30s), 0) << clientB->output();
  for (auto& c : portClients) EXPECT_EQ(c->wait(30s), 0) << c->output();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      // Not a failure on its own: the run is inconclusive (covered false) and repeated.
      std::printf("[ connect  ] %s's connections not all seen within the timeout\n",
                  i + 1 == seen.size() ? "B" : ("port " + std::to_string(i)).c_str());
      return rates;
    }
  }
  auto secondsAfterFirst = [&](std::size_t i) {
    return std::chrono::duration<double>(*seen[i] - *seen[0]).count();
  };
  const double from = secondsAfterFirst(seen.size() - 1) + 1;  // after B's warm-up
  const double to = from + kBSeconds;
  const std::optional<double> bMbps =
      meanMbps(receiverIntervals(*clientB, reverse), from, from, to);
  rates.b = bMbps.value_or(0);
  rates.covered = bMbps.has_value();
  double shortest = to;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const std::vector<ReceiverInterval> reports = receiverIntervals(*portClients[i], reverse);
    const double offset = secondsAfterFirst(i);
    const std::optional<double> mbps = meanMbps(reports, offset, from, to);
    rates.ports[i] = mbps.value_or(0);
    shortest = std::min(shortest, lastEnd(reports) + offset);
    rates.covered = rates.covered && mbps && lastEnd(reports) + offset >= to;
  }
  if (!rates.covered) {
    std::printf(
        "[ window   ] B measured from %.2f s for %d s, the ports until %.2f s: %.2f s in common, "
        "%.0f needed\n",
        from, kBSeconds, shortest, shortest - from, static_cast<double>(kBSeconds));
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
