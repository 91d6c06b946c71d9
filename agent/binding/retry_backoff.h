#pragma once
// When the binding loop tries again after a failed poll (server unreachable, nonsense answer):
// at once after a success, then after `first`, doubling up to `max`. Time comes from the injected
// Clock so tests step it.

#include <algorithm>
#include <chrono>

#include "agent/clock.h"

namespace bwfloor::agent {

class RetryBackoff {
 public:
  RetryBackoff(const Clock& clock, std::chrono::milliseconds first, std::chrono::milliseconds max)
      : clock_(clock), first_(first), max_(std::max(first, max)), delay_(first) {}

  // A failure: the next attempt waits the current delay, and the delay after it doubles.
  std::chrono::milliseconds failed() {
    const auto wait = delay_;
    retryAt_ = clock_.now() + wait;
    delay_ = std::min(delay_ * 2, max_);
    return wait;
  }
  // A success: the next failure waits `first` again.
  void succeeded() {
    delay_ = first_;
    retryAt_ = {};
  }
  bool due() const { return clock_.now() >= retryAt_; }

 private:
  const Clock& clock_;
  std::chrono::milliseconds first_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds delay_;
  Clock::TimePoint retryAt_{};
};

}  // namespace bwfloor::agent
