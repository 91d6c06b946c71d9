#pragma once
// bwfloor's /v1 objects: networks, QoS policies, ports, servers, agents (placement/ports/domain.h),
// and the bindings that the agents enforce. Requests arrive typed (the /v1 edge parsed them);
// objects are persisted through a JsonStore before memory changes, like the Placement model.
// Scheduling a server claims its ports' bandwidth in the in-process Placement model and waits
// for the host's agent to enforce it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "bindings/host_bindings.h"
#include "placement/model/placement_model.h"
#include "placement/ports/domain.h"
#include "placement/ports/json_store.h"

namespace bwfloor::ports {

struct PortsOptions {
  std::chrono::seconds agentDownTime{75};   // an agent without a heartbeat this long is dead
  std::chrono::seconds bindingTimeout{30};  // how long server create waits for enforcement
};

class PortsService {
 public:
  PortsService(placement::PlacementModel& placement, std::shared_ptr<JsonStore> store,
               PortsOptions options = {});
  ~PortsService();
  PortsService(const PortsService&) = delete;
  PortsService& operator=(const PortsService&) = delete;
  // Reads the stored objects (an unreadable document is an error naming it), then undoes what
  // an interrupted create or delete left behind.
  Status load();

  ApiResult<Network> createNetwork(const NetworkRequest& request);
  ApiResult<QosPolicy> createPolicy(const PolicyRequest& request);
  ApiResult<QosRule> createRule(const std::string& policyRef, const RuleRequest& request);
  // Changes a rule's rate; bound ports follow (allocation + data plane) or nothing changes.
  ApiResult<QosRule> updateRule(const std::string& policyRef, const std::string& ruleId,
                                const RateChange& change);
  ApiResult<Port> createPort(const PortRequest& request);
  // Schedules the server and claims its ports' bandwidth at once, then returns; `done` gets the
  // ACTIVE server when the host's agent has reported every port, or the error when one failed or
  // bindingTimeout passed (then nothing is kept). `done` runs on the thread that settles it (an
  // agent's report, expireWaiters, or this call) with no lock held. No thread waits meanwhile.
  using ServerDone = std::function<void(ApiResult<Server>)>;
  void createServer(const ServerRequest& request, ServerDone done);
  // The same, waiting for the answer on the calling thread (tests and tools).
  ApiResult<Server> createServer(const ServerRequest& request);
  ApiStatus deleteObject(Kind kind, const std::string& ref);

  // The API's view of objects: the document plus what is derived from the others (a port's
  // resource request, an agent's liveness). `ref` is an id or a unique name (an agent's host).
  ApiResult<json> show(Kind kind, const std::string& ref) const;
  json list(Kind kind) const;
  json describe(const Port& port) const;

  // Agents.
  ApiResult<Agent> heartbeat(const HeartbeatRequest& request);

  // Bindings, level-triggered: the full desired set for a host and its revision.
  bindings::HostBindings hostBindings(const std::string& host) const;
  uint64_t hostRevision(const std::string& host) const;
  // Placement deleted these providers (by name). The hosts whose agents report them (the name's
  // hypervisor part, "devstack0:Open vSwitch agent:br-test" -> devstack0, mapped through the
  // agents' resource_provider_hypervisors) get a new bindings revision with providers_deleted
  // counted up, which wakes their long-polls: the agents re-create at once. Only queues the work
  // (the caller holds the placement model's lock).
  void providersDeleted(std::vector<std::string> names);
  // Calls `notify` once when the host's revision differs from `revision`, or its count of
  // deleted providers from `providersDeleted` (when given), or at the deadline.
  void waitForBindings(const std::string& host, uint64_t revision,
                       std::optional<uint64_t> providersDeleted,
                       std::chrono::steady_clock::time_point deadline,
                       std::function<void()> notify);
  // `portRef`: the port's id or unique name. `reporterHost`: an agent's credential may report
  // only ports bound to its host ("" = admin).
  ApiResult<Port> reportBindingStatus(const std::string& portRef,
                                      const bindings::StatusReport& report,
                                      const std::string& reporterHost = "");
  // Answers expired long-polls and fails server creates past their deadline; the server calls
  // it periodically.
  void expireWaiters();

  // What /metrics reports.
  struct Stats {
    int agentsAlive = 0;
    int agentsDead = 0;
    size_t longPollsWaiting = 0;
    size_t serversWaitingForAgent = 0;
    std::map<std::string, int> portsByBindingState;  // "enforced", "pending", ...
  };
  Stats stats() const;

  // --- replicas on a shared store (PostgreSQL) ---
  // Applies what other servers committed since this one last looked: objects, bindings (waking
  // the long-polls of the hosts they touch), agents' heartbeats, and settles this server's
  // creates whose ports another server took the reports of. The follower thread calls it.
  Status catchUp();
  // When this service was last known to hold everything the database had.
  std::chrono::steady_clock::time_point currentAsOf() const;
  // Undoes what a server that died mid-create left (a claim without a server, a server in BUILD),
  // once it is older than any create still in flight could be. The server calls it now and then.
  void reconcileAbandoned();

