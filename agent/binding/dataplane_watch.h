#pragma once
// The agent's third thread: it watches the data plane between the binding loop's passes.
//   - every second it samples the backends' counters (rates, the guarantee-held signal);
//   - when traffic control changes on the host (a tc event: a class, filter or qdisc deleted or
//     changed, by hand or by ovs-vswitchd after an OVSDB edit), it waits kDebounce for the burst
//     to end and asks the binding loop to repair: re-read the kernel and restore the desired
//     set. The agent's own programming causes events too; the pass they trigger finds nothing to
//     do, so the watch settles after one extra read.
// A burst of events yields one repair; repairs are at least kMinRepairGap apart, so a kernel
// that keeps refusing cannot turn the watch into a busy loop.

#include <atomic>
#include <chrono>

#include "agent/binding/binding_loop.h"
#include "dataplane/api/tc_change_source.h"

namespace bwfloor::agent {

class DataplaneWatch {
 public:
  static constexpr std::chrono::milliseconds kSampleEvery{1000};
  static constexpr std::chrono::milliseconds kDebounce{50};
  static constexpr std::chrono::milliseconds kMinRepairGap{250};

  // `changes` may be null (no tc events: drift then waits for the periodic full observe).
  DataplaneWatch(BindingLoop& loop, dataplane::TcChangeSource* changes)
      : loop_(loop), changes_(changes) {}

  void run(const std::atomic<bool>& stop);

 private:
  // Drains the source for kDebounce after the first event; a description of what changed.
  std::string collectBurst();

  BindingLoop& loop_;
  dataplane::TcChangeSource* changes_;
};

}  // namespace bwfloor::agent
