#include "agent/binding/dataplane_watch.h"

#include <poll.h>

#include <algorithm>
#include <thread>

#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Waits up to `timeout` for `fd` to be readable; false on timeout (or fd < 0).
bool readable(int fd, milliseconds timeout) {
  if (fd < 0) {
    std::this_thread::sleep_for(timeout);
    return false;
  }
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0 && (p.revents & POLLIN) != 0;
}

}  // namespace

std::string DataplaneWatch::collectBurst() {
  std::vector<dataplane::TcChange> all;
  const auto until = Clock::now() + kDebounce;
  while (true) {
    auto batch = changes_->read();
    if (!batch) {
      logger("agent")->warn("tc events: {}; repairing anyway", batch.error().toString());
      if (all.empty()) return "tc events unreadable (" + batch.error().message() + ")";
      break;
    }
    all.insert(all.end(), batch->begin(), batch->end());
    const auto left = duration_cast<milliseconds>(until - Clock::now());
    if (left <= milliseconds(0) || !readable(changes_->fd(), left)) break;
  }
  if (all.empty()) return "";
  const auto deleted =
      std::find_if(all.begin(), all.end(), [](const auto& c) { return c.deleted; });
  const auto& first = deleted != all.end() ? *deleted : all.front();
  return "tc event: " + dataplane::describe(first) +
         (all.size() > 1 ? " and " + std::to_string(all.size() - 1) + " more" : "");
}

void DataplaneWatch::run(const std::atomic<bool>& stop) {
  auto nextSample = Clock::now();
  auto lastRepair = Clock::time_point{};
  std::string pending;  // a repair waiting for its gap
  while (!stop) {
    const auto now = Clock::now();
    if (now >= nextSample) {
      loop_.sample(now);
      nextSample += kSampleEvery;
      if (nextSample < now) nextSample = now + kSampleEvery;  // fell behind: skip, don't burst
    }
    if (!pending.empty() && Clock::now() - lastRepair >= kMinRepairGap) {
      const auto started = Clock::now();
      const int repaired = loop_.repair(pending);
      lastRepair = Clock::now();
      logger("agent")->debug(
          "dataplane watch: repair pass after {} took {} us, {} port(s) drifted", pending,
          std::chrono::duration_cast<std::chrono::microseconds>(lastRepair - started).count(),
          repaired);
      pending.clear();
    }
    auto wait = duration_cast<milliseconds>(nextSample - Clock::now());
    if (!pending.empty()) {
      wait = std::min(wait, duration_cast<milliseconds>(lastRepair + kMinRepairGap - Clock::now()));
    }
    wait = std::clamp(wait, milliseconds(0), milliseconds(200));  // bounds how long stop takes
    if (changes_ != nullptr && readable(changes_->fd(), wait)) {
      std::string what = collectBurst();
      if (pending.empty()) pending = std::move(what);
    } else if (changes_ == nullptr) {
      std::this_thread::sleep_for(wait);
    }
  }
}

}  // namespace bwfloor::agent
