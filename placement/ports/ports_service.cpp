#include "placement/ports/ports_service.h"

#include <algorithm>
#include <regex>

#include "core/logging.h"
#include "core/uuid.h"

namespace bwfloor::ports {
namespace {

const std::vector<std::string> kKinds = {"network", "policy", "port", "server", "agent"};
const std::vector<std::string> kVnicTypes = {"normal", "direct", "macvtap", "direct-physical"};

ApiError bad(const std::string& detail) { return placement::badRequest(detail); }

// os-traits normalisation: "CUSTOM_" + runs of other characters as one "_", upper case.
std::string customTrait(const std::string& prefix, const std::string& value) {
  static const std::regex kOther("[^0-9A-Za-z]+");
  std::string norm = std::regex_replace(prefix + value, kOther, "_");
  std::transform(norm.begin(), norm.end(), norm.begin(), ::toupper);
  return "CUSTOM_" + norm;
}

ApiResult<std::string> requireName(const json& body, const std::string& what) {
  if (!body.is_object()) return bad(what + ": the body must be a JSON object");
  auto it = body.find("name");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > 255) {
    return bad(what + ": 'name' must be a non-empty string of at most 255 characters");
  }
  return it->get<std::string>();
}

ApiStatus onlyKeys(const json& body, std::initializer_list<const char*> keys,
                   const std::string& what) {
  for (const auto& [k, v] : body.items()) {
    if (std::none_of(keys.begin(), keys.end(), [&](const char* a) { return k == a; })) {
      return bad(what + ": unknown field '" + k + "'");
    }
  }
  return ApiStatus::ok();
}

std::string randomMac() {
  auto bytes = uuid4().bytes();
  char buf[18];
  std::snprintf(buf, sizeof buf, "fa:16:3e:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2]);
  return buf;
}

bool validMac(const std::string& mac) {
  static const std::regex kMac("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$");
  return std::regex_match(mac, kMac);
}

}  // namespace

PortsService::PortsService(placement::PlacementModel& placement, std::shared_ptr<JsonStore> store,
                           PortsOptions options)
    : placement_(placement), store_(std::move(store)), options_(options) {
  for (const auto& kind : kKinds) objects_[kind];
  waker_ = std::thread([this] { runWaker(); });
}

PortsService::~PortsService() {
  {
    std::lock_guard lock(wakeMutex_);
    stopping_ = true;
  }
  wakeReady_.notify_all();
  waker_.join();
}

Status PortsService::load() {
  std::lock_guard lock(mutex_);
  for (const auto& kind : kKinds) {
    ASSIGN_OR_RETURN(auto docs, store_->loadKind(kind));
    for (auto& [id, body] : docs) objects_[kind][id] = std::move(body);
  }
  // Bindings revisions restart at 1: agents compare for inequality, not order.
  for (const auto& [id, port] : objects_["port"]) {
    if (port.value("binding_host", "") != "") revisions_[port["binding_host"]] = 1;
  }
  reconcileLocked();
  return Status::ok();
}

const json* PortsService::findLocked(const std::string& kind, const std::string& ref) const {
  auto k = objects_.find(kind);
  if (k == objects_.end()) return nullptr;
  if (auto it = k->second.find(ref); it != k->second.end()) return &it->second;
  const json* byName = nullptr;
  for (const auto& [id, obj] : k->second) {
    if (obj.value("name", "") == ref) {
      if (byName) return nullptr;  // ambiguous: only the id will do
      byName = &obj;
    }
  }
  return byName;
}

ApiStatus PortsService::persist(std::vector<JsonDocChange> changes) {
  if (Status st = store_->apply(changes); !st) {
    return ApiError{placement::Errc::kUnavailable,
                    "store write failed, nothing changed: " + st.error().message()};
  }
  for (auto& c : changes) {
    if (c.body) {
      objects_[c.kind][c.id] = std::move(*c.body);
    } else {
      objects_[c.kind].erase(c.id);
    }
  }
  return ApiStatus::ok();
}

ApiResult<json> PortsService::createNetwork(const json& body) {
  ASSIGN_OR_RETURN(std::string name, requireName(body, "network"));
  RETURN_IF_ERROR(
      onlyKeys(body, {"name", "physnet", "segmentation_id", "network_type"}, "network"));
  std::lock_guard lock(mutex_);
  if (findLocked("network", name)) return placement::conflict("network '" + name + "' exists");
  if (!body.contains("physnet") || !body["physnet"].is_string() ||
      body["physnet"].get<std::string>().empty()) {
    return bad("network '" + name + "': 'physnet' (the physical network) is required");
  }
  json net = {{"id", uuid4().toString()},
              {"name", name},
              {"physnet", body["physnet"]},
              {"network_type", body.value("network_type", "vlan")}};
  if (body.contains("segmentation_id")) {
    const json& seg = body["segmentation_id"];
    if (!seg.is_number_integer() || seg.get<int64_t>() < 1 || seg.get<int64_t>() > 4094) {
      return bad("network '" + name + "': 'segmentation_id' must be a VLAN id 1..4094");
    }
    net["segmentation_id"] = seg;
  } else {
    net["segmentation_id"] = nullptr;
  }
  RETURN_IF_ERROR(persist({{"network", net["id"], net}}));
  return net;
}

ApiResult<json> PortsService::createPolicy(const json& body) {
  ASSIGN_OR_RETURN(std::string name, requireName(body, "qos policy"));
  RETURN_IF_ERROR(onlyKeys(body, {"name"}, "qos policy"));
  std::lock_guard lock(mutex_);
  if (findLocked("policy", name)) return placement::conflict("qos policy '" + name + "' exists");
  json policy = {{"id", uuid4().toString()}, {"name", name}, {"rules", json::array()}};
  RETURN_IF_ERROR(persist({{"policy", policy["id"], policy}}));
  return policy;
}

namespace {
ApiResult<json> parseRule(const json& body) {
  if (!body.is_object()) return bad("qos rule: the body must be a JSON object");
  RETURN_IF_ERROR(onlyKeys(body, {"type", "direction", "min_kbps", "max_kbps"}, "qos rule"));
  std::string type = body.value("type", "");
  std::string direction = body.value("direction", "egress");
  if (type != "minimum_bandwidth" && type != "bandwidth_limit") {
    return bad("qos rule: 'type' must be minimum_bandwidth or bandwidth_limit, got '" + type + "'");
  }
  if (direction != "egress" && direction != "ingress") {
    return bad("qos rule: 'direction' must be egress or ingress, got '" + direction + "'");
  }
  const char* field = type == "minimum_bandwidth" ? "min_kbps" : "max_kbps";
  RETURN_IF_ERROR(checkQosRate(body, field));
  return json{
      {"id", uuid4().toString()}, {"type", type}, {"direction", direction}, {field, body[field]}};
}
}  // namespace

// A rule's rate, in kbit/s: placement's inventory and allocation amounts are 32-bit.
ApiStatus checkQosRate(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_number_integer() || it->get<int64_t>() <= 0 ||
      it->get<int64_t>() > placement::kMaxInt32) {
    return placement::badRequest(std::string("qos rule: '") + field +
                                 "' must be a whole number of kbit/s from 1 to " + "2147483647" +
                                 (it == body.end() ? " (missing)" : ", got " + it->dump()));
  }
  return ApiStatus::ok();
}

