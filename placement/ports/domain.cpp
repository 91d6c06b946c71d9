#include "placement/ports/domain.h"

#include <algorithm>
#include <array>
#include <regex>
#include <type_traits>
#include <utility>

#include "core/uuid.h"

namespace bwfloor::ports {
namespace {

template <typename E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<Kind, 5> kKindNames = {{{Kind::kNetwork, "network"},
                                        {Kind::kPolicy, "policy"},
                                        {Kind::kPort, "port"},
                                        {Kind::kServer, "server"},
                                        {Kind::kAgent, "agent"}}};
constexpr Names<Kind, 5> kCollections = {{{Kind::kNetwork, "networks"},
                                          {Kind::kPolicy, "qos_policies"},
                                          {Kind::kPort, "ports"},
                                          {Kind::kServer, "servers"},
                                          {Kind::kAgent, "agents"}}};
constexpr Names<NetworkType, 2> kNetworkTypes = {
    {{NetworkType::kFlat, "flat"}, {NetworkType::kVlan, "vlan"}}};
constexpr Names<RuleType, 3> kRuleTypes = {{{RuleType::kMinimumBandwidth, "minimum_bandwidth"},
                                            {RuleType::kBandwidthLimit, "bandwidth_limit"},
                                            {RuleType::kMinimumPacketRate, "minimum_packet_rate"}}};
constexpr Names<Direction, 3> kDirections = {
    {{Direction::kEgress, "egress"}, {Direction::kIngress, "ingress"}, {Direction::kAny, "any"}}};
constexpr Names<VnicType, 4> kVnicTypes = {{{VnicType::kNormal, "normal"},
                                            {VnicType::kDirect, "direct"},
                                            {VnicType::kMacvtap, "macvtap"},
                                            {VnicType::kDirectPhysical, "direct-physical"}}};
constexpr Names<PortStatus, 4> kPortStatuses = {{{PortStatus::kDown, "DOWN"},
                                                 {PortStatus::kBuild, "BUILD"},
                                                 {PortStatus::kActive, "ACTIVE"},
                                                 {PortStatus::kError, "ERROR"}}};
constexpr Names<ServerStatus, 2> kServerStatuses = {
    {{ServerStatus::kBuild, "BUILD"}, {ServerStatus::kActive, "ACTIVE"}}};
constexpr Names<Strategy, 2> kStrategies = {
    {{Strategy::kSpread, "spread"}, {Strategy::kPack, "pack"}}};

template <typename E, size_t N>
std::string_view nameIn(const Names<E, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> valueIn(const Names<E, N>& names, std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

// "one of a, b, c"
template <typename E, size_t N>
std::string oneOf(const Names<E, N>& names) {
  std::string out = "one of";
  for (size_t i = 0; i < N; ++i) out += (i ? ", " : " ") + std::string(names[i].second);
  return out;
}

// A value from outside, for an error text: JSON (quoted strings), never invalid UTF-8, short.
std::string shown(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 100) text = text.substr(0, 100) + "...";
  return text;
}

// Reads an object's fields into typed values. The first problem is kept (later reads return
// defaults), so a parser reads every field and then asks once.
class Fields {
 public:
  explicit Fields(const json& obj) : obj_(obj) {
    if (!obj.is_object()) fail("the body must be a JSON object, got " + shown(obj));
  }

  const json* find(const char* key, bool required, const char* hint = "") {
    if (!obj_.is_object()) return nullptr;
    auto it = obj_.find(key);
    if (it != obj_.end()) return &*it;
    if (required) fail(std::string("'") + key + "' is required" + hint);
    return nullptr;
  }

  std::string string(const char* key, bool required, const char* hint = "") {
    const json* v = find(key, required, hint);
    if (!v) return {};
    if (!v->is_string()) return mustBe(key, "a string", *v), std::string();
    return v->get<std::string>();
  }

  // Absent and null are both "none".
  std::optional<std::string> optionalString(const char* key) {
    const json* v = find(key, false);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) return mustBe(key, "a string or null", *v), std::nullopt;
    return v->get<std::string>();
  }

  // A name: what a user types, shown in every list and error.
  std::string name() {
    std::string n = string("name", true);
    if (!error_ && (n.empty() || n.size() > 255)) {
      mustBe("name", "a non-empty string of at most 255 characters", obj_["name"]);
    }
    return n;
  }

  std::optional<int64_t> integer(const char* key, int64_t lo, int64_t hi, const char* what,
                                 bool required = false) {
    const json* v = find(key, required);
    if (!v || (!required && v->is_null())) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > hi ||
        (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))) {
      return mustBe(key, what, *v), std::nullopt;
    }
    return v->get<int64_t>();
  }

