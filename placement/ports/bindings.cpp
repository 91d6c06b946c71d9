// Level-triggered bindings for agents: the full desired set per host with a revision, long-poll
// for changes, and the agents' per-port enforcement status.

#include <algorithm>
#include <ctime>
#include <set>

#include "bindings/host_bindings.h"
#include "core/logging.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {

void PortsService::bumpHost(const std::string& host) {
  // Shared store: the revision is the change's sequence number, the same on every server, so an
  // agent that fails over to another server long-polls with a revision that server knows.
  uint64_t& current = revisions_[host];
  const uint64_t rev = store_->shared() ? std::max<uint64_t>(current, appliedSeq_) : current + 1;
  if (rev == current) return;  // this change woke the host's long-polls already
  current = rev;
  wakeWaitersLocked(host, rev);
}

void PortsService::wakeWaitersLocked(const std::string& host, std::optional<uint64_t> revision) {
  std::vector<std::function<void()>> wake;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (w.host != host || (revision && w.revision == *revision)) return false;
    wake.push_back(std::move(w.notify));
    return true;
  });
  if (wake.empty()) return;
  {
    std::lock_guard lock(wakeMutex_);
    for (auto& notify : wake) wakeQueue_.push_back(std::move(notify));
  }
  wakeReady_.notify_one();
}

void PortsService::runWaker() {
  std::unique_lock lock(wakeMutex_);
  while (true) {
    wakeReady_.wait(lock, [&] { return stopping_ || !wakeQueue_.empty(); });
    if (wakeQueue_.empty()) return;  // stopping, nothing left to answer
    auto batch = std::move(wakeQueue_);
    wakeQueue_.clear();
    lock.unlock();
    for (auto& notify : batch) notify();
    lock.lock();
  }
}

void PortsService::logAgentTransitionsLocked(std::chrono::steady_clock::time_point now) {
  // An agent this server has not heard from yet gets agent_down_time from the server's start.
  const bool starting = now - started_ < options_.agentDownTime;
  for (const auto& [id, agent] : agents_) {
    const bool alive = agentAlive(agent) || (starting && !heartbeats_.count(id));
    auto [seen, first] = aliveSeen_.try_emplace(id, alive);
    if ((first && alive) || (!first && seen->second == alive)) continue;
    seen->second = alive;
    if (alive) {
      logger("server")->info("agent {} on host {} is alive again", agent.agentType, agent.host);
      continue;
    }
    const int64_t ago = static_cast<int64_t>(std::time(nullptr)) - agent.heartbeatAt;
    logger("server")->warn(
        "agent {} on host {} is dead: no heartbeat for {} s (agent_down_time {} s); nothing "
        "is scheduled to the host until it reports again",
        agent.agentType, agent.host,
        heartbeats_.count(id) ? std::to_string(ago)
                              : "> " + std::to_string(options_.agentDownTime.count()),
        options_.agentDownTime.count());
  }
}

PortsService::Stats PortsService::stats() const {
  std::lock_guard lock(mutex_);
  Stats out;
  for (const auto& [id, agent] : agents_) ++(agentAlive(agent) ? out.agentsAlive : out.agentsDead);
  out.longPollsWaiting = waiters_.size();
  out.serversWaitingForAgent = pendingServers_.size();
  for (const auto& [id, port] : ports_) {
    ++out.portsByBindingState[std::string(bindings::stateName(port.bindingStatus.state))];
  }
  return out;
}

uint64_t PortsService::hostRevision(const std::string& host) const {
  std::lock_guard lock(mutex_);
  auto it = revisions_.find(host);
  return it == revisions_.end() ? 0 : it->second;
}

bindings::HostBindings PortsService::hostBindings(const std::string& host) const {
  std::lock_guard lock(mutex_);
  bindings::HostBindings out;
  out.host = host;
  auto it = revisions_.find(host);
  out.revision = it == revisions_.end() ? 0 : it->second;
  if (auto d = providerDeletions_.find(host); d != providerDeletions_.end()) {
    out.providersDeleted = d->second;
  }
  for (const auto& [id, port] : ports_) {
    if (port.binding.host != host) continue;
    bindings::Binding b;
    b.portId = id;
    b.portName = port.name;
    b.macAddress = port.macAddress;
    b.vnicType = std::string(toString(port.vnicType));
    b.serverId = port.binding.serverId;
    b.allocation = port.binding.allocation;
    b.packetRateAllocation = port.binding.packetRateAllocation;
    b.device = port.binding.device;
    b.agentType = port.binding.agentType;
    b.status = port.bindingStatus;
    if (const QosPolicy* policy = policyOf(port)) {
      for (const auto& r : policy->rules) {
        if (r.type == RuleType::kMinimumPacketRate) {
          const auto kpps = static_cast<uint64_t>(r.kpps);
          (r.direction == Direction::kAny      ? b.minAnyKpps
           : r.direction == Direction::kEgress ? b.minEgressKpps
                                               : b.minIngressKpps) = kpps;
          continue;
        }
        const bool egress = r.direction == Direction::kEgress;
        const auto kbps = static_cast<uint64_t>(r.kbps);
        if (r.type == RuleType::kMinimumBandwidth)
          (egress ? b.minEgressKbps : b.minIngressKbps) = kbps;
        if (r.type == RuleType::kBandwidthLimit)
          (egress ? b.maxEgressKbps : b.maxIngressKbps) = kbps;
      }
    }
    out.bindings.push_back(std::move(b));
  }
  return out;
}