ApiResult<json> PortsService::createRule(const std::string& policyRef, const json& body) {
  ASSIGN_OR_RETURN(json rule, parseRule(body));
  std::lock_guard lock(mutex_);
  const json* found = findLocked("policy", policyRef);
  if (!found) return placement::notFound("qos policy '" + policyRef + "' not found");
  json policy = *found;
  for (const auto& r : policy["rules"]) {
    if (r["type"] == rule["type"] && r["direction"] == rule["direction"]) {
      return placement::conflict("qos policy '" + policy["name"].get<std::string>() +
                                 "' already has a " + rule["type"].get<std::string>() + " " +
                                 rule["direction"].get<std::string>() + " rule");
    }
  }
  // A new rule on a policy of bound ports would change their allocations: refuse, keep it simple.
  for (const auto& [id, port] : objects_["port"]) {
    if (port.value("qos_policy_id", json()) == policy["id"] &&
        port.value("binding_host", "") != "") {
      return placement::conflict("qos policy '" + policy["name"].get<std::string>() +
                                 "' is used by bound port '" + port["name"].get<std::string>() +
                                 "'; change an existing rule's rate instead");
    }
  }
  policy["rules"].push_back(rule);
  RETURN_IF_ERROR(persist({{"policy", policy["id"], policy}}));
  return rule;
}

