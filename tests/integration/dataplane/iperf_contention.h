#pragma once
// The iperf3 side of the contention proofs (HtbBackend, OvsQueueBackend): servers in one network
// namespace; port A carries 1 TCP stream for 15 s and port B, started at the same moment, 8
// streams for 6 s measured after a 1 s warm-up. The rates are what the receivers got in B's
// measured seconds, from their per-second reports.
//
// Why A runs longer than B: two 5 s clients started at once did not overlap under the vf-vm rig's
// emulated CPUs. With A's guarantee in force B's connection set-up waited behind A's traffic,
// B's 5 s began when A's were nearly over, and both reported close to the whole link (A 45.6 +
// B 39.7 Mbit/s on a 50 Mbit/s link, three times in a row). Why not start A first and B once A
// flows: then the incumbent's head start, not the queue, decided the control runs (A kept
// 63-66 of 100 Mbit/s in the rig, 63-70 on the host when B went first instead).
//
// B's 8 streams share one iperf3 process (iperf3 3.12 is single-threaded). Two processes were
// tried in the vf-vm rig and dropped: under a guarantee the second one's connection set-up lost
// SYN-ACKs in the full default class and started 3-13 s late, and on OVS's userspace datapath a
// second sender took CPU from ovs-vswitchd's forwarding (A 49-78 Mbit/s instead of 68-84).
//
// All rates are per-second receiver reports on one time axis (shifted by when each client
// connected), over B's measured seconds: iperf3's end-of-test summary counts the data still
// queued when a sender stopped as if it had arrived in time (B read 104-106 Mbit/s through a
// 100 Mbit/s queue that way).

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::test {

struct ContentionRates {
  double a = 0;            // Mbit/s received from A in B's measured seconds
  double b = 0;            // Mbit/s received from B, all its streams
  bool aCoveredB = false;  // A flowed for all of B's measured seconds
};

// Several guaranteed ports at once (one stream each) against B.
struct ManyRates {
  std::vector<double> ports;  // Mbit/s received from each port's client in B's measured seconds
  double b = 0;
  bool covered = false;  // every port's client flowed for all of B's measured seconds
  double sum() const;
};

// B, the neighbour: kBStreams TCP streams, or one UDP stream sent at a fixed rate whatever is
// lost (iperf3 -u -b), an unresponsive flood.
struct Neighbour {
  bool udp = false;
  double udpMbps = 0;
  static Neighbour tcp() { return {}; }
  static Neighbour udpFlood(double mbps) { return {true, mbps}; }
};

class IperfContention {
 public:
  static constexpr int kBStreams = 8;
  static constexpr int kAttempts = 3;

  // Servers in `servers` listen on `address`: ports basePort .. basePort + portClients - 1 for
  // the guaranteed ports' clients (A is the first), the next one for B; the shaped link between
  // them and the clients carries `linkMbps`.
  IperfContention(const Netns& servers, std::string address, double linkMbps, int basePort = 5201,
                  int portClients = 1);
  // B's load from the next run on (TCP by default).
  void setNeighbour(Neighbour neighbour) { neighbour_ = neighbour; }

  // Starts the servers and waits until each listens.
  ::testing::AssertionResult start();
  // A (from namespace `a`) and B (from `b`) together; `reverse`: the servers send (iperf3 -R). A
  // run in which A did not flow for all of B's measured seconds, or whose rates add up to more than
  // the link can carry (10 % slack), did not measure contention. Such a run is repeated, at most
  // kAttempts times, each printed; the caller checks overlapped().
  ContentionRates contend(const Netns& a, const Netns& b, bool reverse = false);
  bool overlapped(const ContentionRates& r) const {
    return r.aCoveredB && r.a + r.b <= linkMbps_ * 1.1;
  }
  // The control run: contend() until A gets less than `belowMbps` (at most kAttempts times, each
  // printed); the last rates. Without a guarantee A shares B's queue, and who wins a shared FIFO
  // depends on who gets the CPU: on a loaded machine (or emulated CPUs) a single stream sometimes
  // takes most of the link. Such a run shows no contention and proves nothing either way, so it
  // is repeated; the test then checks the control did show contention.
  ContentionRates control(const Netns& a, const Netns& b, double belowMbps, bool reverse = false);
  // Every port's client (one stream each, from its namespace, in the order of the servers) and B
  // together, as contend() does for A alone: a run in which not every port flowed for all of B's
  // measured seconds, or whose rates exceed the link, is repeated (at most kAttempts times).
  ManyRates contendMany(const std::vector<const Netns*>& ports, const Netns& b,
                        bool reverse = false);
  bool overlapped(const ManyRates& r) const {
    return r.covered && r.sum() + r.b <= linkMbps_ * 1.1;
  }
  // A alone for `seconds` (no warm-up); its received Mbit/s.
  double alone(const Netns& a, int seconds);

 private:
  ManyRates contendOnce(const std::vector<const Netns*>& ports, const Netns& b, bool reverse);
  // Polls until every server has all its client's connections established; when each was first
  // seen (the ports' servers, then B's), or nullopt for one not seen within `timeout`.
  std::vector<std::optional<std::chrono::steady_clock::time_point>> waitConnected(
      std::chrono::milliseconds timeout) const;
  // `ss` filter for connections to any of the servers.
  std::string serversFilter() const;
  int bPort() const { return basePort_ + portClients_; }
  // `extra`: more iperf3 options (the UDP neighbour's "-u -b RATE").
  std::unique_ptr<Background> client(const Netns& from, int port, int streams, int seconds,
                                     int warmUpSeconds, bool reverse,
                                     const std::vector<std::string>& extra = {}) const;
  std::unique_ptr<Background> neighbourClient(const Netns& from, int seconds, int warmUpSeconds,
                                              bool reverse) const;
  // A starved client can end before its server has: a new test on that server would be refused
  // ("the server is busy"). Waits until no TCP connection to the servers is left.
  ::testing::AssertionResult waitIdle();

  const Netns& servers_;
  std::string address_;
  double linkMbps_;
  int basePort_;
  int portClients_;
  Neighbour neighbour_;
  std::vector<std::unique_ptr<Background>> daemons_;
};

// The receiver's rate in an iperf3 -J report, in Mbit/s; a test failure (and 0) when unreadable.
double receivedMbps(const Background& client);

}  // namespace bwfloor::test
