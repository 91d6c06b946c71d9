// Server create/delete: scheduling QoS ports onto devices with room (allocation candidates in
// process), one atomic claim for the server, binding the ports on the chosen host, and waiting for
// that host's agent to enforce them; any failure gives everything back.

#include <algorithm>
#include <future>

#include "core/logging.h"
#include "core/uuid.h"
#include "placement/candidates/candidates.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {
namespace {

ApiError bad(const std::string& detail) { return placement::badRequest(detail); }

const char* kConsumerProject = "bwfloor";
const char* kConsumerUser = "bwfloor";

// "devstack0:Open vSwitch agent:br-test" -> agent type and device.
std::pair<std::string, std::string> splitProviderName(const std::string& name) {
  size_t last = name.rfind(':');
  size_t first = name.find(':');
  if (first == std::string::npos || last == first) return {"", ""};
  return {name.substr(first + 1, last - first - 1), name.substr(last + 1)};
}

int64_t freeAfter(const placement::PlacementModel& m, const placement::AllocationRequest& req) {
  int64_t free = 0;
  for (const auto& [uuid, amounts] : req.allocations) {
    const auto& p = m.providersUnlocked().at(uuid);
    auto used = m.usageUnlocked().find(uuid);
    for (const auto& [rc, n] : amounts) {
      int64_t u = 0;
      if (used != m.usageUnlocked().end() && used->second.count(rc)) u = used->second.at(rc);
      free += p.inventories.at(rc).capacity() - u - n;
    }
  }
  return free;
}

// Rollback steps must not fail silently: an operator has to clean up what they could not undo.
void logIfFailed(const ApiStatus& st, const std::string& what) {
  if (!st) logger("server")->error("rollback step failed: {}: {}", what, st.error().detail);
}

// Frees a consumer's allocations; one that has none left (404) is already what is wanted.
void freeAllocations(placement::PlacementModel& placement, const std::string& consumer,
                     const std::string& what) {
  auto st = placement.deleteAllocations(consumer);
  if (!st && st.error().errc != placement::Errc::kNotFound) logIfFailed(st, what);
}

}  // namespace

std::string PortsService::noValidHostReason(const std::vector<json>& ports) const {
  std::string reason;
  placement_.withReadLock([&](const placement::PlacementModel& m) {
    for (const auto& port : ports) {
      json rr = resourceRequest(port);
      if (rr.is_null()) continue;
      std::set<std::string> required = rr["required"].get<std::set<std::string>>();
      std::string where;
      for (const auto& [uuid, p] : m.providersUnlocked()) {
        if (!std::includes(p.traits.begin(), p.traits.end(), required.begin(), required.end())) {
          continue;
        }
        for (const auto& [rc, amount] : rr["resources"].items()) {
          auto inv = p.inventories.find(rc);
          int64_t left = 0;
          if (inv != p.inventories.end()) {
            auto used = m.usageUnlocked().find(uuid);
            int64_t u =
                used != m.usageUnlocked().end() && used->second.count(rc) ? used->second.at(rc) : 0;
            left = inv->second.capacity() - u;
          }
          if (left < amount.get<int64_t>()) {
            where += "; " + p.name + " has " + std::to_string(left) + " " + rc + " left";
          }
        }
      }
      reason += " port '" + port["name"].get<std::string>() + "' needs " + rr["resources"].dump() +
                " with traits " + rr["required"].dump() +
                (where.empty() ? "; no resource provider has those traits" : where) + ".";
    }
  });
  return reason;
}

