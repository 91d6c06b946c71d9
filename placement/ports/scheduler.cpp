// Server create/delete: scheduling QoS ports onto devices with room (allocation candidates in
// process), one atomic claim for the server, binding the ports on the chosen host, and waiting for
// that host's agent to enforce them; any failure gives everything back.

#include <algorithm>
#include <ctime>
#include <future>

#include "core/logging.h"
#include "core/uuid.h"
#include "placement/candidates/candidates.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {
namespace {

const char* kConsumerProject = "bwfloor";
const char* kConsumerUser = "bwfloor";

std::string isoTime(int64_t unixSeconds) {
  const std::time_t t = unixSeconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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

// "devstack0:Open vSwitch agent:br-test" -> agent type and device, for people to read (the
// binding's allocation is what the agent looks its device up by).
std::pair<std::string, std::string> splitProviderName(const std::string& name) {
  size_t last = name.rfind(':');
  size_t first = name.find(':');
  if (first == std::string::npos || last == first) return {"", ""};
  return {name.substr(first + 1, last - first - 1), name.substr(last + 1)};
}

std::string amountsText(const std::map<std::string, int64_t>& resources) {
  std::string out;
  for (const auto& [rc, n] : resources) {
    out += (out.empty() ? "" : ", ") + rc + ":" + std::to_string(n);
  }
  return out;
}

// What a group is, in the words of the rule that asked for it.
const char* groupWhat(const ResourceRequest& rr, const RequestGroup& g) {
  return &g == (rr.packetRate ? &*rr.packetRate : nullptr) ? "packet rate" : "bandwidth";
}

// Why one group fits nowhere by itself: the providers with its traits and its classes that lack
// room, or that none has them. "" when one provider has room for the whole group. A provider with
// the traits but none of the classes (a device has the vnic trait a packet rate asks for) is not
// a candidate, so it is not named.
std::string groupShortfall(const placement::PlacementModel& m, const RequestGroup& g) {
  std::set<std::string> required(g.required.begin(), g.required.end());
  std::string where;
  for (const auto& [uuid, p] : m.providersUnlocked()) {
    if (!std::includes(p.traits.begin(), p.traits.end(), required.begin(), required.end())) {
      continue;
    }
    bool fits = true;
    bool hasClass = false;
    std::string lines;
    for (const auto& [rc, amount] : g.resources) {
      auto inv = p.inventories.find(rc);
      if (inv == p.inventories.end()) {
        fits = false;
        continue;
      }
      hasClass = true;
      auto used = m.usageUnlocked().find(uuid);
      const int64_t u =
          used != m.usageUnlocked().end() && used->second.count(rc) ? used->second.at(rc) : 0;
      const int64_t left = inv->second.capacity() - u;
      if (left < amount) {
        fits = false;
        lines += (lines.empty() ? "" : "; ") + p.name + " has " + std::to_string(left) + " " + rc +
                 " left";
      }
    }
    if (fits) return "";
    if (hasClass && !lines.empty()) where += (where.empty() ? "" : "; ") + lines;
  }
  if (where.empty()) {
    return "no resource provider has " + amountsText(g.resources) + " with the traits " +
           json(g.required).dump();
  }
  return where;
}

}  // namespace

// Names, per port and group, what ran out: "not enough packet rate: <agent provider> has 400
// NET_PACKET_RATE_KILOPACKET_PER_SEC left" (the group fits nowhere by itself). A port whose
// groups each fit somewhere but not together (in one tree, or with the other ports) says so.
std::string PortsService::noValidHostReason(const std::vector<Port>& ports) const {
  std::string reason;
  placement_.withReadLock([&](const placement::PlacementModel& m) {
    for (const auto& port : ports) {
      auto rr = resourceRequest(port);
      if (!rr) continue;
      std::string text;
      for (const RequestGroup* g : rr->groups()) {
        const std::string shortfall = groupShortfall(m, *g);
        if (shortfall.empty()) continue;
        text += std::string(text.empty() ? "" : ";") + " not enough " + groupWhat(*rr, *g) +
                " (needs " + amountsText(g->resources) + " with traits " +
                json(g->required).dump() + "): " + shortfall;
      }
      if (text.empty()) {
        text =
            " each of its groups fits somewhere, but not together in one tree with the other "
            "ports' claims";
      }
      reason += " port '" + port.name + "':" + text + ".";
    }
  });
  return reason;
}

std::string PortsService::deadAgentsText(const std::set<std::string>& hosts) const {
  std::string out;
  for (const auto& host : hosts) {
    out += (out.empty() ? "" : "; ") + host + " has room but its agent is not alive";
    const Agent* last = nullptr;
    for (const auto& [id, agent] : agents_) {
      if (agent.host == host && (!last || agent.heartbeatAt > last->heartbeatAt)) last = &agent;
    }
    if (!last) {
      out += " (no agent ever reported from it)";
      continue;
    }
    const int64_t ago = static_cast<int64_t>(std::time(nullptr)) - last->heartbeatAt;
    out += " (last heartbeat " + isoTime(last->heartbeatAt) + ", " + std::to_string(ago) +
           " s ago; agent_down_time is " + std::to_string(options_.agentDownTime.count()) + " s)";
  }
  return out + ".";
}

ApiResult<std::string> PortsService::schedule(const Server& server, std::vector<Port>& ports,
                                              const std::string& host, Strategy strategy) {
  // One granular group per request group, suffixed by its id as Nova does, each port's groups
  // tied by same_subtree: its packet rate on the agent provider above its bandwidth's device.
  placement::CandidateRequest request;
  std::map<std::string, std::pair<std::string, bool>> suffixToPort;  // -> (port id, packet rate)
  for (const auto& port : ports) {
    auto rr = resourceRequest(port);
    if (!rr) continue;
    std::vector<std::string> subtree;
    for (const RequestGroup* group : rr->groups()) {
      placement::RequestGroup g;
      g.suffix = group->id;
      g.resources = group->resources;
      for (const auto& t : group->required) g.traits.push_back({{t}, false});
      request.groups.push_back(g);
      suffixToPort[g.suffix] = {port.id, group == (rr->packetRate ? &*rr->packetRate : nullptr)};
      subtree.push_back(g.suffix);
    }
    request.sameSubtree.push_back(std::move(subtree));
  }
  std::string chosenHost = host;
  std::map<std::string, std::string> portProvider;            // bandwidth: the device
  std::map<std::string, std::string> portPacketRateProvider;  // packet rate: the agent provider
  if (!request.groups.empty()) {
    std::optional<std::string> hostRoot;
    if (!host.empty()) {
      for (const auto& p : placement_.listProviders({.name = host})) hostRoot = p.uuid;
      if (!hostRoot) {
        return placement::badRequest("server: host '" + host +
                                     "' has no resource provider in placement");
      }
      for (auto& g : request.groups) g.inTree = hostRoot;
    }
    request.limit = 1000;
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::optional<placement::AllocationRequest> best;
      std::set<std::string> deadHosts;  // had room, but no live agent to enforce it
      placement_.withReadLock([&](const placement::PlacementModel& m) {
        auto result = placement::findCandidates(m, request);
        int64_t bestFree = 0;
        for (auto& req : result.requests) {
          std::string rootName =
              m.providersUnlocked()
                  .at(m.providersUnlocked().at(req.allocations.begin()->first).rootUuid)
                  .name;
          if (!agentAlive(rootName)) {  // never bind to a dead agent
            deadHosts.insert(rootName);
            continue;
          }
          int64_t free = freeAfter(m, req);
          bool better = strategy == Strategy::kPack ? free < bestFree : free > bestFree;
          if (!best || better) {
            best = req;
            bestFree = free;
          }
        }
      });
      if (!best) {
        const std::string requested = host.empty() ? "" : " (host " + host + " requested)";
        if (!deadHosts.empty()) {
          return placement::conflict("No valid host was found: " + deadAgentsText(deadHosts) +
                                     requested);
        }
        return placement::conflict("No valid host was found." + noValidHostReason(ports) +
                                   requested);
      }
      placement::AllocationWrite w;
      w.consumerUuid = server.id;
      w.allocations = best->allocations;
      w.projectId = kConsumerProject;
      w.userId = kConsumerUser;
      w.consumerType = "INSTANCE";
      w.checkGeneration = true;  // a new consumer: null generation
      auto st = placement_.writeAllocations({w});
      if (!st) {
        if (st.error().errc == placement::Errc::kConflict && attempt < 2) {
          continue;  // someone took it: search again
        }
        return st.error();
      }
      for (const auto& [suffix, uuids] : best->mappings) {
        auto it = suffixToPort.find(suffix);
        if (it == suffixToPort.end()) continue;
        const auto& [portId, packetRate] = it->second;
        (packetRate ? portPacketRateProvider : portProvider)[portId] = uuids.front();
      }
      auto rp = placement_.getProvider(best->allocations.begin()->first);
      chosenHost = placement_.getProvider(rp->rootUuid)->name;
      break;
    }
  }
  if (chosenHost.empty()) {
    for (const auto& [id, agent] : agents_) {
      if (agentAlive(agent)) {
        chosenHost = agent.host;
        break;
      }
    }
    if (chosenHost.empty()) {
      return placement::conflict("No valid host was found: no agent is alive.");
    }
  } else if (!agentAlive(chosenHost)) {
    logIfFailed(placement_.deleteAllocations(server.id), "free allocation");
    return placement::conflict("No valid host was found: the agent of host " + chosenHost +
                               " is not alive (no heartbeat in the last " +
                               std::to_string(options_.agentDownTime.count()) + " s).");
  }
  for (auto& port : ports) {
    port.binding = PortBinding{chosenHost, server.id, "", "", "", ""};
    port.status = PortStatus::kBuild;
    port.bindingStatus = {bindings::BindingState::kPending, "", "", ""};
    if (auto rp = portProvider.find(port.id); rp != portProvider.end()) {
      port.binding.allocation = rp->second;
      std::tie(port.binding.agentType, port.binding.device) =
          splitProviderName(placement_.getProvider(rp->second)->name);
    }
    if (auto rp = portPacketRateProvider.find(port.id); rp != portPacketRateProvider.end()) {
      port.binding.packetRateAllocation = rp->second;
    }
  }
  return chosenHost;
}