  bool boolean(const char* key, bool fallback) {
    const json* v = find(key, false);
    if (!v) return fallback;
    if (!v->is_boolean()) return mustBe(key, "true or false", *v), fallback;
    return v->get<bool>();
  }

  json object(const char* key) {
    const json* v = find(key, false);
    if (!v) return json::object();
    if (!v->is_object()) return mustBe(key, "an object", *v), json::object();
    return *v;
  }

  std::vector<std::string> stringList(const char* key, bool required, const char* hint = "") {
    const json* v = find(key, required, hint);
    if (!v) return {};
    if (!v->is_array() ||
        !std::all_of(v->begin(), v->end(), [](const json& e) { return e.is_string(); })) {
      return mustBe(key, "a list of strings", *v), std::vector<std::string>();
    }
    return v->get<std::vector<std::string>>();
  }

  template <typename E, size_t N>
  E choice(const char* key, const Names<E, N>& names,
           std::type_identity_t<std::optional<E>> fallback) {
    const json* v = find(key, !fallback);
    if (!v) return fallback.value_or(names[0].first);
    auto parsed = v->is_string() ? valueIn(names, v->get<std::string>()) : std::nullopt;
    if (!parsed) return mustBe(key, oneOf(names), *v), names[0].first;
    return *parsed;
  }

  void onlyKeys(std::initializer_list<const char*> keys) {
    if (!obj_.is_object()) return;
    for (const auto& item : obj_.items()) {
      const std::string& k = item.key();
      if (std::none_of(keys.begin(), keys.end(), [&](const char* a) { return k == a; })) {
        std::string known;
        for (const char* a : keys) known += (known.empty() ? "" : ", ") + std::string(a);
        fail("unknown field " + shown(json(k)) + " (known: " + known + ")");
      }
    }
  }

  void mustBe(const char* key, const std::string& expected, const json& got) {
    fail(std::string("'") + key + "' must be " + expected + ", got " + shown(got));
  }
  void fail(std::string detail) {
    if (!error_) error_ = std::move(detail);
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  const json& obj_;
  std::optional<std::string> error_;
};

// The edge's answer: what was read, or the first problem as a 400.
template <typename T>
ApiResult<T> requestOr(const Fields& f, T value) {
  if (f.error()) return placement::badRequest(*f.error());
  return value;
}

// A stored document's answer: the same problem, named as the store's.
template <typename T>
Result<T> documentOr(const Fields& f, const char* kind, const json& doc, T value) {
  if (!f.error()) return value;
  std::string id = doc.is_object() && doc.contains("id") ? shown(doc["id"]) : "?";
  return makeError(ErrorCode::kInternal,
                   std::string("v1 store: ") + kind + " " + id + ": " + *f.error());
}

bool validMac(const std::string& mac) {
  static const std::regex kMac("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$");
  return std::regex_match(mac, kMac);
}

std::optional<int> segmentOf(Fields& f) {
  auto seg = f.integer("segmentation_id", 1, 4094, "a VLAN id from 1 to 4094");
  if (!seg) return std::nullopt;
  return static_cast<int>(*seg);
}

std::string rateRange() {
  return "a whole number of kbit/s from 1 to " + std::to_string(kMaxRuleKbps);
}

std::string packetRateRange() {
  return "a whole number of kpps (kilo-packets per second) from 1 to " +
         std::to_string(kMaxRuleKpps);
}

QosRule readRule(Fields& f) {
  QosRule rule;
  rule.type = f.choice("type", kRuleTypes, std::nullopt);
  rule.direction = f.choice("direction", kDirections, std::optional(Direction::kEgress));
  const bool packetRate = rule.type == RuleType::kMinimumPacketRate;
  if (!f.error() && !packetRate && rule.direction == Direction::kAny) {
    // Only packet processing has a direction-less capacity (Neutron's ANY_DIRECTION).
    f.fail("'direction' must be one of egress, ingress for a " + std::string(toString(rule.type)) +
           " rule (\"any\" is for minimum_packet_rate), got " + "\"any\"");
  }
  const char* field = rateField(rule.type);
  if (!f.error()) {
    f.onlyKeys({"id", "type", "direction", field});
    if (packetRate) {
      rule.kpps = f.integer(field, 1, kMaxRuleKpps, packetRateRange().c_str(), true).value_or(0);
    } else {
      rule.kbps = f.integer(field, 1, kMaxRuleKbps, rateRange().c_str(), true).value_or(0);
    }
  }
  return rule;
}

}  // namespace

