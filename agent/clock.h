#pragma once
// Time for the agent's timers and backoff, injected so tests run on simulated time (STYLE.md §3).

#include <chrono>

namespace bwfloor::agent {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace bwfloor::agent
