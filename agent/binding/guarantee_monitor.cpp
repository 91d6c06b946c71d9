#include "agent/binding/guarantee_monitor.h"

#include <algorithm>

namespace bwfloor::agent {
namespace {

using dataplane::QosCounters;

bool sameObject(const QosCounters& a, const QosCounters& b) {
  return a.portId == b.portId && a.direction == b.direction && a.device == b.device &&
         a.object == b.object;
}

}  // namespace

void GuaranteeMonitor::observe(const std::vector<WatchedDirection>& watched,
                               const std::vector<QosCounters>& counters, Clock::time_point at) {
  const double seconds = std::chrono::duration<double>(at - readAt_).count();
  const bool haveInterval = readAt_ != Clock::time_point{} && seconds > 0;
  std::vector<CounterReading> next;
  next.reserve(counters.size());
  // Per counted object: did it want more than it got over the interval?
  std::vector<bool> wanted;
  for (const QosCounters& c : counters) {
    CounterReading reading{c, std::nullopt};
    bool backlogged = c.backlogBytes > 0;
    const auto before =
        std::find_if(readings_.begin(), readings_.end(),
                     [&](const CounterReading& r) { return sameObject(r.counters, c); });
    // A counter that went backwards is a re-created class: no rate until the next reading.
    if (haveInterval && before != readings_.end() && c.bytes >= before->counters.bytes) {
      reading.rateKbps = static_cast<double>(c.bytes - before->counters.bytes) * 8 / 1000 / seconds;
      backlogged = backlogged || c.drops > before->counters.drops ||
                   c.overlimits > before->counters.overlimits;
    }
    next.push_back(std::move(reading));
    wanted.push_back(backlogged);
  }

  std::map<Key, GuaranteeRecord> records;
  std::map<Key, Pending> pending;
  for (const WatchedDirection& w : watched) {
    const Key key{w.portId, w.direction};
    GuaranteeRecord record;
    if (auto it = records_.find(key); it != records_.end()) record = it->second;
    Pending state;
    if (auto it = pending_.find(key); it != pending_.end()) state = it->second;
    record.missingNow = false;
    const auto own = std::find_if(next.begin(), next.end(), [&](const CounterReading& r) {
      return r.counters.portId == w.portId && r.counters.direction == w.direction;
    });
    if (own != next.end() && own->rateKbps) {
      double uplinkKbps = 0;
      for (const CounterReading& r : next) {
        if (r.counters.device == own->counters.device && r.counters.direction == w.direction &&
            r.rateKbps) {
          uplinkKbps += *r.rateKbps;
        }
      }
      const bool below =
          *own->rateKbps < kBelowMinimumShare * static_cast<double>(w.minimum.kbps());
      const bool saturated =
          !w.uplinkTotal.isZero() &&
          uplinkKbps >= kSaturatedShare * static_cast<double>(w.uplinkTotal.kbps());
      const bool wantedMore = wanted[static_cast<size_t>(own - next.begin())];
      record.checkedSeconds += seconds;
      // The interval before, a candidate, is confirmed when the port still wants more now.
      if (state.candidateSeconds && wantedMore) {
        record.missedSeconds += *state.candidateSeconds;
        record.missingNow = true;
      }
      state.candidateSeconds.reset();
      if (below && saturated && wantedMore && state.wantedBefore) state.candidateSeconds = seconds;
      state.wantedBefore = wantedMore;
    } else {
      state = Pending{};  // no rate: nothing is known about this interval
    }
    records[key] = record;
    pending[key] = state;
  }
  readings_ = std::move(next);
  records_ = std::move(records);
  pending_ = std::move(pending);
  readAt_ = at;
}

}  // namespace bwfloor::agent
