#include "placement/ports/ports_service.h"

#include <algorithm>
#include <ctime>
#include <regex>

#include "core/logging.h"
#include "core/uuid.h"

namespace bwfloor::ports {
namespace {

std::string randomMac() {
  auto bytes = uuid4().bytes();
  char buf[18];
  std::snprintf(buf, sizeof buf, "fa:16:3e:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2]);
  return buf;
}

Kind kindOf(const Network&) { return Kind::kNetwork; }
Kind kindOf(const QosPolicy&) { return Kind::kPolicy; }
Kind kindOf(const Port&) { return Kind::kPort; }
Kind kindOf(const Server&) { return Kind::kServer; }
Kind kindOf(const Agent&) { return Kind::kAgent; }

}  // namespace

PortsService::PortsService(placement::PlacementModel& placement, std::shared_ptr<JsonStore> store,
                           PortsOptions options)
    : placement_(placement), store_(std::move(store)), options_(options) {
  waker_ = std::thread([this] { runWaker(); });
  // Operators' deletions in placement reach the agents through their long-polls.
  placement_.setProvidersDeletedObserver(
      [this](std::vector<std::string> names) { providersDeleted(std::move(names)); });
}

PortsService::~PortsService() {
  placement_.setProvidersDeletedObserver({});
  {
    std::lock_guard lock(wakeMutex_);
    stopping_ = true;
  }
  wakeReady_.notify_all();
  waker_.join();
}

PortsService::Change PortsService::put(Object object) {
  auto [kind, id] = std::visit(
      [](const auto& v) { return std::pair<Kind, std::string>(kindOf(v), v.id); }, object);
  return {kind, std::move(id), std::move(object)};
}

PortsService::Change PortsService::erase(Kind kind, std::string id) {
  return {kind, std::move(id), std::nullopt};
}

template <typename T>
Status PortsService::loadKind(Kind kind, Result<T> (*parse)(const json&), ById<T>& into) {
  ASSIGN_OR_RETURN(auto docs, store_->loadKind(std::string(toString(kind))));
  for (auto& [id, doc] : docs) {
    ASSIGN_OR_RETURN(T obj, parse(doc));
    into[id] = std::move(obj);
  }
  return Status::ok();
}

Status PortsService::load() {
  const auto asOf = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  // A shared store: the log's head first, so that nothing written during the load is missed
  // (the follower re-applies from there; a document written twice is the same document).
  ASSIGN_OR_RETURN(appliedSeq_, store_->head());
  RETURN_IF_ERROR(loadKind(Kind::kNetwork, &networkFromDocument, networks_));
  RETURN_IF_ERROR(loadKind(Kind::kPolicy, &policyFromDocument, policies_));
  RETURN_IF_ERROR(loadKind(Kind::kPort, &portFromDocument, ports_));
  RETURN_IF_ERROR(loadKind(Kind::kServer, &serverFromDocument, servers_));
  RETURN_IF_ERROR(loadKind(Kind::kAgent, &agentFromDocument, agents_));
  // Bindings revisions restart (at 1, or at the log's head on a shared store): agents compare
  // for inequality, not order.
  for (const auto& [id, port] : ports_) {
    if (!port.binding.host.empty())
      revisions_[port.binding.host] = std::max<int64_t>(1, appliedSeq_);
  }
  for (const auto& [id, agent] : agents_) {
    persistedHeartbeats_[id] = agent.heartbeatAt;
    // Shared store: the other replicas keep the stored heartbeat fresh, so it says who is alive.
    if (store_->shared()) {
      const auto age = std::chrono::seconds(
          std::max<int64_t>(0, static_cast<int64_t>(std::time(nullptr)) - agent.heartbeatAt));
      heartbeats_[id] = std::chrono::steady_clock::now() - age;
    }
  }
  currentAsOf_.mark(asOf);
  // Replicas: another server's create may be in flight; reconcileAbandoned() handles them.
  if (!store_->shared()) reconcileLocked(std::nullopt);
  return Status::ok();
}

ApiStatus PortsService::persist(std::vector<Change> changes) {
  std::vector<JsonDocChange> docs;
  for (const auto& c : changes) {
    std::optional<json> body;
    if (c.object) body = std::visit([](const auto& v) { return toJson(v); }, *c.object);
    docs.push_back({std::string(toString(c.kind)), c.id, std::move(body)});
  }
  if (store_->shared() && !writeOpen_) {
    // Every write path holds a WriteLock; this one did not, so it was validated against what
    // this server knew, which others may have changed since.
    auto others = store_->beginWrite(appliedSeq_);
    if (!others) {
      return placement::unavailable("store unavailable, nothing changed: " +
                                    others.error().message());
    }
    if (!others->changes.empty()) {
      store_->abortWrite();
      applyOthersLocked(*others);
      return placement::conflict(
          "another bwfloor-server changed these objects meanwhile; "
          "nothing changed, try again",
          placement::kConcurrentUpdate);
    }
  }
  Status stored = store_->apply(docs);
  writeOpen_ = false;  // committed or rolled back: the store's write lock is gone either way
  if (!stored) {
    return placement::unavailable("store write failed, nothing changed: " +
                                  stored.error().message());
  }
  if (store_->shared()) appliedSeq_ = store_->committedSeq();
  auto apply = [](auto& objects, Change& c, auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if (c.object) {
      objects[c.id] = std::get<T>(std::move(*c.object));
    } else {
      objects.erase(c.id);
    }
  };
  for (auto& c : changes) {
    switch (c.kind) {
      case Kind::kNetwork:
        apply(networks_, c, static_cast<Network*>(nullptr));
        break;
      case Kind::kPolicy:
        apply(policies_, c, static_cast<QosPolicy*>(nullptr));
        break;
      case Kind::kPort:
        apply(ports_, c, static_cast<Port*>(nullptr));
        break;
      case Kind::kServer:
        apply(servers_, c, static_cast<Server*>(nullptr));
        break;
      case Kind::kAgent:
        apply(agents_, c, static_cast<Agent*>(nullptr));
        break;
    }
  }
  return ApiStatus::ok();
}

ApiResult<Network> PortsService::createNetwork(const NetworkRequest& request) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (findByRef(networks_, request.name)) {
    return placement::conflict("network '" + request.name + "' exists");
  }
  Network net{uuid4().toString(), request.name, request.physnet, request.type,
              request.segmentationId};
  RETURN_IF_ERROR(persist({put(net)}));
  return net;
}

ApiResult<QosPolicy> PortsService::createPolicy(const PolicyRequest& request) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  if (findByRef(policies_, request.name)) {
    return placement::conflict("qos policy '" + request.name + "' exists");
  }
  QosPolicy policy{uuid4().toString(), request.name, {}};
  RETURN_IF_ERROR(persist({put(policy)}));
  return policy;
}