void PortsService::createServer(const ServerRequest& request, ServerDone done) {
  const std::string& name = request.name;
  auto locked = lockForWrite();
  if (!locked) return done(locked.error());
  WriteLock lock = std::move(*locked);
  if (findByRef(servers_, name)) return done(placement::conflict("server '" + name + "' exists"));
  std::vector<Port> ports;
  for (const auto& ref : request.ports) {
    const Port* port = findByRef(ports_, ref);
    if (!port) {
      return done(placement::badRequest("server '" + name + "': port '" + ref + "' not found"));
    }
    if (port->bound()) {
      return done(placement::conflict("server '" + name + "': port '" + port->name +
                                      "' is already used by server " + port->binding.serverId));
    }
    ports.push_back(*port);
  }
  Server server{uuid4().toString(), name, "", {}, ServerStatus::kBuild};
  for (const auto& p : ports) server.portIds.push_back(p.id);
  auto chosen = schedule(server, ports, request.host, request.strategy);
  if (!chosen) return done(chosen.error());
  server.host = *chosen;
  std::vector<Change> changes{put(server)};
  for (const auto& p : ports) changes.push_back(put(p));
  if (auto st = persist(changes); !st) {
    logIfFailed(placement_.deleteAllocations(server.id), "free allocation");
    return done(st.error());
  }
  bumpHost(*chosen);
  logger("server")->info("server={} host={} ports={} claimed; waiting for agent", name, *chosen,
                         ports.size());
  PendingServer pending{server.id, *chosen, server.portIds,
                        std::chrono::steady_clock::now() + options_.bindingTimeout,
                        std::move(done)};
  pendingServers_.push_back(std::move(pending));
  Settled settled = settleServersLocked(std::chrono::steady_clock::now());  // no ports: at once
  lock.unlock();
  for (auto& fn : settled) fn();
}