ApiResult<json> PortsService::schedule(const json& server, std::vector<json>& ports,
                                       const std::string& host, bool pack) {
  placement::CandidateRequest request;
  std::map<std::string, std::string> suffixToPort;
  for (const auto& port : ports) {
    json rr = resourceRequest(port);
    if (rr.is_null()) continue;
    placement::RequestGroup g;
    g.suffix = "_" + port["id"].get<std::string>();
    for (const auto& [rc, n] : rr["resources"].items()) g.resources[rc] = n.get<int64_t>();
    for (const auto& t : rr["required"]) g.traits.push_back({{t.get<std::string>()}, false});
    request.groups.push_back(g);
    suffixToPort[g.suffix] = port["id"];
  }
  std::string chosenHost = host;
  std::map<std::string, std::string> portProvider;
  if (!request.groups.empty()) {
    std::optional<std::string> hostRoot;
    if (!host.empty()) {
      for (const auto& p : placement_.listProviders({.name = host})) hostRoot = p.uuid;
      if (!hostRoot)
        return bad("server: host '" + host + "' has no resource provider in placement");
      for (auto& g : request.groups) g.inTree = hostRoot;
    }
    request.limit = 1000;
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::optional<placement::AllocationRequest> best;
      placement_.withReadLock([&](const placement::PlacementModel& m) {
        auto result = placement::findCandidates(m, request);
        int64_t bestFree = 0;
        for (auto& req : result.requests) {
          std::string rootName =
              m.providersUnlocked()
                  .at(m.providersUnlocked().at(req.allocations.begin()->first).rootUuid)
                  .name;
          if (!agentAlive(rootName)) continue;  // never bind to a dead agent
          int64_t free = freeAfter(m, req);
          if (!best || (pack ? free < bestFree : free > bestFree)) {
            best = req;
            bestFree = free;
          }
        }
      });
      if (!best) {
        return placement::conflict("No valid host was found." + noValidHostReason(ports) +
                                   (host.empty() ? "" : " (host " + host + " requested)"));
      }
      placement::AllocationWrite w;
      w.consumerUuid = server["id"];
      w.allocations = best->allocations;
      w.projectId = kConsumerProject;
      w.userId = kConsumerUser;
      w.consumerType = "INSTANCE";
      w.checkGeneration = true;  // a new consumer: null generation
      auto st = placement_.writeAllocations({w});
      if (!st) {
        if (st.error().errc == placement::Errc::kConflict && attempt < 2)
          continue;  // someone took it: search again
        return st.error();
      }
      for (const auto& [suffix, uuids] : best->mappings) {
        if (suffixToPort.count(suffix)) portProvider[suffixToPort[suffix]] = uuids.front();
      }
      auto rp = placement_.getProvider(best->allocations.begin()->first);
      chosenHost = placement_.getProvider(rp->rootUuid)->name;
      break;
    }
  }
  if (chosenHost.empty()) {
    for (const auto& [id, agent] : objects_["agent"]) {
      if (agentAlive(agent["host"])) {
        chosenHost = agent["host"];
        break;
      }
    }
    if (chosenHost.empty())
      return placement::conflict("No valid host was found: no agent is alive.");
  } else if (!agentAlive(chosenHost)) {
    logIfFailed(placement_.deleteAllocations(server["id"]), "free allocation");
    return placement::conflict("No valid host was found: the agent of host " + chosenHost +
                               " is not alive (no heartbeat in the last " +
                               std::to_string(options_.agentDownTime.count()) + " s).");
  }
  for (auto& port : ports) {
    port["binding_host"] = chosenHost;
    port["device_id"] = server["id"];
    port["binding_profile"] = json::object();
    port["status"] = "BUILD";
    port["binding_status"] = {{"state", "pending"}, {"detail", ""}};
    if (portProvider.count(port["id"])) {
      std::string rp = portProvider[port["id"]];
      port["binding_profile"]["allocation"] = rp;
      auto [agentType, device] = splitProviderName(placement_.getProvider(rp)->name);
      port["binding_device"] = device;
      port["binding_agent_type"] = agentType;
    } else {
      port["binding_device"] = "";
      port["binding_agent_type"] = "";
    }
  }
  return json(chosenHost);
}