ApiResult<QosRule> PortsService::createRule(const std::string& policyRef,
                                            const RuleRequest& request) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  const QosPolicy* found = findByRef(policies_, policyRef);
  if (!found) return placement::notFound(notFoundText(Kind::kPolicy, policyRef));
  QosPolicy policy = *found;
  for (const auto& r : policy.rules) {
    if (r.type == request.type && r.direction == request.direction) {
      return placement::conflict("qos policy '" + policy.name + "' already has a " +
                                 std::string(toString(r.type)) + " " +
                                 std::string(toString(r.direction)) + " rule");
    }
  }
  // Neutron's check_min_pps_rule_conflict: a direction-less packet rate and a directed one
  // would be two capacities of one switch.
  if (request.type == RuleType::kMinimumPacketRate) {
    for (const auto& r : policy.rules) {
      if (r.type != RuleType::kMinimumPacketRate) continue;
      if ((request.direction == Direction::kAny) != (r.direction == Direction::kAny)) {
        return placement::conflict("Unable to add the rule with value " +
                                   std::string(toString(request.direction)) + " to the policy " +
                                   policy.id + " as the existing rule of type " +
                                   std::string(toString(r.type)) + " has value " +
                                   std::string(toString(r.direction)) + ".");
      }
    }
  }
  // A new rule on a policy of bound ports would change their allocations: refuse, keep it simple.
  for (const auto& [id, port] : ports_) {
    if (port.qosPolicyId == policy.id && !port.binding.host.empty()) {
      return placement::conflict("qos policy '" + policy.name + "' is used by bound port '" +
                                 port.name + "'; change an existing rule's rate instead");
    }
  }
  QosRule rule{uuid4().toString(), request.type, request.direction, request.kbps, request.kpps};
  policy.rules.push_back(rule);
  RETURN_IF_ERROR(persist({put(policy)}));
  return rule;
}

ApiResult<Port> PortsService::createPort(const PortRequest& request) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  const std::string& name = request.name;
  if (findByRef(ports_, name)) return placement::conflict("port '" + name + "' exists");
  const Network* net = findByRef(networks_, request.network);
  if (!net)
    return placement::badRequest("port '" + name + "': network '" + request.network +
                                 "' not found");
  Port port;
  port.id = uuid4().toString();
  port.name = name;
  port.networkId = net->id;
  port.vnicType = request.vnicType;
  port.macAddress = request.macAddress.value_or(randomMac());
  for (const auto& [id, p] : ports_) {
    if (p.macAddress == port.macAddress) {
      return placement::conflict("port '" + name + "': MAC " + port.macAddress +
                                 " is used by port '" + p.name + "'");
    }
  }
  if (request.qosPolicy) {
    const QosPolicy* policy = findByRef(policies_, *request.qosPolicy);
    if (!policy) {
      return placement::badRequest("port '" + name + "': qos policy '" + *request.qosPolicy +
                                   "' not found");
    }
    port.qosPolicyId = policy->id;
  }
  RETURN_IF_ERROR(persist({put(port)}));
  return port;
}

