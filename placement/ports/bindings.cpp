// Level-triggered bindings for agents: the full desired set per host with a revision, long-poll
// for changes, and the agents' per-port enforcement status.

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
  json bindings = json::array();
  for (const auto& [id, port] : objects_.at("port")) {
    if (port.value("binding_host", "") != host) continue;
    json b = {{"port_id", id},
              {"port_name", port["name"]},
              {"mac_address", port["mac_address"]},
              {"vnic_type", port["vnic_type"]},
              {"server_id", port["device_id"]},
              {"allocation", port["binding_profile"].value("allocation", "")},
              {"device", port.value("binding_device", "")},
              {"agent_type", port.value("binding_agent_type", "")},
              {"min_egress_kbps", 0},
              {"min_ingress_kbps", 0},
              {"max_egress_kbps", nullptr},
              {"max_ingress_kbps", nullptr},
              // What the server last heard, so that the agent reports only differences.
              {"status", port["binding_status"]}};
    const json* policy =
        port["qos_policy_id"].is_null() ? nullptr : findLocked("policy", port["qos_policy_id"]);
    if (policy) {
      for (const auto& r : (*policy)["rules"]) {
        std::string dir = r["direction"];
        if (r["type"] == "minimum_bandwidth") b["min_" + dir + "_kbps"] = r["min_kbps"];
        if (r["type"] == "bandwidth_limit") b["max_" + dir + "_kbps"] = r["max_kbps"];
      }
    }
    bindings.push_back(std::move(b));
  }
  auto it = revisions_.find(host);
  return {{"host", host},
          {"revision", it == revisions_.end() ? 0 : it->second},
          {"bindings", bindings}};
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
  if (!body.is_object() || !body.contains("state") || !body["state"].is_string()) {
    return placement::badRequest("binding status: 'state' is required");
  }
  std::string state = body["state"];
  if (state != "enforced" && state != "placement-only" && state != "failed" && state != "removed") {
    return placement::badRequest(
        "binding status: 'state' must be enforced, placement-only, "
        "failed or removed, got '" +
        state + "'");
  }
  std::unique_lock lock(mutex_);
  auto it = objects_["port"].find(portId);
  if (it == objects_["port"].end()) return placement::notFound("port " + portId + " not found");
  if (!reporterHost.empty() && it->second.value("binding_host", "") != reporterHost) {
    return ApiError{403, "port " + portId + " is not bound to host " + reporterHost +
                             ", the only host this agent's credential may report for"};
  }
  json port = it->second;
  port["binding_status"] = {{"state", state},
                            {"detail", body.value("detail", "")},
                            {"host", body.value("host", "")},
                            {"backend", body.value("backend", "")}};
  port["status"] = state == "failed" ? "ERROR" : (state == "removed" ? "DOWN" : "ACTIVE");
  if (auto st = persist({{"port", portId, port}}); !st) return st.error();
  logger("server")->info("port={} binding_state={} detail={}", port["name"].get<std::string>(),
                         state, body.value("detail", ""));
  Settled settled = settleServersLocked(std::chrono::steady_clock::now());
  lock.unlock();
  for (auto& fn : settled) fn();
  return port;
}

}  // namespace bwfloor::ports