void PortsService::createServer(const json& body, ServerDone done) {
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
    return done(bad("server: 'name' is required"));
  }
  std::string name = body["name"];
  std::string host = body.value("host", "");
  std::string strategy = body.value("strategy", "spread");
  if (strategy != "spread" && strategy != "pack") {
    return done(bad("server: 'strategy' must be spread or pack, got '" + strategy + "'"));
  }
  if (!body.contains("ports") || !body["ports"].is_array()) {
    return done(bad("server '" + name + "': 'ports' must be a list of port names or ids"));
  }
  std::unique_lock lock(mutex_);
  if (findLocked("server", name)) return done(placement::conflict("server '" + name + "' exists"));
  std::vector<json> ports;
  for (const auto& ref : body["ports"]) {
    const json* port = ref.is_string() ? findLocked("port", ref) : nullptr;
    if (!port) return done(bad("server '" + name + "': port " + ref.dump() + " not found"));
    if ((*port)["device_id"] != "") {
      return done(placement::conflict(
          "server '" + name + "': port '" + (*port)["name"].get<std::string>() +
          "' is already used by server " + (*port)["device_id"].get<std::string>()));
    }
    ports.push_back(*port);
  }
  json server = {{"id", uuid4().toString()},
                 {"name", name},
                 {"host", ""},
                 {"ports", json::array()},
                 {"status", "BUILD"}};
  for (const auto& p : ports) server["ports"].push_back(p["id"]);
  auto chosen = schedule(server, ports, host, strategy == "pack");
  if (!chosen) return done(chosen.error());
  server["host"] = *chosen;
  std::vector<JsonDocChange> changes{{"server", server["id"], server}};
  for (const auto& p : ports) changes.push_back({"port", p["id"], p});
  if (auto st = persist(changes); !st) {
    logIfFailed(placement_.deleteAllocations(server["id"]), "free allocation");
    return done(st.error());
  }
  bumpHost(*chosen);
  logger("server")->info("server={} host={} ports={} claimed; waiting for agent", name,
                         chosen->get<std::string>(), ports.size());
  PendingServer pending{server["id"],
                        *chosen,
                        {},
                        std::chrono::steady_clock::now() + options_.bindingTimeout,
                        std::move(done)};
  for (const auto& p : ports) pending.portIds.push_back(p["id"]);
  pendingServers_.push_back(std::move(pending));
  Settled settled = settleServersLocked(std::chrono::steady_clock::now());  // no ports: at once
  lock.unlock();
  for (auto& fn : settled) fn();
}

ApiResult<json> PortsService::createServer(const json& body) {
  auto answer = std::make_shared<std::promise<ApiResult<json>>>();
  auto future = answer->get_future();
  createServer(body, [answer](ApiResult<json> r) { answer->set_value(std::move(r)); });
  // Nobody may be running the server's ticker: expire this create's deadline here.
  while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    expireWaiters();
  }
  return future.get();
}

std::optional<ApiStatus> PortsService::enforcementOutcomeLocked(
    const std::vector<std::string>& portIds) {
  std::string failed;
  bool done = true;
  for (const auto& id : portIds) {
    auto it = objects_["port"].find(id);
    if (it == objects_["port"].end()) return placement::conflict("port " + id + " was deleted");
    const json& port = it->second;
    std::string state = port["binding_status"]["state"];
    if (state == "failed") {
      failed += " port '" + port["name"].get<std::string>() +
                "': " + port["binding_status"]["detail"].get<std::string>() + ".";
    }
    if (state == "pending") done = false;
  }
  if (!failed.empty()) {
    return placement::conflict("the agent could not enforce the guarantee, nothing kept:" + failed);
  }
  if (done) return ApiStatus::ok();
  return std::nullopt;
}