json PortsService::viewLocked(Kind kind, const std::string& id) const {
  switch (kind) {
    case Kind::kNetwork:
      return toJson(networks_.at(id));
    case Kind::kPolicy:
      return toJson(policies_.at(id));
    case Kind::kServer:
      return toJson(servers_.at(id));
    case Kind::kPort:
      return portViewLocked(ports_.at(id));
    case Kind::kAgent: {
      const Agent& agent = agents_.at(id);
      json out = toJson(agent);
      out["alive"] = agentAlive(agent);
      return out;
    }
  }
  return nullptr;
}

ApiResult<json> PortsService::show(Kind kind, const std::string& ref) const {
  std::lock_guard lock(mutex_);
  std::optional<std::string> id;
  auto idOf = [&](const auto* obj) {
    if (obj) id = obj->id;
  };
  switch (kind) {
    case Kind::kNetwork:
      idOf(findByRef(networks_, ref));
      break;
    case Kind::kPolicy:
      idOf(findByRef(policies_, ref));
      break;
    case Kind::kPort:
      idOf(findByRef(ports_, ref));
      break;
    case Kind::kServer:
      idOf(findByRef(servers_, ref));
      break;
    case Kind::kAgent:
      idOf(findByRef(agents_, ref));
      break;
  }
  if (!id) return placement::notFound(notFoundText(kind, ref));
  return viewLocked(kind, *id);
}

json PortsService::list(Kind kind) const {
  std::lock_guard lock(mutex_);
  json out = json::array();
  auto all = [&](const auto& objects) {
    for (const auto& [id, obj] : objects) out.push_back(viewLocked(kind, id));
  };
  switch (kind) {
    case Kind::kNetwork:
      all(networks_);
      break;
    case Kind::kPolicy:
      all(policies_);
      break;
    case Kind::kPort:
      all(ports_);
      break;
    case Kind::kServer:
      all(servers_);
      break;
    case Kind::kAgent:
      all(agents_);
      break;
  }
  return out;
}

json PortsService::describe(const Port& port) const {
  std::lock_guard lock(mutex_);
  return portViewLocked(port);
}

// A port as the API shows it: its document and its resource request in Neutron's grouped format
// (port-resource-request-groups), also under resource_request_groups, the name earlier bwfloor
// versions gave that format.
json PortsService::portViewLocked(const Port& port) const {
  json out = toJson(port);
  const auto rr = resourceRequest(port);
  out["resource_request"] = rr ? toJson(*rr) : json(nullptr);
  out["resource_request_groups"] = out["resource_request"];
  return out;
}

const QosPolicy* PortsService::policyOf(const Port& port) const {
  if (!port.qosPolicyId) return nullptr;
  auto it = policies_.find(*port.qosPolicyId);
  return it == policies_.end() ? nullptr : &it->second;
}

std::optional<ResourceRequest> PortsService::resourceRequest(const Port& port) const {
  auto net = networks_.find(port.networkId);
  return resourceRequestOf(port, policyOf(port), net != networks_.end() ? &net->second : nullptr);
}

ApiResult<Agent> PortsService::heartbeat(const HeartbeatRequest& request) {
  ASSIGN_OR_RETURN(WriteLock lock, lockForWrite());
  Agent agent{uuid5(kOvsAgentNamespace, request.host + "|" + request.agentType).toString(),
              request.host,
              request.agentType,
              request.binary,
              request.configurations,
              request.resourcesSynced,
              static_cast<int64_t>(std::time(nullptr))};
  auto it = agents_.find(agent.id);
  bool changed = it == agents_.end() || it->second.configurations != agent.configurations ||
                 it->second.resourcesSynced != agent.resourcesSynced ||
                 it->second.binary != agent.binary;
  // Shared store: the other servers learn liveness from the stored heartbeat, refreshed well
  // within agentDownTime (a write per agent every quarter of it, not per heartbeat).
  const int64_t refresh = options_.agentDownTime.count() / 4;
  const bool stale =
      store_->shared() && agent.heartbeatAt - persistedHeartbeats_[agent.id] >= refresh;
  if (changed || stale) {
    RETURN_IF_ERROR(persist({put(agent)}));
    persistedHeartbeats_[agent.id] = agent.heartbeatAt;
  } else {
    it->second.heartbeatAt = agent.heartbeatAt;  // not persisted: liveness is runtime
  }
  heartbeats_[agent.id] = std::chrono::steady_clock::now();
  return agent;
}

bool PortsService::agentAlive(const Agent& agent) const {
  auto it = heartbeats_.find(agent.id);
  return it != heartbeats_.end() &&
         std::chrono::steady_clock::now() - it->second < options_.agentDownTime;
}

bool PortsService::agentAlive(const std::string& host) const {
  return std::any_of(agents_.begin(), agents_.end(), [&](const auto& entry) {
    return entry.second.host == host && agentAlive(entry.second);
  });
}

}  // namespace bwfloor::ports
