#pragma once
// The agent's side of port bindings (STYLE.md §1). bwfloor-server holds the desired set of every
// host (GET /v1/hosts/{host}/bindings, with a revision and long-poll), so the agent is
// level-triggered: each pass compares the full desired set with what the backends read back from
// the kernel, hands only the difference to them, removes what nobody wants any more (a deleted
// server, or what a crash left behind), and reports each port's status where the server's copy
// differs. A restarted agent therefore converges by itself, and drift (a class deleted by hand)
// is repaired at the next full observe, at least every resync interval.
//
// Threading: run() is the body of one dedicated thread (its HTTP calls block). It reads where to
// enforce from an EnforcementBoard that the report loop publishes, and rebuilds its backends when
// that changes. statuses() may be called from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/binding/enforcement_points.h"
#include "agent/binding/guarantee_monitor.h"
#include "agent/binding/reconcile_plan.h"
#include "agent/report/rest_transport.h"
#include "bindings/host_bindings.h"
#include "core/metrics.h"
#include "core/result.h"
#include "dataplane/api/qos_backend.h"

namespace bwfloor::agent {

struct BindingLoopOptions {
  std::string host;
  std::chrono::seconds resync{60};  // a full observe() of the kernel at least this often
  // How long one long-poll may wait for a change; also bounds how long stopping takes.
  std::chrono::seconds longPollWait{5};
};

// Builds the backends that serve `points` (only those with a backend name).
using BackendFactory = std::function<std::vector<std::unique_ptr<dataplane::QosBackend>>(
    const EnforcementPoints& points)>;

class BindingLoop {
 public:
  BindingLoop(BindingLoopOptions options, RestTransport& server, const EnforcementBoard& board,
              BackendFactory factory);

  // Until `stop`: poll the desired set (long-poll once a revision is known), reconcile, repeat;
  // errors are logged and retried with backoff.
  void run(const std::atomic<bool>& stop);
  // One poll and reconcile. An error when the server is unreachable or answers nonsense.
  Status step();
  // One reconcile pass over a desired set. `fullObserve` re-reads every backend from the kernel
  // first; otherwise the state left by the previous pass is trusted.
  void reconcile(const bindings::HostBindings& desired, bool fullObserve);
  // Something changed the data plane (a tc event): re-read every backend and restore the last
  // desired set now. Runs on the caller's thread; status reports wait for the next step() (the
  // server connection belongs to the loop's thread), which sends whatever differs. Returns the
  // number of ports re-programmed because the kernel no longer held them (drift).
  int repair(const std::string& trigger);
  // Counters, histograms and the drift log go to `metrics` from now on (agent_metrics.h).
  void setMetrics(MetricsRegistry* metrics) { metrics_ = metrics; }
  // Called (on the loop's thread) when the server's count of this host's providers deleted in
  // placement changes: the report loop should sync placement now.
  void setProvidersDeletedCallback(std::function<void()> callback) {
    providersDeletedCallback_ = std::move(callback);
  }
  // When step() last got an answer from the server (health); epoch when never.
  std::chrono::steady_clock::time_point lastPoll() const { return lastPoll_.load(); }

  std::vector<BindingStatus> statuses() const;
  // Reads every backend's counters and feeds the guarantee monitor; the agent calls it every
  // second from its own thread (rates and the guarantee-held signal come from these readings).
  void sample(std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now());
  // For the agent's status socket and `bwfloorctl queues`: every binding with its state, the
  // counters of its classes/queues, the rate over the last sampled second and the guarantee-held
  // seconds (guarantee_monitor.h).
  nlohmann::json statusDocument() const;
  // The last sample, for the agent's metrics.
  struct Snapshot {
    std::vector<BindingStatus> statuses;
    std::vector<CounterReading> readings;
    std::map<GuaranteeMonitor::Key, GuaranteeRecord> guarantees;
  };
  Snapshot snapshot() const;
  // Live counters of every backend (for the agent's status API); errors are logged and skipped.
  std::vector<dataplane::QosCounters> counters();

 private:
  void refreshBackends();
  std::vector<dataplane::QosCounters> countersLocked();  // backendsMutex_ held
  dataplane::QosBackend* backendNamed(const std::string& name) const;
  void observeAll();
  void reconcileLocked(const bindings::HostBindings& desired, bool fullObserve, bool report,
                       const std::string& trigger);
  // Carries out one port's step; returns its final status. `trigger`: why this pass runs (for
  // the drift log).
  BindingStatus apply(const PortStep& step, const std::string& trigger);
  void removePort(const std::string& backendName, const std::string& portId);
  bool clearUntagged(const dataplane::AppliedQos& entry);  // false: failed, retried next pass
  void reportIfChanged(const bindings::Binding& binding, const BindingStatus& status);
  // The directions with a minimum, and their uplink totals, of the last reconciled statuses.
  std::vector<WatchedDirection> watchedLocked(const std::vector<BindingStatus>& statuses) const;

  BindingLoopOptions options_;
  RestTransport& server_;
  const EnforcementBoard& board_;
  BackendFactory factory_;

  uint64_t pointsVersion_ = 0;
  EnforcementPoints points_;
  std::mutex backendsMutex_;  // backends_ is used by the loop and by counters()
  std::vector<std::unique_ptr<dataplane::QosBackend>> backends_;
  // What the backends hold, as last read or programmed. Untagged entries (SR-IOV VFs after a
  // restart: a VF holds no port id) are adopted by a binding on the same device and MAC, or
  // cleared.
  AppliedState applied_;
  bool observed_ = false;
  std::chrono::steady_clock::time_point lastObserve_{};

  uint64_t revision_ = 0;
  bool haveRevision_ = false;
  uint64_t providersDeleted_ = 0;  // as the server last said (valid with haveRevision_)
  std::function<void()> providersDeletedCallback_;
  // The last desired set (for repair()), and per port the spec the kernel last held: a port that
  // must be programmed again with the same spec was changed behind the agent's back (drift).
  std::optional<bindings::HostBindings> lastDesired_;
  std::map<std::string, dataplane::QosSpec> heldSpecs_;
  // The enforcement points changed (a total, a backend): program every port once, so that every
  // backend applies the new totals; cleared after a pass that programmed them all.
  bool reprogramAll_ = false;
  std::vector<std::string> overCommitted_;  // as last logged
  int driftRepairs_ = 0;                    // in the current pass
  MetricsRegistry* metrics_ = nullptr;
  std::atomic<std::chrono::steady_clock::time_point> lastPoll_{};

  mutable std::mutex statusMutex_;  // statuses_ and monitor_
  std::vector<BindingStatus> statuses_;
  GuaranteeMonitor monitor_;
};

}  // namespace bwfloor::agent