void PortsService::providersDeleted(std::vector<std::string> names) {
  auto work = [this, names = std::move(names)] {
    std::lock_guard lock(mutex_);
    std::set<std::string> hosts;
    for (const auto& name : names) {
      const std::string hypervisor = name.substr(0, name.find(':'));
      for (const auto& [id, agent] : agents_) {
        bool reports = agent.host == hypervisor;
        const auto& hv = agent.configurations.find("resource_provider_hypervisors");
        if (hv != agent.configurations.end() && hv->is_object()) {
          for (const auto& [device, value] : hv->items()) {
            reports = reports || (value.is_string() && value.get<std::string>() == hypervisor);
          }
        }
        if (reports) hosts.insert(agent.host);
      }
    }
    for (const auto& host : hosts) {
      ++providerDeletions_[host];
      logger("server")->info(
          "placement deleted provider(s) of host {} ({}): its agent is told to re-create them",
          host,
          names.front() +
              (names.size() > 1 ? " and " + std::to_string(names.size() - 1) + " more" : ""));
      // Not a new revision: on a shared store revisions are the /v1 stream's sequence numbers,
      // and a placement change has none. The long-polls answer with the new count instead.
      wakeWaitersLocked(host, std::nullopt);
    }
  };
  {
    std::lock_guard lock(wakeMutex_);
    wakeQueue_.push_back(std::move(work));
  }
  wakeReady_.notify_one();
}

void PortsService::waitForBindings(const std::string& host, uint64_t revision,
                                   std::optional<uint64_t> providersDeleted,
                                   std::chrono::steady_clock::time_point deadline,
                                   std::function<void()> notify) {
  std::unique_lock lock(mutex_);
  auto it = revisions_.find(host);
  uint64_t current = it == revisions_.end() ? 0 : it->second;
  const auto deletions = providerDeletions_.find(host);
  const uint64_t deleted = deletions == providerDeletions_.end() ? 0 : deletions->second;
  if (current != revision || (providersDeleted && *providersDeleted != deleted)) {
    lock.unlock();
    notify();
    return;
  }
  waiters_.push_back({host, revision, deadline, std::move(notify)});
}

void PortsService::expireWaiters() {
  std::vector<std::function<void()>> wake;
  {
    std::unique_lock lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(waiters_, [&](Waiter& w) {
      if (w.deadline > now) return false;
      wake.push_back(std::move(w.notify));
      return true;
    });
    logAgentTransitionsLocked(now);
    if (!pendingServers_.empty()) {
      // Settling writes (ACTIVE, or a roll-back): on a shared store under the write lock.
      lock.unlock();
      if (auto write = lockForWrite()) {
        for (auto& fn : settleServersLocked(now)) wake.push_back(std::move(fn));
      }
    }
  }
  for (auto& notify : wake) notify();
}

ApiResult<Port> PortsService::reportBindingStatus(const std::string& portRef,
                                                  const bindings::StatusReport& report,
                                                  const std::string& reporterHost) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  const Port* found = findByRef(ports_, portRef);
  if (!found) return placement::notFound(notFoundText(Kind::kPort, portRef));
  if (!reporterHost.empty() && found->binding.host != reporterHost) {
    return placement::forbidden("port " + portRef + " is not bound to host " + reporterHost +
                                ", the only host this agent's credential may report for");
  }
  Port port = *found;
  port.bindingStatus = report;
  using bindings::BindingState;
  port.status = report.state == BindingState::kFailed    ? PortStatus::kError
                : report.state == BindingState::kRemoved ? PortStatus::kDown
                                                         : PortStatus::kActive;
  if (auto st = persist({put(port)}); !st) return st.error();
  logger("server")->info("port={} binding_state={} detail={}", port.name,
                         bindings::stateName(report.state), report.detail);
  Settled settled = settleServersLocked(std::chrono::steady_clock::now());
  lock.unlock();
  for (auto& fn : settled) fn();
  return port;
}

}  // namespace bwfloor::ports
