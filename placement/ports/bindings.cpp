// Level-triggered bindings for agents: the full desired set per host with a revision, long-poll
// for changes, and the agents' per-port enforcement status.

#include "bindings/host_bindings.h"
#include "core/logging.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {

void PortsService::bumpHost(const std::string& host) {
  uint64_t rev = ++revisions_[host];
  std::vector<std::function<void()>> wake;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (w.host != host || w.revision == rev) return false;
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

uint64_t PortsService::hostRevision(const std::string& host) const {
  std::lock_guard lock(mutex_);
  auto it = revisions_.find(host);
  return it == revisions_.end() ? 0 : it->second;
}

json PortsService::hostBindings(const std::string& host) const {
  std::lock_guard lock(mutex_);
  bindings::HostBindings out;
  out.host = host;
  auto it = revisions_.find(host);
  out.revision = it == revisions_.end() ? 0 : it->second;
  for (const auto& [id, port] : objects_.at("port")) {
    if (port.value("binding_host", "") != host) continue;
    bindings::Binding b;
    b.portId = id;
    b.portName = port["name"];
    b.macAddress = port["mac_address"];
    b.vnicType = port["vnic_type"];
    b.serverId = port["device_id"];
    b.allocation = port["binding_profile"].value("allocation", "");
    b.device = port.value("binding_device", "");
    b.agentType = port.value("binding_agent_type", "");
    const json& status = port["binding_status"];
    b.status.state =
        bindings::parseState(status.value("state", "")).value_or(bindings::BindingState::kPending);
    b.status.detail = status.value("detail", "");
    b.status.host = status.value("host", "");
    b.status.backend = status.value("backend", "");
    const json* policy =
        port["qos_policy_id"].is_null() ? nullptr : findLocked("policy", port["qos_policy_id"]);
    if (policy) {
      for (const auto& r : (*policy)["rules"]) {
        const bool egress = r["direction"] == "egress";
        if (r["type"] == "minimum_bandwidth") {
          (egress ? b.minEgressKbps : b.minIngressKbps) = r["min_kbps"].get<uint64_t>();
        }
        if (r["type"] == "bandwidth_limit") {
          (egress ? b.maxEgressKbps : b.maxIngressKbps) = r["max_kbps"].get<uint64_t>();
        }
      }
    }
    out.bindings.push_back(std::move(b));
  }
  return bindings::toJson(out);
}

void PortsService::waitForBindings(const std::string& host, uint64_t revision,
                                   std::chrono::steady_clock::time_point deadline,
                                   std::function<void()> notify) {
  std::unique_lock lock(mutex_);
  auto it = revisions_.find(host);
  uint64_t current = it == revisions_.end() ? 0 : it->second;
  if (current != revision) {
    lock.unlock();
    notify();
    return;
  }
  waiters_.push_back({host, revision, deadline, std::move(notify)});
}

void PortsService::expireWaiters() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(waiters_, [&](Waiter& w) {
      if (w.deadline > now) return false;
      wake.push_back(std::move(w.notify));
      return true;
    });
    for (auto& fn : settleServersLocked(now)) wake.push_back(std::move(fn));
  }
  for (auto& notify : wake) notify();
}

ApiResult<json> PortsService::reportBindingStatus(const std::string& portId, const json& body,
                                                  const std::string& reporterHost) {
  auto report = bindings::parseStatusReport(body);
  if (!report) return placement::badRequest("binding status: " + report.error().message());
  const std::string state(bindings::stateName(report->state));
  std::unique_lock lock(mutex_);
  auto it = objects_["port"].find(portId);
  if (it == objects_["port"].end()) return placement::notFound("port " + portId + " not found");
  if (!reporterHost.empty() && it->second.value("binding_host", "") != reporterHost) {
    return ApiError{placement::Errc::kForbidden,
                    "port " + portId + " is not bound to host " + reporterHost +
                        ", the only host this agent's credential may report for"};
  }
  json port = it->second;
  port["binding_status"] = bindings::toJson(*report);
  port["status"] = state == "failed" ? "ERROR" : (state == "removed" ? "DOWN" : "ACTIVE");
  if (auto st = persist({{"port", portId, port}}); !st) return st.error();
  logger("server")->info("port={} binding_state={} detail={}", port["name"].get<std::string>(),
                         state, report->detail);
  Settled settled = settleServersLocked(std::chrono::steady_clock::now());
  lock.unlock();
  for (auto& fn : settled) fn();
  return port;
}

}  // namespace bwfloor::ports
