#pragma once
// The iperf3 side of the contention proofs (HtbBackend, OvsQueueBackend): servers in one network
// namespace; port A sends 1 TCP stream, port B 8 streams, both at once, 5 s measured after a 1 s
// warm-up; the rates are what the servers received.
//
// B's 8 streams share one iperf3 process. Splitting them over several processes was tried, to
// give B more CPU under the vf-vm rig's emulated CPUs: the receivers then reported more than the
// link can carry (A 92 + B 36-107 Mbit/s through a 100 Mbit/s HTB root whose byte counters
// agreed with the link), so the vf-vm rig runs the HTB proof on a slower uplink instead
// (htb_contention_test.cpp).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::test {

struct ContentionRates {
  double a = 0;  // Mbit/s received from A
  double b = 0;  // Mbit/s received from B, all its streams
};

class IperfContention {
 public:
  static constexpr int kBStreams = 8;
  static constexpr int kAttempts = 3;

  // Servers in `servers` listen on `address`, port basePort for A and basePort + 1 for B; the
  // shaped link between them and the clients carries `linkMbps`.
  IperfContention(const Netns& servers, std::string address, double linkMbps, int basePort = 5201);

  // Starts the servers and waits until each listens.
  ::testing::AssertionResult start();
  // A (from namespace `a`) and B (from `b`) at once; `reverse`: the servers send (iperf3 -R).
  // Both clients start together, but their 5 s windows need not coincide (under emulated CPUs
  // one may connect a second late): a run whose rates add up to more than the link can carry
  // (10 % slack) did not measure contention, as A's rate partly came from an empty link. Such a
  // run is repeated, at most kAttempts times, each printed; the caller checks overlapped().
  ContentionRates contend(const Netns& a, const Netns& b, bool reverse = false);
  bool overlapped(const ContentionRates& r) const { return r.a + r.b <= linkMbps_ * 1.1; }
  // The control run: contend() until A gets less than `belowMbps` (at most kAttempts times, each
  // printed); the last rates. Without a guarantee A shares B's queue, and who wins a shared FIFO
  // depends on who gets the CPU: on a loaded machine (or emulated CPUs) a single stream sometimes
  // takes most of the link. Such a run shows no contention and proves nothing either way, so it
  // is repeated; the test then checks the control did show contention.
  ContentionRates control(const Netns& a, const Netns& b, double belowMbps, bool reverse = false);
  // A alone for `seconds` (no warm-up); its received Mbit/s.
  double alone(const Netns& a, int seconds);

 private:
  ContentionRates contendOnce(const Netns& a, const Netns& b, bool reverse);
  std::unique_ptr<Background> client(const Netns& from, int port, int streams, int seconds,
                                     bool reverse) const;
  // A starved client can end before its server has: a new test on that server would be refused
  // ("the server is busy"). Waits until no TCP connection to the servers is left.
  ::testing::AssertionResult waitIdle();

  const Netns& servers_;
  std::string address_;
  double linkMbps_;
  int basePort_;
  std::vector<std::unique_ptr<Background>> daemons_;
};

// The receiver's rate in an iperf3 -J report, in Mbit/s; a test failure (and 0) when unreadable.
double receivedMbps(const Background& client);

}  // namespace bwfloor::test
