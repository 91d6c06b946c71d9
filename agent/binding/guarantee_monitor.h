#pragma once
// The guarantee-held signal: per bound port and direction, the seconds in which the guarantee
// did not hold although it should have. A second counts when, over that second, all three hold:
//   - the port wanted more than it got: its class/queue dropped, went overlimit, or had a
//     backlog when read;
//   - it got less than its minimum (below kBelowMinimumShare of it, the slack that covers TCP's
//     sawtooth and when within the second the counters were read);
//   - its uplink was saturated: everything counted on the same device and direction together
//     reached kSaturatedShare of the device's total.
// A port below its minimum on an idle uplink only sent less (not our failure); one that wanted
// more while above its minimum got what it was promised. Only the conjunction is a broken
// guarantee, so the counter stays at 0 while the guarantee holds, and operators can alert on
// any increase.
// A second counts only when the port also wanted more in the seconds before and after it: a
// flow that starts or stops within a second sent for part of it only, and its average over the
// whole second says nothing about whether it got its minimum while it sent. (Seen in the demo:
// vm0's first second, a TCP start into a full uplink, counted as missed.) The counter therefore
// lags by one reading.
//
// Pure: fed counter readings (about one per second) with the time they were read; no I/O.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/units.h"
#include "dataplane/api/qos_backend.h"

namespace bwfloor::agent {

// One direction of one bound port that has a minimum.
struct WatchedDirection {
  std::string portId;
  dataplane::Direction direction = dataplane::Direction::kEgress;
  Kbps minimum{0};
  Kbps uplinkTotal{0};  // the device's total in this direction; 0: unknown, never saturated
};

// What the monitor last saw of one counted object (a port's class, or a device's default).
struct CounterReading {
  dataplane::QosCounters counters;
  std::optional<double> rateKbps;  // over the last interval; none after the first reading
};

// A watched direction's totals.
struct GuaranteeRecord {
  double checkedSeconds = 0;  // seconds with a rate known for this port and direction
  double missedSeconds = 0;   // of those, seconds in which the guarantee did not hold
  bool missingNow = false;    // the last reading confirmed a missed second
  bool operator==(const GuaranteeRecord&) const = default;
};

class GuaranteeMonitor {
 public:
  static constexpr double kBelowMinimumShare = 0.95;
  static constexpr double kSaturatedShare = 0.90;
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<std::string, dataplane::Direction>;  // (port id, direction)

  // One reading of every backend's counters at `at`.
  void observe(const std::vector<WatchedDirection>& watched,
               const std::vector<dataplane::QosCounters>& counters, Clock::time_point at);

  const std::vector<CounterReading>& readings() const { return readings_; }
  // Totals of every direction watched at the last reading (a port unbound since is dropped).
  const std::map<Key, GuaranteeRecord>& records() const { return records_; }

 private:
  // Per watched direction: whether it wanted more in the last interval, and that interval's
  // length when it was a missed one waiting for the next to confirm it.
  struct Pending {
    bool wantedBefore = false;
    std::optional<double> candidateSeconds;
  };
  std::vector<CounterReading> readings_;
  std::map<Key, GuaranteeRecord> records_;
  std::map<Key, Pending> pending_;
  Clock::time_point readAt_{};
};

}  // namespace bwfloor::agent