PortsService::Settled PortsService::settleServersLocked(std::chrono::steady_clock::time_point now) {
  Settled settled;
  std::erase_if(pendingServers_, [&](PendingServer& p) {
    auto it = objects_["server"].find(p.serverId);
    std::optional<ApiResult<json>> result;
    if (it == objects_["server"].end()) {
      result = placement::conflict("the server was deleted before its agent confirmed it");
    } else if (auto outcome = enforcementOutcomeLocked(p.portIds); outcome && !*outcome) {
      rollBackServerLocked(p.serverId, p.host);
      result = outcome->error();
    } else if (outcome) {
      json& stored = it->second;
      stored["status"] = "ACTIVE";
      logIfFailed(persist({{"server", p.serverId, stored}}), "mark server ACTIVE");
      result = stored;
    } else if (now >= p.deadline) {
      rollBackServerLocked(p.serverId, p.host);
      result = ApiError{placement::Errc::kTimeout,
                        "the host's agent did not confirm the binding within " +
                            std::to_string(options_.bindingTimeout.count()) + " s; nothing kept"};
    }
    if (!result) return false;
    settled.push_back(
        [done = std::move(p.done), r = std::move(*result)]() mutable { done(std::move(r)); });
    return true;
  });
  return settled;
}

// Unbind, free the allocation, forget the server.
void PortsService::rollBackServerLocked(const std::string& serverId, const std::string& host) {
  auto it = objects_["server"].find(serverId);
  std::vector<JsonDocChange> undo{{"server", serverId, std::nullopt}};
  if (it != objects_["server"].end()) unbindPorts(it->second, undo);
  logIfFailed(persist(undo), "unbind ports");
  freeAllocations(placement_, serverId, "free allocation");
  if (!host.empty()) bumpHost(host);
}

// A kill between the claim and the documents leaves an allocation without a server; one
// between the documents and the agent's report, a server in BUILD that nobody waits for. Both
// are undone here, before the first request: the client that asked got no answer.
void PortsService::reconcileLocked() {
  for (const auto& consumer : placement_.consumersOfProject(kConsumerProject)) {
    if (objects_["server"].count(consumer)) continue;
    logger("server")->warn(
        "reconcile: freeing allocation of consumer {} (no server; a create or "
        "delete was interrupted)",
        consumer);
    freeAllocations(placement_, consumer, "free orphan allocation");
  }
  std::vector<std::pair<std::string, std::string>> building;
  for (const auto& [id, server] : objects_["server"]) {
    if (server.value("status", "") == "BUILD") building.emplace_back(id, server.value("host", ""));
  }
  for (const auto& [id, host] : building) {
    logger("server")->warn(
        "reconcile: rolling back server {} left in BUILD (its create was "
        "interrupted)",
        objects_["server"][id].value("name", id));
    rollBackServerLocked(id, host);
  }
}

void PortsService::unbindPorts(const json& server, std::vector<JsonDocChange>& changes) {
  for (const auto& id : server["ports"]) {
    auto it = objects_["port"].find(id);
    if (it == objects_["port"].end()) continue;
    json port = it->second;
    port["binding_host"] = "";
    port["device_id"] = "";
    port["binding_profile"] = json::object();
    port["binding_device"] = "";
    port["status"] = "DOWN";
    port["binding_status"] = {{"state", "unbound"}, {"detail", ""}};
    changes.push_back({"port", id, port});
  }
}

ApiStatus PortsService::deleteObject(const std::string& kind, const std::string& ref) {
  std::lock_guard lock(mutex_);
  const json* obj = findLocked(kind, ref);
  if (!obj) return placement::notFound(kind + " '" + ref + "' not found");
  json o = *obj;
  std::string id = o["id"];
  std::vector<JsonDocChange> changes{{kind, id, std::nullopt}};
  auto usedBy = [&](const std::string& field) -> std::string {
    for (const auto& [pid, port] : objects_["port"]) {
      if (port.value(field, json()) == o["id"]) return port["name"];
    }
    return "";
  };
  if (kind == "network" && !usedBy("network_id").empty()) {
    return placement::conflict("network '" + o["name"].get<std::string>() + "' is used by port '" +
                               usedBy("network_id") + "'");
  }
  if (kind == "policy" && !usedBy("qos_policy_id").empty()) {
    return placement::conflict("qos policy '" + o["name"].get<std::string>() +
                               "' is used by port '" + usedBy("qos_policy_id") + "'");
  }
  if (kind == "port" && o["device_id"] != "") {
    return placement::conflict("port '" + o["name"].get<std::string>() + "' is used by server " +
                               o["device_id"].get<std::string>() + "; delete the server first");
  }
  if (kind == "server") unbindPorts(o, changes);
  RETURN_IF_ERROR(persist(changes));
  // The documents go first: a crash before the allocation is freed leaves an orphan that start-up
  // frees (reconcileLocked), never a server whose guarantee is no longer claimed.
  if (kind == "server") freeAllocations(placement_, id, "free allocation of deleted server");
  if (kind == "server" && o["host"] != "") bumpHost(o["host"]);
  return ApiStatus::ok();
}