std::string_view toString(Kind v) { return nameIn(kKindNames, v); }
std::string_view toString(NetworkType v) { return nameIn(kNetworkTypes, v); }
std::string_view toString(RuleType v) { return nameIn(kRuleTypes, v); }
std::string_view toString(Direction v) { return nameIn(kDirections, v); }
std::string_view toString(VnicType v) { return nameIn(kVnicTypes, v); }
std::string_view toString(PortStatus v) { return nameIn(kPortStatuses, v); }
std::string_view toString(ServerStatus v) { return nameIn(kServerStatuses, v); }
std::string_view toString(Strategy v) { return nameIn(kStrategies, v); }

std::optional<Kind> kindOfCollection(std::string_view collection) {
  return valueIn(kCollections, collection);
}

const char* rateField(RuleType type) {
  switch (type) {
    case RuleType::kMinimumBandwidth:
      return "min_kbps";
    case RuleType::kBandwidthLimit:
      return "max_kbps";
    case RuleType::kMinimumPacketRate:
      return "min_kpps";
  }
  return "?";
}

std::vector<const RequestGroup*> ResourceRequest::groups() const {
  std::vector<const RequestGroup*> out;
  if (bandwidth) out.push_back(&*bandwidth);
  if (packetRate) out.push_back(&*packetRate);
  return out;
}

std::string customTrait(const std::string& prefix, std::string_view value) {
  static const std::regex kOther("[^0-9A-Za-z]+");
  std::string norm = std::regex_replace(prefix + std::string(value), kOther, "_");
  std::transform(norm.begin(), norm.end(), norm.begin(), ::toupper);
  return "CUSTOM_" + norm;
}

std::string resourceClassOf(const QosRule& rule) {
  if (rule.type == RuleType::kMinimumPacketRate) {
    switch (rule.direction) {
      case Direction::kEgress:
        return "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC";
      case Direction::kIngress:
        return "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC";
      case Direction::kAny:
        return "NET_PACKET_RATE_KILOPACKET_PER_SEC";
    }
  }
  return rule.direction == Direction::kIngress ? "NET_BW_IGR_KILOBIT_PER_SEC"
                                               : "NET_BW_EGR_KILOBIT_PER_SEC";
}

namespace {

// One group from the policy's rules of `type`; nullopt when it has none.
std::optional<RequestGroup> groupOf(const Port& port, const QosPolicy& policy, RuleType type,
                                    std::vector<std::string> required) {
  RequestGroup group;
  std::string ruleIds;
  for (const auto& r : policy.rules) {
    if (r.type != type) continue;
    group.resources[resourceClassOf(r)] = type == RuleType::kMinimumPacketRate ? r.kpps : r.kbps;
    ruleIds += (ruleIds.empty() ? "" : ":") + r.id;
  }
  if (group.resources.empty()) return std::nullopt;
  auto portUuid = Uuid::parse(port.id);
  group.id = portUuid ? uuid5(*portUuid, ruleIds).toString() : "";
  group.required = std::move(required);
  return group;
}

}  // namespace

std::optional<ResourceRequest> resourceRequestOf(const Port& port, const QosPolicy* policy,
                                                 const Network* network) {
  if (!policy) return std::nullopt;
  std::string vnic(toString(port.vnicType));
  const std::string vnicTrait = customTrait("VNIC_TYPE_", vnic);
  ResourceRequest rr;
  // bwfloor's networks always have a physnet (flat or VLAN): Neutron's segments[0] physnet.
  if (network) {
    rr.bandwidth = groupOf(port, *policy, RuleType::kMinimumBandwidth,
                           {customTrait("PHYSNET_", network->physnet), vnicTrait});
  }
  rr.packetRate = groupOf(port, *policy, RuleType::kMinimumPacketRate, {vnicTrait});
  if (!rr.bandwidth && !rr.packetRate) return std::nullopt;
  return rr;
}

// ---- request bodies ----

ApiResult<NetworkRequest> parseNetworkRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"name", "physnet", "segmentation_id", "network_type"});
  NetworkRequest r;
  r.name = f.name();
  r.physnet = f.string("physnet", true, " (the physical network, as in bridge_mappings)");
  if (!f.error() && r.physnet.empty()) f.mustBe("physnet", "a non-empty string", body["physnet"]);
  r.type = f.choice("network_type", kNetworkTypes, std::optional(NetworkType::kVlan));
  r.segmentationId = segmentOf(f);
  if (!f.error() && r.type == NetworkType::kFlat && r.segmentationId) {
    f.fail("'segmentation_id' must be absent on a flat network, got " +
           std::to_string(*r.segmentationId));
  }
  return requestOr(f, std::move(r));
}

