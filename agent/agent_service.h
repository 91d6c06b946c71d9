#pragma once
// The agent's report loop, single-threaded and driven from outside (agent_main.cpp's poll loop, or
// a test on simulated time):
//   - desired state: the provider tree computed from the configuration and the last discovery;
//   - triggers that request a placement sync: start-up, configuration reload (SIGHUP), link
//     events that change the tree, and the periodic resync (every resync_interval), which re-reads
//     placement and so also repairs providers an operator deleted;
//   - a requested sync stays pending until one succeeds: failures are retried with exponential
//     backoff (1 s doubling, capped at min(resync_interval, 60 s)), each attempt from the current
//     desired tree, so no update is dropped;
//   - heartbeats to bwfloor-server every report_interval, and at once when resources_synced or the
//     configuration changes.
// Every I/O dependency is injected: LinkSource, the OVSDB reader, both HTTP peers, the clock.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/clock.h"
#include "agent/config/agent_config.h"
#include "agent/discovery/host_discovery.h"
#include "agent/report/heartbeat.h"
#include "agent/report/inventory_sync.h"
#include "agent/report/placement_client.h"
#include "agent/report/provider_tree.h"
#include "agent/report/rest_transport.h"
#include "core/metrics.h"
#include "dataplane/api/link_source.h"
#include "dataplane/ovs/ovs_bridge.h"

namespace bwfloor::agent {

struct AgentServiceDeps {
  dataplane::LinkSource* links = nullptr;
  Clock* clock = nullptr;
  // Called at start and again when a reload changes what they depend on. makeOvsSource may
  // return null (no OVSDB: OVS bridges then come from netlink only).
  std::function<std::unique_ptr<dataplane::OvsBridgeSource>(const AgentConfig&)> makeOvsSource;
  std::function<std::unique_ptr<RestTransport>(const AgentConfig&)> makePlacementTransport;
  std::function<std::unique_ptr<RestTransport>(const AgentConfig&)> makeServerTransport;
  MetricsRegistry* metrics = nullptr;  // placement sync counts go here when set
};

class AgentService {
 public:
  static constexpr std::chrono::seconds kInitialBackoff{1};
  static constexpr std::chrono::seconds kMaxBackoff{60};

  AgentService(AgentConfig config, AgentServiceDeps deps);

  // Subscribes to link events (degraded to polling at each resync if that fails), discovers the
  // host and requests the start-up sync. Call once, before runDue().
  void start();
  // Runs whatever is due now (resync, sync attempt, heartbeat); returns how long until the next
  // thing is due.
  std::chrono::milliseconds runDue();
  // The link source's event fd is readable: drain its events, rediscover, request a sync when
  // the desired tree changed.
  void handleLinkEvents();
  // bwfloor-server says providers of this host were deleted in placement: sync after
  // kDeletionSettle (an operator deletes children first, one request each; re-creating in the
  // middle of that would fight them), well within the 2 s operators are promised.
  void providersDeletedInPlacement();
  static constexpr std::chrono::milliseconds kDeletionSettle{1000};
  // SIGHUP with a valid new configuration: applies it and syncs at once.
  void reloadConfig(AgentConfig config);
  // --once: one sync attempt and one heartbeat round now; true when placement is in sync.
  bool runOnce();

  const AgentConfig& config() const { return config_; }
  const ProviderTree& desiredTree() const { return tree_; }
  const HostView& hostView() const { return view_; }
  bool resourcesSynced() const { return resourcesSynced_; }
  bool syncPending() const { return syncPending_; }
  int syncAttempts() const { return syncAttempts_; }
  const std::optional<SyncReport>& lastSync() const { return lastSync_; }
  Clock::TimePoint nextSyncAttempt() const { return nextSyncAt_; }
  bool linkEventsSubscribed() const { return subscribed_; }

 private:
  void makePeers(const AgentConfig* previous);
  // Re-reads the host; returns true when the desired tree changed.
  bool rediscover(const std::string& why);
  void logHostChanges(const HostView& before, const HostView& after, bool first);
  void logProblems(const ProviderTree& before, const ProviderTree& after);
  void requestSync(const std::string& why, bool resetBackoff);
  void attemptSync();
  void sendHeartbeats();
  std::chrono::seconds maxBackoff() const;

  AgentConfig config_;
  AgentServiceDeps deps_;
  std::unique_ptr<dataplane::OvsBridgeSource> ovs_;
  std::unique_ptr<RestTransport> placement_;
  std::unique_ptr<RestTransport> server_;
  HostView view_;
  bool discovered_ = false;
  ProviderTree tree_;
  InventorySync sync_;
  HeartbeatReporter heartbeat_;

  bool subscribed_ = false;
  bool syncPending_ = false;
  bool resourcesSynced_ = false;
  int syncAttempts_ = 0;
  std::optional<SyncReport> lastSync_;
  std::chrono::seconds backoff_ = kInitialBackoff;
  Clock::TimePoint nextSyncAt_{};
  Clock::TimePoint nextResyncAt_{};
  Clock::TimePoint nextHeartbeatAt_{};
};

}  // namespace bwfloor::agent