ApiResult<json> PortsService::createPort(const json& body) {
  ASSIGN_OR_RETURN(std::string name, requireName(body, "port"));
  RETURN_IF_ERROR(
      onlyKeys(body, {"name", "network", "vnic_type", "mac_address", "qos_policy"}, "port"));
  std::lock_guard lock(mutex_);
  if (findLocked("port", name)) return placement::conflict("port '" + name + "' exists");
  std::string netRef = body.value("network", "");
  const json* net = findLocked("network", netRef);
  if (!net) return bad("port '" + name + "': network '" + netRef + "' not found");
  std::string vnic = body.value("vnic_type", "normal");
  if (std::find(kVnicTypes.begin(), kVnicTypes.end(), vnic) == kVnicTypes.end()) {
    return bad("port '" + name + "': vnic_type '" + vnic +
               "' is not one of normal, direct, macvtap, direct-physical");
  }
  std::string mac = body.value("mac_address", randomMac());
  std::transform(mac.begin(), mac.end(), mac.begin(), ::tolower);
  if (!validMac(mac)) return bad("port '" + name + "': mac_address '" + mac + "' is not a MAC");
  for (const auto& [id, p] : objects_["port"]) {
    if (p["mac_address"] == mac) {
      return placement::conflict("port '" + name + "': MAC " + mac + " is used by port '" +
                                 p["name"].get<std::string>() + "'");
    }
  }
  json port = {{"id", uuid4().toString()},
               {"name", name},
               {"network_id", (*net)["id"]},
               {"vnic_type", vnic},
               {"mac_address", mac},
               {"qos_policy_id", nullptr},
               {"device_id", ""},
               {"binding_host", ""},
               {"binding_profile", json::object()},
               {"status", "DOWN"},
               {"binding_status", {{"state", "unbound"}, {"detail", ""}}}};
  if (body.contains("qos_policy") && !body["qos_policy"].is_null()) {
    const json* policy = findLocked("policy", body.value("qos_policy", ""));
    if (!policy) {
      return bad("port '" + name + "': qos policy '" + body.value("qos_policy", "") +
                 "' not found");
    }
    port["qos_policy_id"] = (*policy)["id"];
  }
  RETURN_IF_ERROR(persist({{"port", port["id"], port}}));
  port["resource_request"] = resourceRequest(port);
  port["resource_request_groups"] = requestGroups(port);
  return port;
}

ApiResult<json> PortsService::show(const std::string& kind, const std::string& ref) const {
  std::lock_guard lock(mutex_);
  const json* obj = findLocked(kind, ref);
  if (!obj) return placement::notFound(kind + " '" + ref + "' not found");
  json out = *obj;
  if (kind == "port") {
    out["resource_request"] = resourceRequest(*obj);
    out["resource_request_groups"] = requestGroups(*obj);
  }
  if (kind == "agent") {
    auto it = heartbeats_.find(obj->value("id", ""));
    out["alive"] = it != heartbeats_.end() &&
                   std::chrono::steady_clock::now() - it->second < options_.agentDownTime;
  }
  return out;
}

