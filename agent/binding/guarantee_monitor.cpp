#include "agent/binding/guarantee_monitor.h"

#include <algorithm>
#include <tuple>

namespace bwfloor::agent {
using dataplane::QosCounters;

void GuaranteeMonitor::observe(const std::vector<WatchedDirection>& watched,
                               const std::vector<QosCounters>& counters, Clock::time_point at) {
  const double seconds = std::chrono::duration<double>(at - readAt_).count();
  const bool haveInterval = readAt_ != Clock::time_point{} && seconds > 0;
  // Indexes, not scans: a host has thousands of classes, read every second.
  using ObjectKey = std::tuple<std::string, dataplane::Direction, std::string, std::string>;
  std::map<ObjectKey, const QosCounters*> before;
  for (const CounterReading& r : readings_) {
    const QosCounters& c = r.counters;
    before.emplace(ObjectKey{c.portId, c.direction, c.device, c.object}, &c);
  }
  std::vector<CounterReading> next;
  next.reserve(counters.size());
  // Per counted object: did it want more than it got over the interval?
  std::vector<bool> wanted;
  std::map<std::pair<std::string, dataplane::Direction>, double> deviceKbps;
  std::map<Key, size_t> ownIndex;
  for (const QosCounters& c : counters) {
    CounterReading reading{c, std::nullopt};
    bool backlogged = c.backlogBytes > 0;
    const auto prior = before.find(ObjectKey{c.portId, c.direction, c.device, c.object});
    // A counter that went backwards is a re-created class: no rate until the next reading.
    if (haveInterval && prior != before.end() && c.bytes >= prior->second->bytes) {
      reading.rateKbps = static_cast<double>(c.bytes - prior->second->bytes) * 8 / 1000 / seconds;
      backlogged =
          backlogged || c.drops > prior->second->drops || c.overlimits > prior->second->overlimits;
      deviceKbps[{c.device, c.direction}] += *reading.rateKbps;
    }
    if (!c.portId.empty()) ownIndex.emplace(Key{c.portId, c.direction}, next.size());
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
    const auto index = ownIndex.find(key);
    const CounterReading* own = index == ownIndex.end() ? nullptr : &next[index->second];
    if (own != nullptr && own->rateKbps) {
      const double uplinkKbps = deviceKbps[{own->counters.device, w.direction}];
      const bool below =
          *own->rateKbps < kBelowMinimumShare * static_cast<double>(w.minimum.kbps());
      const bool saturated =
          !w.uplinkTotal.isZero() &&
          uplinkKbps >= kSaturatedShare * static_cast<double>(w.uplinkTotal.kbps());
      const bool wantedMore = wanted[index->second];
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