 private:
  template <typename T>
  using ById = std::map<std::string, T>;
  using Object = std::variant<Network, QosPolicy, Port, Server, Agent>;
  // One object written (or, without one, deleted) by persist().
  struct Change {
    Kind kind;
    std::string id;
    std::optional<Object> object;
  };
  static Change put(Object object);
  static Change erase(Kind kind, std::string id);

  // A server create waiting for its agent's reports.
  struct PendingServer {
    std::string serverId;
    std::string host;
    std::vector<std::string> portIds;
    std::chrono::steady_clock::time_point deadline;
    ServerDone done;
  };
  using Settled = std::vector<std::function<void()>>;  // callbacks to run after unlocking

  struct Waiter {
    std::string host;
    uint64_t revision;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> notify;
  };

  // mutex_ and, on a shared store, the /v1 stream's database-wide write lock (given back unused
  // when the write fails validation). Taking it applies what others committed first.
  class WriteLock {
   public:
    WriteLock(std::unique_lock<std::mutex> lock, PortsService* owner)
        : lock_(std::move(lock)), owner_(owner) {}
    WriteLock(WriteLock&& other) noexcept
        : lock_(std::move(other.lock_)), owner_(std::exchange(other.owner_, nullptr)) {}
    WriteLock& operator=(WriteLock&&) = delete;
    ~WriteLock() { unlock(); }
    void unlock();

   private:
    std::unique_lock<std::mutex> lock_;
    PortsService* owner_;
  };
  ApiResult<WriteLock> lockForWrite();
  void applyOthersLocked(const OthersDocs& others);
  void applyDocLocked(const JsonDocChange& doc);
  // Re-reads every object (a replica further behind than the change log reaches).
  Status reload(std::chrono::steady_clock::time_point asOf);

  template <typename T>
  Status loadKind(Kind kind, Result<T> (*parse)(const json&), ById<T>& into);
  ApiStatus persist(std::vector<Change> changes);  // store, then memory
  void bumpHost(const std::string& host);          // new bindings revision; wakes long-polls
  // Answers the host's long-polls (all of them, or those not already at `revision`).
  void wakeWaitersLocked(const std::string& host, std::optional<uint64_t> revision);
  // Logs agents that went dead or came back since the last call.
  void logAgentTransitionsLocked(std::chrono::steady_clock::time_point now);
  void runWaker();
  bool agentAlive(const std::string& host) const;
  bool agentAlive(const Agent& agent) const;
  const QosPolicy* policyOf(const Port& port) const;
  std::optional<ResourceRequest> resourceRequest(const Port& port) const;
  json portViewLocked(const Port& port) const;
  json viewLocked(Kind kind, const std::string& id) const;
  ApiResult<std::string> schedule(const Server& server, std::vector<Port>& ports,
                                  const std::string& host, Strategy strategy);
  std::string noValidHostReason(const std::vector<Port>& ports) const;
  // updateRule() of a minimum_packet_rate rule (under the write lock).
  ApiResult<QosRule> updatePacketRateLocked(QosPolicy& policy, QosRule& rule,
                                            const RateChange& change);
  // "host X has room but its agent is not alive (last heartbeat T, N s ago; ...)".
  std::string deadAgentsText(const std::set<std::string>& hosts) const;
  // Settles the pending creates whose ports all reported, one failed, or whose deadline passed.
  Settled settleServersLocked(std::chrono::steady_clock::time_point now);
  // nullopt while some port is still pending.
  std::optional<ApiStatus> enforcementOutcomeLocked(const std::vector<std::string>& portIds);
  void rollBackServerLocked(const std::string& serverId, const std::string& host);
  // What a crash between the claim and the documents left behind: everything at start-up on a
  // store only this server writes; on a shared one, what is older than `olderThan` (unix s).
  void reconcileLocked(std::optional<int64_t> olderThan);
  void unbindPorts(const Server& server, std::vector<Change>& changes);

  placement::PlacementModel& placement_;
  std::shared_ptr<JsonStore> store_;
  PortsOptions options_;
  mutable std::mutex mutex_;
  std::vector<PendingServer> pendingServers_;
  ById<Network> networks_;
  ById<QosPolicy> policies_;
  ById<Port> ports_;
  ById<Server> servers_;
  ById<Agent> agents_;
  std::map<std::string, uint64_t> providerDeletions_;  // host -> count (providersDeleted)
  std::map<std::string, uint64_t> revisions_;          // host -> revision
  std::map<std::string, std::chrono::steady_clock::time_point> heartbeats_;  // agent id
  std::map<std::string, int64_t> persistedHeartbeats_;  // agent id -> heartbeatAt in the store
  std::map<std::string, bool> aliveSeen_;  // agent id -> alive at the last transition check
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  int64_t appliedSeq_ = 0;  // shared store: the last /v1 change-log entry in memory
  bool writeOpen_ = false;  // a WriteLock holds the store's write lock
  placement::CurrentAsOf currentAsOf_;
  std::vector<Waiter> waiters_;
  // Woken long-polls are answered on this thread: bumpHost() runs under mutex_, and an answer
  // reads the bindings, which takes mutex_ again.
  std::mutex wakeMutex_;
  std::condition_variable wakeReady_;
  std::vector<std::function<void()>> wakeQueue_;
  bool stopping_ = false;
  std::thread waker_;
};

}  // namespace bwfloor::ports
