#include "tests/integration/dataplane/iperf_contention.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace bwfloor::test {

IperfContention::IperfContention(const Netns& servers, std::string address, double linkMbps,
                                 int basePort)
    : servers_(servers), address_(std::move(address)), linkMbps_(linkMbps), basePort_(basePort) {}

::testing::AssertionResult IperfContention::start() {
  for (int port : {basePort_, basePort_ + 1}) {
    daemons_.push_back(std::make_unique<Background>(
        servers_.execArgv({"iperf3", "-s", "-p", std::to_string(port)})));
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
                                                    int seconds, bool reverse) const {
  std::vector<std::string> argv{"iperf3",
                                "-c",
                                address_,
                                "-p",
                                std::to_string(port),
                                "-t",
                                std::to_string(seconds),
                                "-P",
                                std::to_string(streams),
                                "-J"};
  if (seconds > 1) argv.insert(argv.end(), {"-O", "1"});
  if (reverse) argv.emplace_back("-R");
  return std::make_unique<Background>(from.execArgv(argv));
}

::testing::AssertionResult IperfContention::waitIdle() {
  const std::string filter = "( sport = :" + std::to_string(basePort_) +
                             " or sport = :" + std::to_string(basePort_ + 1) + " )";
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
    std::printf("[ overlap  ] attempt %d: A %5.1f + B %5.1f Mbit/s > the link's %.0f: again\n",
                attempt, rates.a, rates.b, linkMbps_);
  }
  return rates;
}

ContentionRates IperfContention::contendOnce(const Netns& a, const Netns& b, bool reverse) {
  EXPECT_TRUE(waitIdle());
  std::unique_ptr<Background> clientA = client(a, basePort_, 1, 5, reverse);
  std::unique_ptr<Background> clientB = client(b, basePort_ + 1, kBStreams, 5, reverse);
  EXPECT_EQ(clientA->wait(30s), 0) << clientA->output();
  EXPECT_EQ(clientB->wait(30s), 0) << clientB->output();
  ContentionRates rates{receivedMbps(*clientA), receivedMbps(*clientB)};
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
  std::unique_ptr<Background> clientA = client(a, basePort_, 1, seconds, false);
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