ApiResult<PolicyRequest> parsePolicyRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"name"});
  PolicyRequest r{f.name()};
  return requestOr(f, std::move(r));
}

ApiResult<RuleRequest> parseRuleRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"type", "direction", "min_kbps", "max_kbps", "min_kpps"});
  QosRule rule = readRule(f);
  return requestOr(f, RuleRequest{rule.type, rule.direction, rule.kbps, rule.kpps});
}

ApiResult<RateChange> parseRateChange(const json& body) {
  Fields f(body);
  f.onlyKeys({"min_kbps", "max_kbps", "min_kpps"});
  RateChange r;
  r.minKbps = f.integer("min_kbps", 1, kMaxRuleKbps, rateRange().c_str());
  r.maxKbps = f.integer("max_kbps", 1, kMaxRuleKbps, rateRange().c_str());
  r.minKpps = f.integer("min_kpps", 1, kMaxRuleKpps, packetRateRange().c_str());
  return requestOr(f, r);
}

ApiResult<PortRequest> parsePortRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"name", "network", "vnic_type", "mac_address", "qos_policy"});
  PortRequest r;
  r.name = f.name();
  r.network = f.string("network", true, " (a network's name or id)");
  r.vnicType = f.choice("vnic_type", kVnicTypes, std::optional(VnicType::kNormal));
  r.macAddress = f.optionalString("mac_address");
  if (r.macAddress) {
    std::transform(r.macAddress->begin(), r.macAddress->end(), r.macAddress->begin(), ::tolower);
    if (!f.error() && !validMac(*r.macAddress)) {
      f.mustBe("mac_address", "a MAC address like fa:16:3e:00:00:01", body["mac_address"]);
    }
  }
  r.qosPolicy = f.optionalString("qos_policy");
  return requestOr(f, std::move(r));
}

ApiResult<ServerRequest> parseServerRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"name", "host", "strategy", "ports"});
  ServerRequest r;
  r.name = f.name();
  r.host = f.string("host", false);
  r.strategy = f.choice("strategy", kStrategies, std::optional(Strategy::kSpread));
  r.ports = f.stringList("ports", true, " (a list of port names or ids)");
  return requestOr(f, std::move(r));
}

ApiResult<HeartbeatRequest> parseHeartbeatRequest(const json& body) {
  Fields f(body);
  f.onlyKeys({"host", "agent_type", "binary", "configurations", "resources_synced"});
  HeartbeatRequest r;
  r.host = f.string("host", true);
  r.agentType = f.string("agent_type", true);
  if (!f.error() && (r.host.empty() || r.agentType.empty())) {
    f.fail("'host' and 'agent_type' must be non-empty strings");
  }
  if (f.find("binary", false)) r.binary = f.string("binary", false);
  r.configurations = f.object("configurations");
  r.resourcesSynced = f.boolean("resources_synced", false);
  return requestOr(f, std::move(r));
}

// ---- the JSON shape ----

json toJson(const Network& v) {
  return {{"id", v.id},
          {"name", v.name},
          {"physnet", v.physnet},
          {"network_type", toString(v.type)},
          {"segmentation_id", v.segmentationId ? json(*v.segmentationId) : json(nullptr)}};
}

json toJson(const QosRule& v) {
  return {{"id", v.id},
          {"type", toString(v.type)},
          {"direction", toString(v.direction)},
          {rateField(v.type), v.type == RuleType::kMinimumPacketRate ? v.kpps : v.kbps}};
}

json toJson(const QosPolicy& v) {
  json rules = json::array();
  for (const auto& r : v.rules) rules.push_back(toJson(r));
  return {{"id", v.id}, {"name", v.name}, {"rules", std::move(rules)}};
}

json toJson(const Port& v) {
  json profile = json::object();
  if (!v.binding.allocation.empty()) profile["allocation"] = v.binding.allocation;
  if (!v.binding.packetRateAllocation.empty()) {
    profile["packet_rate_allocation"] = v.binding.packetRateAllocation;
  }
  return {{"id", v.id},
          {"name", v.name},
          {"network_id", v.networkId},
          {"vnic_type", toString(v.vnicType)},
          {"mac_address", v.macAddress},
          {"qos_policy_id", v.qosPolicyId ? json(*v.qosPolicyId) : json(nullptr)},
          {"device_id", v.binding.serverId},
          {"binding_host", v.binding.host},
          {"binding_profile", std::move(profile)},
          {"binding_device", v.binding.device},
          {"binding_agent_type", v.binding.agentType},
          {"status", toString(v.status)},
          {"binding_status", bindings::toJson(v.bindingStatus)}};
}

