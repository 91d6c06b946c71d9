#include "agent/agent_service.h"

#include <algorithm>

#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string joined(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + item;
  return out + "]";
}

std::string speedText(const std::optional<uint64_t>& mbps) {
  return mbps ? std::to_string(*mbps) : "unknown";
}

// The configured devices and their state, for change logs.
std::map<std::string, DeviceState> deviceStates(const AgentConfig& config, const HostView& view) {
  std::map<std::string, DeviceState> states;
  for (const auto& m : config.ovs.mappings) states[m.device] = ovsBridgeState(view, m.device);
  for (const auto& m : config.sriov.mappings) states[m.device] = nicState(view, m.device);
  return states;
}

std::map<std::string, std::vector<std::string>> ovsBridgePorts(const HostView& view) {
  std::map<std::string, std::vector<std::string>> out;
  if (!view.ovsBridges) return out;
  for (const auto& bridge : *view.ovsBridges) {
    auto& ports = out[bridge.name];
    for (const auto& port : bridge.ports) ports.push_back(port.name);
  }
  return out;
}

}  // namespace

AgentService::AgentService(AgentConfig config, AgentServiceDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)) {}

void AgentService::makePeers(const AgentConfig* previous) {
  if (previous == nullptr || previous->placementEndpoint != config_.placementEndpoint ||
      previous->placementToken != config_.placementToken) {
    placement_ = deps_.makePlacementTransport(config_);
  }
  if (previous == nullptr || previous->serverEndpoint != config_.serverEndpoint ||
      previous->placementToken != config_.placementToken) {
    server_ = deps_.makeServerTransport(config_);
  }
  if (previous == nullptr || previous->ovsdbConnection != config_.ovsdbConnection ||
      previous->ovs.enabled() != config_.ovs.enabled()) {
    ovs_ = config_.ovs.enabled() && deps_.makeOvsSource ? deps_.makeOvsSource(config_) : nullptr;
  }
}

void AgentService::start() {
  auto log = logger("agent");
  makePeers(nullptr);
  if (auto st = deps_.links->subscribe(); st) {
    subscribed_ = true;
  } else {
    log->warn(
        "link events unavailable ({}); device changes are noticed at the periodic resync, "
        "every {}s",
        st.error().toString(), config_.resyncInterval.count());
  }
  log->info(
      "host={} hypervisors: ovs={} sriov={} root_provider={} report_interval={}s "
      "resync_interval={}s",
      config_.host, config_.ovs.enabled() ? config_.ovs.defaultHypervisor : "-",
      config_.sriov.enabled() ? config_.sriov.defaultHypervisor : "-",
      rootProviderPolicyName(config_.rootProviderPolicy), config_.reportInterval.count(),
      config_.resyncInterval.count());
  if (!config_.ovs.enabled() && !config_.sriov.enabled()) {
    log->warn(
        "no device is configured ([ovs] bridge_mappings and [sriov_nic] "
        "physical_device_mappings are empty): nothing to report");
  }
  rediscover("start-up");
  const auto now = deps_.clock->now();
  nextResyncAt_ = now + config_.resyncInterval;
  nextHeartbeatAt_ = now;
  requestSync("start-up", true);
}

std::chrono::milliseconds AgentService::runDue() {
  auto now = deps_.clock->now();
  if (now >= nextResyncAt_) {
    rediscover("periodic resync");
    requestSync("periodic resync", false);
    nextResyncAt_ = now + config_.resyncInterval;
  }
  if (syncPending_ && now >= nextSyncAt_) attemptSync();
  now = deps_.clock->now();
  if (now >= nextHeartbeatAt_) {
    sendHeartbeats();
    nextHeartbeatAt_ = now + config_.reportInterval;
  }
  Clock::TimePoint next = std::min(nextResyncAt_, nextHeartbeatAt_);
  if (syncPending_) next = std::min(next, nextSyncAt_);
  return std::max(milliseconds(0), duration_cast<milliseconds>(next - deps_.clock->now()));
}

void AgentService::handleLinkEvents() {
  auto log = logger("discovery");
  auto events = deps_.links->readEvents();
  if (!events) {
    log->warn("reading link events failed: {}; re-listing links", events.error().toString());
  } else if (events->empty()) {
    return;
  } else {
    for (const auto& event : *events) {
      const char* type = event.type == dataplane::LinkEvent::Type::kRemoved    ? "removed"
                         : event.type == dataplane::LinkEvent::Type::kOverflow ? "overflow"
                                                                               : "new/changed";
      log->debug("link event type={} ifindex={} name={} up={} carrier={} speed_mbps={}", type,
                 event.link.ifindex, event.link.name, event.link.up, event.link.lowerUp,
                 speedText(event.link.speedMbps));
    }
  }
  if (rediscover("link event")) requestSync("link change", false);
}

void AgentService::reloadConfig(AgentConfig config) {
  auto log = logger("agent");
  if (config == config_) {
    log->info("configuration reloaded from {}: unchanged", config.sourcePath);
    return;
  }
  log->info("configuration reloaded from {}: applying it", config.sourcePath);
  const AgentConfig previous = std::move(config_);
  config_ = std::move(config);
  makePeers(&previous);
  const auto now = deps_.clock->now();
  nextResyncAt_ = now + config_.resyncInterval;
  nextHeartbeatAt_ = now;
  rediscover("configuration reload");
  requestSync("configuration reload", true);
}

bool AgentService::runOnce() {
  attemptSync();
  sendHeartbeats();
  return resourcesSynced_;
}

