#include "agent/binding/guarantee_monitor.h"

#include <gtest/gtest.h>

namespace bwfloor::agent {
namespace {

using dataplane::Direction;
using dataplane::QosCounters;
using std::chrono::milliseconds;
using Clock = GuaranteeMonitor::Clock;

constexpr uint64_t kBytesPerSecondAtKbps = 1000 / 8;  // bytes per second per kbit/s

// Port A (minimum 600 kbit/s) and the default class on eth0, whose total is 1000 kbit/s.
class GuaranteeMonitorTest : public ::testing::Test {
 protected:
  struct Second {
    uint64_t aKbps;
    uint64_t defaultKbps;
    uint64_t aDrops = 0;
    uint64_t aOverlimits = 0;
    uint64_t aBacklog = 0;
  };

  void run(const Second& s, milliseconds length = milliseconds(1000)) {
    aBytes_ += s.aKbps * kBytesPerSecondAtKbps * static_cast<uint64_t>(length.count()) / 1000;
    defaultBytes_ +=
        s.defaultKbps * kBytesPerSecondAtKbps * static_cast<uint64_t>(length.count()) / 1000;
    aDrops_ += s.aDrops;
    aOverlimits_ += s.aOverlimits;
    at_ += length;
    QosCounters a{"A",     Direction::kEgress, "eth0",    "classid 1:10", aBytes_, 0,
                  aDrops_, aOverlimits_,       s.aBacklog};
    QosCounters other{"", Direction::kEgress, "eth0", "classid 1:2", defaultBytes_, 0, 0, 0, 0};
    monitor_.observe({watched_}, {a, other}, at_);
  }
  const GuaranteeRecord& record() const { return monitor_.records().at({"A", Direction::kEgress}); }

  WatchedDirection watched_{"A", Direction::kEgress, Kbps(600), Kbps(1000)};
  GuaranteeMonitor monitor_;
  Clock::time_point at_ = Clock::now();
  uint64_t aBytes_ = 0;
  uint64_t defaultBytes_ = 0;
  uint64_t aDrops_ = 0;
  uint64_t aOverlimits_ = 0;
};

TEST_F(GuaranteeMonitorTest, FirstReadingHasNoRateAndChecksNothing) {
  run({400, 600, 5});
  EXPECT_FALSE(monitor_.readings()[0].rateKbps.has_value());
  EXPECT_EQ(record().checkedSeconds, 0);
  EXPECT_EQ(record().missedSeconds, 0);
}

TEST_F(GuaranteeMonitorTest, CountsOnlySecondsBelowMinimumWantingMoreOnASaturatedUplink) {
  run({0, 0});
  run({400, 600, 5});  // below, wanted (drops), saturated; but the second before is unknown
  ASSERT_TRUE(monitor_.readings()[0].rateKbps.has_value());
  EXPECT_NEAR(*monitor_.readings()[0].rateKbps, 400, 1);
  run({400, 600, 5});  // a candidate: it wanted more before too
  EXPECT_EQ(record().missedSeconds, 0);
  run({400, 600, 5});  // wanting more after it confirms the one before; itself a candidate
  EXPECT_NEAR(record().missedSeconds, 1, 1e-6);
  EXPECT_TRUE(record().missingNow);
  run({400, 100, 5});  // confirms the previous; below and wanted, but the uplink is idle
  EXPECT_NEAR(record().missedSeconds, 2, 1e-6);
  run({400, 600});  // below on a full uplink, but it wanted no more (no drop, overlimit, queue)
  run({650, 350, 9, 9, 3000});  // wanted more, but got its minimum
  run({590, 410, 0, 0, 1500});  // within the 5 % slack (>= 570): held
  EXPECT_NEAR(record().missedSeconds, 2, 1e-6);
  EXPECT_FALSE(record().missingNow);
  run({300, 700, 0, 4}, milliseconds(500));      // overlimit alone is wanting more; half a second
  run({300, 700, 0, 0, 1}, milliseconds(1500));  // a backlog when read is too: confirms 0.5 s
  run({300, 700, 3}, milliseconds(1000));        // confirms the 1.5 s
  EXPECT_NEAR(record().missedSeconds, 4, 1e-6);
  EXPECT_NEAR(record().checkedSeconds, 10, 1e-6);
}

// A flow that starts or stops within a second: that second's average is low although the port
// got its minimum while it sent; with no wanting-more before (start) or after (stop) it is not
// counted.
TEST_F(GuaranteeMonitorTest, AFlowStartingOrStoppingWithinASecondIsNotCounted) {
  run({0, 900});
  run({0, 900});       // idle, the neighbour fills the uplink
  run({300, 700, 2});  // started in the last 0.3 s of the second, with drops: below and wanted
  run({700, 300, 2});  // got its minimum
  run({700, 300, 2});
  run({200, 800, 2});  // stopped after 0.3 s
  run({0, 1000});      // idle
  EXPECT_EQ(record().missedSeconds, 0);
  EXPECT_NEAR(record().checkedSeconds, 6, 1e-6);
}

TEST_F(GuaranteeMonitorTest, UnknownTotalIsNeverSaturated) {
  watched_.uplinkTotal = Kbps(0);
  run({0, 0});
  run({100, 5000, 50});
  EXPECT_EQ(record().missedSeconds, 0);
  EXPECT_NEAR(record().checkedSeconds, 1, 1e-6);
}

TEST_F(GuaranteeMonitorTest, RecreatedClassHasNoRateForOneReading) {
  run({0, 0});
  run({400, 600, 5});
  run({400, 600, 5});  // a candidate
  aBytes_ = 0;         // the class was deleted and programmed again: its counters restart
  run({200, 600, 5});
  EXPECT_FALSE(monitor_.readings()[0].rateKbps.has_value());
  EXPECT_EQ(record().missedSeconds, 0) << "nothing known after it: not confirmed";
  EXPECT_NEAR(record().checkedSeconds, 2, 1e-6);
}

TEST_F(GuaranteeMonitorTest, UnwatchedPortIsDropped) {
  run({0, 0});
  run({400, 600, 5});
  monitor_.observe({}, {}, at_ + milliseconds(1000));
  EXPECT_TRUE(monitor_.records().empty());
  EXPECT_TRUE(monitor_.readings().empty());
}

}  // namespace
}  // namespace bwfloor::agent