ApiResult<Server> PortsService::createServer(const ServerRequest& request) {
  auto answer = std::make_shared<std::promise<ApiResult<Server>>>();
  auto future = answer->get_future();
  createServer(request, [answer](ApiResult<Server> r) { answer->set_value(std::move(r)); });
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
    auto it = ports_.find(id);
    if (it == ports_.end()) return placement::conflict("port " + id + " was deleted");
    const Port& port = it->second;
    if (port.bindingStatus.state == bindings::BindingState::kFailed) {
      failed += " port '" + port.name + "': " + port.bindingStatus.detail + ".";
    }
    if (port.bindingStatus.state == bindings::BindingState::kPending) done = false;
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
    auto it = servers_.find(p.serverId);
    std::optional<ApiResult<Server>> result;
    if (it == servers_.end()) {
      result = placement::conflict("the server was deleted before its agent confirmed it");
    } else if (auto outcome = enforcementOutcomeLocked(p.portIds); outcome && !*outcome) {
      rollBackServerLocked(p.serverId, p.host);
      result = outcome->error();
    } else if (outcome) {
      Server active = it->second;
      active.status = ServerStatus::kActive;
      logIfFailed(persist({put(active)}), "mark server ACTIVE");
      result = servers_.at(p.serverId);
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
  auto it = servers_.find(serverId);
  std::vector<Change> undo{erase(Kind::kServer, serverId)};
  if (it != servers_.end()) unbindPorts(it->second, undo);
  logIfFailed(persist(undo), "unbind ports");
  freeAllocations(placement_, serverId, "free allocation");
  if (!host.empty()) bumpHost(host);
}

// A kill between the claim and the documents leaves an allocation without a server; one
// between the documents and the agent's report, a server in BUILD that nobody waits for. Both
// are undone here, before the first request: the client that asked got no answer.
void PortsService::reconcileLocked(std::optional<int64_t> olderThan) {
  // On a shared store only what no create in flight on another server can still own.
  auto abandoned = [&](const std::string& consumer) {
    if (!olderThan) return true;
    auto c = placement_.getConsumer(consumer);
    return c && c->updatedAt < *olderThan;
  };
  for (const auto& consumer : placement_.consumersOfProject(kConsumerProject)) {
    if (servers_.count(consumer) || !abandoned(consumer)) continue;
    logger("server")->warn(
        "reconcile: freeing allocation of consumer {} (no server; a create or "
        "delete was interrupted)",
        consumer);
    freeAllocations(placement_, consumer, "free orphan allocation");
  }
  std::vector<Server> building;
  for (const auto& entry : servers_) {
    const Server& server = entry.second;  // a plain reference: clang 15 cannot capture a binding
    const bool waitedFor =
        std::any_of(pendingServers_.begin(), pendingServers_.end(),
                    [&](const PendingServer& p) { return p.serverId == server.id; });
    if (server.status == ServerStatus::kBuild && !waitedFor && abandoned(server.id)) {
      building.push_back(server);
    }
  }
  for (const auto& server : building) {
    logger("server")->warn(
        "reconcile: rolling back server {} left in BUILD (its create was interrupted)",
        server.name);
    rollBackServerLocked(server.id, server.host);
  }
}

void PortsService::reconcileAbandoned() {
  if (!store_->shared()) return;
  auto lock = lockForWrite();
  if (!lock) return;
  // A create older than twice its binding timeout has been settled by its server, or that
  // server died.
  const auto margin = 2 * options_.bindingTimeout + std::chrono::seconds(10);
  reconcileLocked(static_cast<int64_t>(std::time(nullptr)) - margin.count());
}

void PortsService::unbindPorts(const Server& server, std::vector<Change>& changes) {
  for (const auto& id : server.portIds) {
    auto it = ports_.find(id);
    if (it == ports_.end()) continue;
    Port port = it->second;
    port.binding = {};
    port.status = PortStatus::kDown;
    port.bindingStatus = {bindings::BindingState::kUnbound, "", "", ""};
    changes.push_back(put(port));
  }
}

ApiStatus PortsService::deleteObject(Kind kind, const std::string& ref) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  auto usedBy = [&](auto portRefersTo) -> const Port* {
    for (const auto& [pid, port] : ports_) {
      if (portRefersTo(port)) return &port;
    }
    return nullptr;
  };
  std::vector<Change> changes;
  std::optional<Server> server;
  switch (kind) {
    case Kind::kNetwork: {
      const Network* net = findByRef(networks_, ref);
      if (!net) break;
      if (const Port* p = usedBy([&](const Port& port) { return port.networkId == net->id; })) {
        return placement::conflict("network '" + net->name + "' is used by port '" + p->name + "'");
      }
      changes.push_back(erase(kind, net->id));
      break;
    }
    case Kind::kPolicy: {
      const QosPolicy* policy = findByRef(policies_, ref);
      if (!policy) break;
      if (const Port* p =
              usedBy([&](const Port& port) { return port.qosPolicyId == policy->id; })) {
        return placement::conflict("qos policy '" + policy->name + "' is used by port '" + p->name +
                                   "'");
      }
      changes.push_back(erase(kind, policy->id));
      break;
    }
    case Kind::kPort: {
      const Port* port = findByRef(ports_, ref);
      if (!port) break;
      if (port->bound()) {
        return placement::conflict("port '" + port->name + "' is used by server " +
                                   port->binding.serverId + "; delete the server first");
      }
      changes.push_back(erase(kind, port->id));
      break;
    }
    case Kind::kServer:
      if (const Server* s = findByRef(servers_, ref)) {
        server = *s;
        changes.push_back(erase(kind, s->id));
        unbindPorts(*s, changes);
      }
      break;
    case Kind::kAgent:
      if (const Agent* agent = findByRef(agents_, ref)) changes.push_back(erase(kind, agent->id));
      break;
  }
  if (changes.empty()) return placement::notFound(notFoundText(kind, ref));
  RETURN_IF_ERROR(persist(changes));
  // The documents go first: a crash before the allocation is freed leaves an orphan that start-up
  // frees (reconcileLocked), never a server whose guarantee is no longer claimed.
  if (server) {
    freeAllocations(placement_, server->id, "free allocation of deleted server");
    if (!server->host.empty()) bumpHost(server->host);
  }
  return ApiStatus::ok();
}