json toJson(const Server& v) {
  return {{"id", v.id},
          {"name", v.name},
          {"host", v.host},
          {"ports", v.portIds},
          {"status", toString(v.status)}};
}

json toJson(const Agent& v) {
  return {{"id", v.id},
          {"host", v.host},
          {"agent_type", v.agentType},
          {"binary", v.binary},
          {"configurations", v.configurations},
          {"resources_synced", v.resourcesSynced},
          {"heartbeat_at", v.heartbeatAt}};
}

json toJson(const ResourceRequest& v) {
  json groups = json::array();
  json sameSubtree = json::array();
  for (const RequestGroup* g : v.groups()) {
    groups.push_back({{"id", g->id}, {"required", g->required}, {"resources", g->resources}});
    sameSubtree.push_back(g->id);
  }
  return {{"request_groups", std::move(groups)}, {"same_subtree", std::move(sameSubtree)}};
}

// ---- stored documents ----
// Fields added in later versions are optional here, so that an older file still loads.

Result<Network> networkFromDocument(const json& doc) {
  Fields f(doc);
  Network v;
  v.id = f.string("id", true);
  v.name = f.string("name", true);
  v.physnet = f.string("physnet", true);
  v.type = f.choice("network_type", kNetworkTypes, std::optional(NetworkType::kVlan));
  v.segmentationId = segmentOf(f);
  return documentOr(f, "network", doc, std::move(v));
}

Result<QosPolicy> policyFromDocument(const json& doc) {
  Fields f(doc);
  QosPolicy v;
  v.id = f.string("id", true);
  v.name = f.string("name", true);
  const json* rules = f.find("rules", true);
  if (rules && !rules->is_array()) f.mustBe("rules", "a list", *rules);
  if (rules && rules->is_array()) {
    for (const auto& r : *rules) {
      Fields rf(r);
      QosRule rule = readRule(rf);
      rule.id = rf.string("id", true);
      if (rf.error()) f.fail("rules: " + *rf.error());
      v.rules.push_back(std::move(rule));
    }
  }
  return documentOr(f, "policy", doc, std::move(v));
}

Result<Port> portFromDocument(const json& doc) {
  Fields f(doc);
  Port v;
  v.id = f.string("id", true);
  v.name = f.string("name", true);
  v.networkId = f.string("network_id", true);
  v.vnicType = f.choice("vnic_type", kVnicTypes, std::optional(VnicType::kNormal));
  v.macAddress = f.string("mac_address", true);
  v.qosPolicyId = f.optionalString("qos_policy_id");
  v.binding.serverId = f.string("device_id", false);
  v.binding.host = f.string("binding_host", false);
  json profile = f.object("binding_profile");
  if (auto a = profile.find("allocation"); a != profile.end() && a->is_string()) {
    v.binding.allocation = a->get<std::string>();
  }
  if (auto a = profile.find("packet_rate_allocation"); a != profile.end() && a->is_string()) {
    v.binding.packetRateAllocation = a->get<std::string>();
  }
  v.binding.device = f.string("binding_device", false);
  v.binding.agentType = f.string("binding_agent_type", false);
  v.status = f.choice("status", kPortStatuses, std::optional(PortStatus::kDown));
  if (const json* status = f.find("binding_status", false); status && !f.error()) {
    auto parsed = bindings::parseBindingStatus(*status);
    if (parsed) {
      v.bindingStatus = *parsed;
    } else {
      f.fail("binding_status: " + parsed.error().message());
    }
  }
  return documentOr(f, "port", doc, std::move(v));
}

Result<Server> serverFromDocument(const json& doc) {
  Fields f(doc);
  Server v;
  v.id = f.string("id", true);
  v.name = f.string("name", true);
  v.host = f.string("host", false);
  v.portIds = f.stringList("ports", true);
  v.status = f.choice("status", kServerStatuses, std::optional(ServerStatus::kBuild));
  return documentOr(f, "server", doc, std::move(v));
}

Result<Agent> agentFromDocument(const json& doc) {
  Fields f(doc);
  Agent v;
  v.id = f.string("id", true);
  v.host = f.string("host", true);
  v.agentType = f.string("agent_type", true);
  v.binary = f.string("binary", false);
  v.configurations = f.object("configurations");
  v.resourcesSynced = f.boolean("resources_synced", false);
  v.heartbeatAt = f.integer("heartbeat_at", 0, INT64_MAX, "unix seconds").value_or(0);
  return documentOr(f, "agent", doc, std::move(v));
}

}  // namespace bwfloor::ports
