#pragma once
// bwfloor's /v1 objects: networks, QoS policies, ports, servers, agents, and the bindings that
// the agents enforce. Objects are JSON documents (the API's own shape), persisted through a
// JsonStore before memory changes, like the Placement model. Scheduling a server claims its
// ports' bandwidth in the in-process Placement model and waits for the host's agent to enforce it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "placement/model/placement_model.h"
#include "placement/ports/json_store.h"

namespace bwfloor::ports {

using nlohmann::json;
using placement::ApiError;
template <typename T>
using ApiResult = placement::ApiResult<T>;
using ApiStatus = placement::ApiStatus;

struct PortsOptions {
  std::chrono::seconds agentDownTime{75};   // an agent without a heartbeat this long is dead
  std::chrono::seconds bindingTimeout{30};  // how long server create waits for enforcement
};

// A QoS rule's rate field (min_kbps / max_kbps): a whole number of kbit/s that fits placement's
// 32-bit amounts; the 400 names the field and the value.
ApiStatus checkQosRate(const json& body, const char* field);

class PortsService {
 public:
  PortsService(placement::PlacementModel& placement, std::shared_ptr<JsonStore> store,
               PortsOptions options = {});
  ~PortsService();
  PortsService(const PortsService&) = delete;
  PortsService& operator=(const PortsService&) = delete;
  Status load();

  // Each create takes the request body and returns the stored object.
  ApiResult<json> createNetwork(const json& body);
  ApiResult<json> createPolicy(const json& body);
  ApiResult<json> createRule(const std::string& policyRef, const json& body);
  // Changes a rule's rate; bound ports follow (allocation + data plane) or nothing changes.
  ApiResult<json> updateRule(const std::string& policyRef, const std::string& ruleId,
                             const json& body);
  ApiResult<json> createPort(const json& body);
  // Schedules the server and claims its ports' bandwidth at once, then returns; `done` gets the
  // ACTIVE server when the host's agent has reported every port, or the error when one failed or
  // bindingTimeout passed (then nothing is kept). `done` runs on the thread that settles it (an
  // agent's report, expireWaiters, or this call) with no lock held. No thread waits meanwhile.
  using ServerDone = std::function<void(ApiResult<json>)>;
  void createServer(const json& body, ServerDone done);
  // The same, waiting for the answer on the calling thread (tests and tools).
  ApiResult<json> createServer(const json& body);
  ApiStatus deleteObject(const std::string& kind, const std::string& ref);
  ApiResult<json> show(const std::string& kind, const std::string& ref) const;
  json list(const std::string& kind) const;

  // Agents.
  ApiResult<json> heartbeat(const json& body);
  json listAgents() const;

  // Bindings, level-triggered: the full desired set for a host and its revision.
  json hostBindings(const std::string& host) const;
  uint64_t hostRevision(const std::string& host) const;
  // Calls `notify` once when the host's revision differs from `revision` or at the deadline.
  void waitForBindings(const std::string& host, uint64_t revision,
                       std::chrono::steady_clock::time_point deadline,
                       std::function<void()> notify);
  // `reporterHost`: an agent's credential may report only ports bound to its host ("" = admin).
  ApiResult<json> reportBindingStatus(const std::string& portId, const json& body,
                                      const std::string& reporterHost = "");
  // Answers expired long-polls and fails server creates past their deadline; the server calls
  // it periodically.
  void expireWaiters();

 private:
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

  const json* findLocked(const std::string& kind, const std::string& ref) const;
  ApiStatus persist(std::vector<JsonDocChange> changes);  // store, then memory
  void bumpHost(const std::string& host);                 // new bindings revision; wakes long-polls
  void runWaker();
  bool agentAlive(const std::string& host) const;
  json resourceRequest(const json& port) const;
  json requestGroups(const json& port) const;
  ApiResult<json> schedule(const json& server, std::vector<json>& ports, const std::string& host,
                           bool pack);
  std::string noValidHostReason(const std::vector<json>& ports) const;
  // Settles the pending creates whose ports all reported, one failed, or whose deadline passed.
  Settled settleServersLocked(std::chrono::steady_clock::time_point now);
  // nullopt while some port is still pending.
  std::optional<ApiStatus> enforcementOutcomeLocked(const std::vector<std::string>& portIds);
  void rollBackServerLocked(const std::string& serverId, const std::string& host);
  // Start-up: what a crash between the claim and the documents left behind.
  void reconcileLocked();
  void unbindPorts(const json& server, std::vector<JsonDocChange>& changes);

  placement::PlacementModel& placement_;
  std::shared_ptr<JsonStore> store_;
  PortsOptions options_;
  mutable std::mutex mutex_;
  std::vector<PendingServer> pendingServers_;
  std::map<std::string, std::map<std::string, json>> objects_;  // kind -> id -> document
  std::map<std::string, uint64_t> revisions_;                   // host -> bindings revision
  std::map<std::string, std::chrono::steady_clock::time_point> heartbeats_;  // host|type
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