json PortsService::list(const std::string& kind) const {
  json out = json::array();
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(kind);
    if (it == objects_.end()) return out;
    for (const auto& [id, obj] : it->second) ids.push_back(id);
  }
  for (const auto& id : ids) {
    if (auto obj = show(kind, id)) out.push_back(*obj);
  }
  return out;
}

// Neutron's flat resource_request: the port's minimum-bandwidth rules as one request group.
json PortsService::resourceRequest(const json& port) const {
  const json* policy =
      port["qos_policy_id"].is_null() ? nullptr : findLocked("policy", port["qos_policy_id"]);
  if (!policy) return nullptr;
  json resources = json::object();
  for (const auto& r : (*policy)["rules"]) {
    if (r["type"] != "minimum_bandwidth") continue;
    resources[r["direction"] == "egress" ? "NET_BW_EGR_KILOBIT_PER_SEC"
                                         : "NET_BW_IGR_KILOBIT_PER_SEC"] = r["min_kbps"];
  }
  if (resources.empty()) return nullptr;
  const json* net = findLocked("network", port["network_id"]);
  std::string physnet = net ? net->value("physnet", "") : "";
  std::string vnic = port["vnic_type"];
  std::replace(vnic.begin(), vnic.end(), '-', '_');
  return {{"required", {customTrait("PHYSNET_", physnet), customTrait("VNIC_TYPE_", vnic)}},
          {"resources", resources}};
}

// Neutron's request-groups format (port-resource-request-groups extension).
json PortsService::requestGroups(const json& port) const {
  json flat = resourceRequest(port);
  if (flat.is_null()) return nullptr;
  std::string groupId =
      uuid5(Uuid::parse(port["id"].get<std::string>()).value(), "bandwidth").toString();
  json group = flat;
  group["id"] = groupId;
  return {{"request_groups", {group}}, {"same_subtree", {groupId}}};
}

ApiResult<json> PortsService::heartbeat(const json& body) {
  if (!body.is_object()) return bad("agent heartbeat: the body must be a JSON object");
  std::string host = body.value("host", "");
  std::string type = body.value("agent_type", "");
  if (host.empty() || type.empty()) {
    return bad("agent heartbeat: 'host' and 'agent_type' are required");
  }
  std::lock_guard lock(mutex_);
  std::string id = uuid5(kOvsAgentNamespace, host + "|" + type).toString();
  json agent = {{"id", id},
                {"host", host},
                {"agent_type", type},
                {"binary", body.value("binary", "bwfloor-agent")},
                {"configurations", body.value("configurations", json::object())},
                {"resources_synced", body.value("resources_synced", false)},
                {"heartbeat_at", static_cast<int64_t>(std::time(nullptr))}};
  auto it = objects_["agent"].find(id);
  bool changed = it == objects_["agent"].end() ||
                 it->second["configurations"] != agent["configurations"] ||
                 it->second["resources_synced"] != agent["resources_synced"];
  if (changed) {
    RETURN_IF_ERROR(persist({{"agent", id, agent}}));
  } else {
    it->second["heartbeat_at"] = agent["heartbeat_at"];  // not persisted: liveness is runtime
  }
  heartbeats_[id] = std::chrono::steady_clock::now();
  json out = agent;
  out["alive"] = true;
  return out;
}

json PortsService::listAgents() const { return list("agent"); }

bool PortsService::agentAlive(const std::string& host) const {
  auto now = std::chrono::steady_clock::now();
  for (const auto& [id, agent] : objects_.at("agent")) {
    if (agent.value("host", "") != host) continue;
    auto it = heartbeats_.find(id);
    if (it != heartbeats_.end() && now - it->second < options_.agentDownTime) return true;
  }
  return false;
}

}  // namespace bwfloor::ports