ApiResult<json> PortsService::updateRule(const std::string& policyRef, const std::string& ruleId,
                                         const json& body) {
  std::lock_guard lock(mutex_);
  const json* found = findLocked("policy", policyRef);
  if (!found) return placement::notFound("qos policy '" + policyRef + "' not found");
  json policy = *found;
  json* rule = nullptr;
  for (auto& r : policy["rules"]) {
    if (r["id"] == ruleId) rule = &r;
  }
  if (!rule) return placement::notFound("rule " + ruleId + " not found in '" + policyRef + "'");
  const char* field = (*rule)["type"] == "minimum_bandwidth" ? "min_kbps" : "max_kbps";
  if (!body.is_object()) return bad("qos rule: the body must be a JSON object");
  RETURN_IF_ERROR(checkQosRate(body, field));
  (*rule)[field] = body[field];
  // Every bound port of this policy gets its new amounts in one claim per server; if one does
  // not fit, nothing changes.
  std::map<std::string, placement::AllocationWrite> writes;
  std::set<std::string> hosts;
  const json before = *found;
  objects_["policy"][policy["id"]] = policy;  // resourceRequest() reads the new rates
  for (const auto& [pid, port] : objects_["port"]) {
    if (port.value("qos_policy_id", json()) != policy["id"] || port["device_id"] == "") continue;
    std::string serverId = port["device_id"];
    if (!writes.count(serverId)) {
      auto consumer = placement_.getConsumer(serverId);
      placement::AllocationWrite w;
      w.consumerUuid = serverId;
      if (consumer) w.allocations = consumer->allocations;
      w.projectId = kConsumerProject;
      w.userId = kConsumerUser;
      w.checkGeneration = true;
      if (consumer) w.consumerGeneration = consumer->generation;
      writes[serverId] = w;
    }
    std::string rp = port["binding_profile"].value("allocation", "");
    json rr = resourceRequest(port);
    if (!rp.empty() && !rr.is_null()) {
      // Recompute this provider's share: other ports of the same server on it keep theirs.
      auto& amounts = writes[serverId].allocations[rp];
      amounts.clear();
      for (const auto& [opid, other] : objects_["port"]) {
        if (other["device_id"] != serverId ||
            other["binding_profile"].value("allocation", "") != rp) {
          continue;
        }
        json orr = resourceRequest(other);
        if (orr.is_null()) continue;
        for (const auto& [rc, n] : orr["resources"].items()) amounts[rc] += n.get<int64_t>();
      }
    }
    hosts.insert(port["binding_host"].get<std::string>());
  }
  std::vector<placement::AllocationWrite> list;
  for (auto& [id, w] : writes) list.push_back(w);
  if (!list.empty()) {
    if (auto st = placement_.writeAllocations(list); !st) {
      objects_["policy"][policy["id"]] = before;
      return placement::conflict("cannot change the rule: " + st.error().detail);
    }
  }
  objects_["policy"][policy["id"]] = before;
  if (auto st = persist({{"policy", policy["id"], policy}}); !st) return st.error();
  for (const auto& h : hosts) bumpHost(h);
  return *rule;
}

}  // namespace bwfloor::ports