bool AgentService::rediscover(const std::string& why) {
  HostDiscovery discovery(*deps_.links, ovs_.get());
  auto view = discovery.discover();
  if (!view) {
    logger("discovery")
        ->warn("discovery ({}) failed: {}; keeping the previous view", why,
               view.error().toString());
    if (discovered_) return false;
    view = HostView{};  // first discovery: an empty host, every device missing
  }
  logHostChanges(view_, *view, !discovered_);
  view_ = std::move(*view);
  discovered_ = true;
  ProviderTree tree = buildProviderTree(config_, view_);
  logProblems(tree_, tree);
  if (tree == tree_) return false;
  tree_ = std::move(tree);
  return true;
}

void AgentService::logHostChanges(const HostView& before, const HostView& after, bool first) {
  auto log = logger("discovery");
  if (config_.ovs.enabled() &&
      (first || before.ovsBridges.has_value() != after.ovsBridges.has_value())) {
    if (after.ovsBridges) {
      log->info("ovsdb={} readable: {} bridge(s)", config_.ovsdbConnection,
                after.ovsBridges->size());
    } else {
      log->warn("ovsdb={} unreadable ({}): OVS bridges are taken from netlink only",
                config_.ovsdbConnection, after.ovsdbError);
    }
  }
  const auto oldOvs = ovsBridgePorts(before);
  for (const auto& [bridge, ports] : ovsBridgePorts(after)) {
    const auto it = oldOvs.find(bridge);
    if (first || it == oldOvs.end() || it->second != ports) {
      log->info("ovs bridge={} ports={}", bridge, joined(ports));
    }
  }
  const auto oldLinux = linuxBridges(before);
  for (const auto& [bridge, ports] : linuxBridges(after)) {
    const auto it = oldLinux.find(bridge);
    if (first || it == oldLinux.end() || it->second != ports) {
      log->info("linux bridge={} ports={}", bridge, joined(ports));
    }
  }
  const auto oldStates = deviceStates(config_, before);
  for (const auto& [device, state] : deviceStates(config_, after)) {
    const auto it = oldStates.find(device);
    if (!first && it != oldStates.end() && it->second == state) continue;
    log->info("device={} present={} source={} speed_mbps={}", device, state.present,
              state.source.empty() ? "-" : state.source, speedText(state.speedMbps));
  }
}

void AgentService::logProblems(const ProviderTree& before, const ProviderTree& after) {
  auto log = logger("agent");
  for (const auto& problem : after.problems) {
    if (std::find(before.problems.begin(), before.problems.end(), problem) !=
        before.problems.end()) {
      continue;
    }
    const char* agentType = kindInfo(problem.kind).agentType;
    if (problem.severity == DeviceProblem::Severity::kError) {
      log->error("agent_type=\"{}\" device={}: {}", agentType, problem.device, problem.message);
    } else {
      log->warn("agent_type=\"{}\" device={}: {}", agentType, problem.device, problem.message);
    }
  }
}

void AgentService::requestSync(const std::string& why, bool resetBackoff) {
  const auto now = deps_.clock->now();
  auto log = logger("agent");
  if (why == "periodic resync") {
    log->debug("placement sync requested: {}", why);
  } else {
    log->info("placement sync requested: {}", why);
  }
  if (!syncPending_ || resetBackoff) {
    syncPending_ = true;
    nextSyncAt_ = now;
    if (resetBackoff) backoff_ = kInitialBackoff;
  }
  // Otherwise a retry is already scheduled (backing off): it will use the current tree.
}

void AgentService::providersDeletedInPlacement() {
  const auto at = deps_.clock->now() + kDeletionSettle;
  logger("agent")->warn(
      "bwfloor-server reports providers of this host deleted in placement: re-creating them in "
      "{} ms",
      kDeletionSettle.count());
  if (!syncPending_ || nextSyncAt_ > at) {
    syncPending_ = true;
    nextSyncAt_ = at;
    backoff_ = kInitialBackoff;
  }
}

std::chrono::seconds AgentService::maxBackoff() const {
  return std::clamp(config_.resyncInterval, std::chrono::seconds(1), kMaxBackoff);
}

void AgentService::attemptSync() {
  auto log = logger("agent");
  ++syncAttempts_;
  PlacementClient client(*placement_);
  SyncReport report = sync_.sync(client, tree_, config_.rootProviderPolicy);
  const bool wasSynced = resourcesSynced_;
  resourcesSynced_ = report.synced();
  if (report.synced()) {
    syncPending_ = false;
    backoff_ = kInitialBackoff;
    if (report.changes > 0 || !wasSynced) {
      log->info("placement in sync: {} change(s)", report.changes);
    }
  } else {
    nextSyncAt_ = deps_.clock->now() + backoff_;
    log->warn("placement sync not complete: {} ({} error(s)); next attempt in {}s",
              syncStatusName(report.status), report.errors.size(), backoff_.count());
    backoff_ = std::min(backoff_ * 2, maxBackoff());
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics
        ->counter("bwfloor_agent_placement_syncs_total",
                  "Attempts to bring placement in line with this host's provider tree.",
                  {{"result", report.synced() ? "in sync" : "not complete"}})
        .add();
    deps_.metrics
        ->counter("bwfloor_agent_placement_sync_errors_total",
                  "Placement requests that failed during syncs.", {})
        .add(static_cast<double>(report.errors.size()));
    deps_.metrics
        ->counter("bwfloor_agent_placement_changes_total",
                  "Changes written to placement (providers, inventories, traits re-created or "
                  "updated).",
                  {})
        .add(static_cast<double>(report.changes));
  }
  lastSync_ = std::move(report);
  if (wasSynced != resourcesSynced_) nextHeartbeatAt_ = deps_.clock->now();
}

void AgentService::sendHeartbeats() {
  heartbeat_.report(*server_, config_, tree_, resourcesSynced_);
}

}  // namespace bwfloor::agent