ApiResult<QosRule> PortsService::updateRule(const std::string& policyRef, const std::string& ruleId,
                                            const RateChange& change) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  const QosPolicy* found = findByRef(policies_, policyRef);
  if (!found) return placement::notFound(notFoundText(Kind::kPolicy, policyRef));
  QosPolicy policy = *found;
  auto rule = std::find_if(policy.rules.begin(), policy.rules.end(),
                           [&](const QosRule& r) { return r.id == ruleId; });
  if (rule == policy.rules.end()) {
    return placement::notFound("rule " + ruleId + " not found in '" + policyRef + "'");
  }
  if (rule->type == RuleType::kMinimumPacketRate) {
    return updatePacketRateLocked(policy, *rule, change);
  }
  const bool minimum = rule->type == RuleType::kMinimumBandwidth;
  const std::optional<int64_t>& rate = minimum ? change.minKbps : change.maxKbps;
  const std::optional<int64_t>& other = minimum ? change.maxKbps : change.minKbps;
  if (!rate || other) {
    return placement::badRequest(std::string("a ") + std::string(toString(rule->type)) +
                                 " rule's rate is '" + rateField(rule->type) +
                                 "', a whole number of kbit/s from 1 to " +
                                 std::to_string(kMaxRuleKbps) + (rate ? "" : " (missing)"));
  }
  rule->kbps = *rate;
  // Every bound port of this policy gets its new amounts in one claim per server; if one does
  // not fit, nothing changes. resourceRequest() reads the policy in place: swap it in while
  // computing, and back before persisting.
  std::map<std::string, placement::AllocationWrite> writes;
  std::set<std::string> hosts;
  const QosPolicy before = *found;
  policies_[policy.id] = policy;
  for (const auto& [pid, port] : ports_) {
    if (port.qosPolicyId != policy.id || !port.bound()) continue;
    const std::string& serverId = port.binding.serverId;
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
    const std::string& rp = port.binding.allocation;
    if (auto rr = resourceRequest(port); !rp.empty() && rr && rr->bandwidth) {
      // Recompute this provider's bandwidth: other ports of the same server on it keep theirs.
      auto& amounts = writes[serverId].allocations[rp];
      for (const char* rc : {"NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC"}) {
        amounts.erase(rc);
      }
      for (const auto& [opid, other] : ports_) {
        if (other.binding.serverId != serverId || other.binding.allocation != rp) continue;
        auto orr = resourceRequest(other);
        if (!orr || !orr->bandwidth) continue;
        for (const auto& [rc, n] : orr->bandwidth->resources) amounts[rc] += n;
      }
    }
    hosts.insert(port.binding.host);
  }
  policies_[policy.id] = before;
  std::vector<placement::AllocationWrite> list;
  for (auto& [id, w] : writes) list.push_back(w);
  if (!list.empty()) {
    if (auto st = placement_.writeAllocations(list); !st) {
      return placement::conflict("cannot change the rule: " + st.error().detail);
    }
  }
  QosRule updated = *rule;
  if (auto st = persist({put(policy)}); !st) return st.error();
  for (const auto& h : hosts) bumpHost(h);
  return updated;
}

// A packet-rate rule changes only while no bound port uses its policy: Neutron refuses it too
// (NotImplementedError for policies of compute ports), and a bound port's packet rate may share
// its agent provider with other servers' in ways a bandwidth recomputation does not cover.
ApiResult<QosRule> PortsService::updatePacketRateLocked(QosPolicy& policy, QosRule& rule,
                                                        const RateChange& change) {
  if (!change.minKpps || change.minKbps || change.maxKbps) {
    return placement::badRequest(
        "a minimum_packet_rate rule's rate is 'min_kpps', a whole number of kpps from 1 to " +
        std::to_string(kMaxRuleKpps) + (change.minKpps ? "" : " (missing)"));
  }
  for (const auto& [pid, port] : ports_) {
    if (port.qosPolicyId == policy.id && port.bound()) {
      return placement::conflict(
          "Cannot update QoS policies/rules backed by resources tracked in Placement: qos policy "
          "'" +
          policy.name + "' is used by bound port '" + port.name + "'");
    }
  }
  rule.kpps = *change.minKpps;
  QosRule updated = rule;
  RETURN_IF_ERROR(persist({put(policy)}));
  return updated;
}

}  // namespace bwfloor::ports
