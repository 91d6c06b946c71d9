#pragma once
// bwfloor's /v1 objects as types: networks, QoS policies and rules, ports, servers and agents,
// with enum class states. Two edges turn JSON into them, both naming the field, the expected type
// and the value on failure:
//   - request bodies (parse*Request): the 400s of the /v1 API;
//   - stored documents (from*Document): what the JsonStore kept, checked when the server loads.
// The JSON shape of each object (toJson) is the API's and the store's, one serializer for both.
// A port's binding contract with its agent is bindings::Binding (bindings/host_bindings.h).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/host_bindings.h"
#include "placement/model/types.h"

namespace bwfloor::ports {

using nlohmann::json;
using placement::ApiError;
template <typename T>
using ApiResult = placement::ApiResult<T>;
using ApiStatus = placement::ApiStatus;

// The object kinds, as the store and the error texts name them ("network", "policy", ...).
enum class Kind { kNetwork, kPolicy, kPort, kServer, kAgent };
inline constexpr Kind kAllKinds[] = {Kind::kNetwork, Kind::kPolicy, Kind::kPort, Kind::kServer,
                                     Kind::kAgent};
std::string_view toString(Kind kind);
// "/v1/networks" -> kNetwork; nullopt for no such collection.
std::optional<Kind> kindOfCollection(std::string_view collection);

enum class NetworkType { kFlat, kVlan };
enum class RuleType { kMinimumBandwidth, kBandwidthLimit, kMinimumPacketRate };
// kAny only on a minimum_packet_rate rule (Neutron's ANY_DIRECTION: the switch's packet
// processing without direction, NET_PACKET_RATE_KILOPACKET_PER_SEC).
enum class Direction { kEgress, kIngress, kAny };
enum class VnicType { kNormal, kDirect, kMacvtap, kDirectPhysical };
enum class PortStatus { kDown, kBuild, kActive, kError };
enum class ServerStatus { kBuild, kActive };
enum class Strategy { kSpread, kPack };  // least or most free bandwidth left after the claim

std::string_view toString(NetworkType v);
std::string_view toString(RuleType v);
std::string_view toString(Direction v);
std::string_view toString(VnicType v);
std::string_view toString(PortStatus v);
std::string_view toString(ServerStatus v);
std::string_view toString(Strategy v);

// A rule's rate, in kbit/s or kpps: placement's inventory and allocation amounts are 32-bit.
inline constexpr int64_t kMaxRuleKbps = placement::kMaxInt32;
inline constexpr int64_t kMaxRuleKpps = placement::kMaxInt32;

struct Network {
  std::string id;
  std::string name;
  std::string physnet;
  NetworkType type = NetworkType::kVlan;
  std::optional<int> segmentationId;  // VLAN id; none on flat networks
  bool operator==(const Network&) const = default;
};

struct QosRule {
  std::string id;
  RuleType type = RuleType::kMinimumBandwidth;
  Direction direction = Direction::kEgress;
  int64_t kbps = 0;  // min_kbps of a minimum_bandwidth rule, max_kbps of a bandwidth_limit
  int64_t kpps = 0;  // min_kpps of a minimum_packet_rate rule
  bool operator==(const QosRule&) const = default;
};
// The JSON field that carries a rule type's rate.
const char* rateField(RuleType type);

struct QosPolicy {
  std::string id;
  std::string name;
  std::vector<QosRule> rules;  // at most one per (type, direction)
  bool operator==(const QosPolicy&) const = default;
};

// Where a port is bound; every field is empty while it is not.
struct PortBinding {
  std::string host;
  std::string serverId;    // Neutron's device_id
  std::string allocation;  // the device provider's uuid, minted by the host's agent
  std::string device;      // that provider's device (bridge, PF), as the agent reported it
  std::string agentType;   // that provider's agent ("Open vSwitch agent", "NIC Switch agent")
  // The agent provider's uuid holding the port's packet rate ("" without a packet-rate group).
  std::string packetRateAllocation;
  bool operator==(const PortBinding&) const = default;
};

struct Port {
  std::string id;
  std::string name;
  std::string networkId;
  VnicType vnicType = VnicType::kNormal;
  std::string macAddress;  // lower case
  std::optional<std::string> qosPolicyId;
  PortBinding binding;
  PortStatus status = PortStatus::kDown;
  bindings::BindingStatus bindingStatus{bindings::BindingState::kUnbound, "", "", ""};
  bool bound() const { return !binding.serverId.empty(); }
  bool operator==(const Port&) const = default;
};

struct Server {
  std::string id;
  std::string name;
  std::string host;
  std::vector<std::string> portIds;
  ServerStatus status = ServerStatus::kBuild;
  bool operator==(const Server&) const = default;
};

struct Agent {
  std::string id;  // uuid5(host|agent_type), as Neutron's agents table keys it
  std::string host;
  std::string agentType;
  std::string binary;
  json configurations = json::object();  // the agent's own report, shown as it sent it
  bool resourcesSynced = false;
  int64_t heartbeatAt = 0;  // unix seconds
  bool operator==(const Agent&) const = default;
};

// What a user may call an object besides its id; an agent has no name, its host is one.
inline const std::string& nameOf(const Network& v) { return v.name; }
inline const std::string& nameOf(const QosPolicy& v) { return v.name; }
inline const std::string& nameOf(const Port& v) { return v.name; }
inline const std::string& nameOf(const Server& v) { return v.name; }
inline const std::string& nameOf(const Agent& v) { return v.host; }

// The object `ref` names: by id, else by a name that only one object has.
template <typename T>
const T* findByRef(const std::map<std::string, T>& objects, const std::string& ref) {
  if (auto it = objects.find(ref); it != objects.end()) return &it->second;
  const T* byName = nullptr;
  for (const auto& [id, obj] : objects) {
    if (nameOf(obj) != ref) continue;
    if (byName) return nullptr;  // ambiguous: only the id will do
    byName = &obj;
  }
  return byName;
}

inline std::string notFoundText(Kind kind, const std::string& ref) {
  return std::string(toString(kind)) + " '" + ref + "' not found";
}

// One request group of a port (port-resource-request-groups): placement's granular group, its
// id also the group's suffix in the candidates query, as Nova uses it.
struct RequestGroup {
  std::string id;                            // uuid5(port id, ':'.join(rule ids)), as Neutron
  std::vector<std::string> required;         // traits
  std::map<std::string, int64_t> resources;  // resource class -> kbit/s or kpps
};

// Neutron's resource_request of a port (Yoga's grouped format): the minimum-bandwidth group
// (physnet and vnic-type traits: a device provider) and the minimum-packet-rate group (vnic-type
// trait: the agent provider), either absent, tied by same_subtree.
struct ResourceRequest {
  std::optional<RequestGroup> bandwidth;
  std::optional<RequestGroup> packetRate;
  // bandwidth first, as Neutron lists them; also same_subtree's order.
  std::vector<const RequestGroup*> groups() const;
};

// Neutron's resource_request (qos_plugin._get_resource_request): none without a policy or without
// minimum rules. The bandwidth group requires the network's physnet trait and the vnic-type trait,
// the packet-rate group only the vnic-type trait; group id = uuid5(port id, the group's rule ids
// joined by ':' in the policy's order), as neutron_lib.placement.utils.resource_request_group_uuid.
std::optional<ResourceRequest> resourceRequestOf(const Port& port, const QosPolicy* policy,
                                                 const Network* network);
// The resource class a minimum rule claims (NET_BW_EGR_KILOBIT_PER_SEC, ...).
std::string resourceClassOf(const QosRule& rule);
// os-traits normalisation: "CUSTOM_" + prefix + value, runs of other characters as one "_".
std::string customTrait(const std::string& prefix, std::string_view value);

// Request bodies, as the edge parsed them.
struct NetworkRequest {
  std::string name;
  std::string physnet;
  NetworkType type = NetworkType::kVlan;
  std::optional<int> segmentationId;
};
struct PolicyRequest {
  std::string name;
};
struct RuleRequest {
  RuleType type = RuleType::kMinimumBandwidth;
  Direction direction = Direction::kEgress;
  int64_t kbps = 0;
  int64_t kpps = 0;  // minimum_packet_rate
};
// PUT .../rules/{id}: the new rate, in the field of the rule's type.
struct RateChange {
  std::optional<int64_t> minKbps;
  std::optional<int64_t> maxKbps;
  std::optional<int64_t> minKpps;
};
struct PortRequest {
  std::string name;
  std::string network;  // name or id
  VnicType vnicType = VnicType::kNormal;
  std::optional<std::string> macAddress;  // lower case; a random fa:16:3e one when absent
  std::optional<std::string> qosPolicy;   // name or id
};
struct ServerRequest {
  std::string name;
  std::string host;  // "" = any
  Strategy strategy = Strategy::kSpread;
  std::vector<std::string> ports;  // names or ids
};
struct HeartbeatRequest {
  std::string host;
  std::string agentType;
  std::string binary = "bwfloor-agent";
  json configurations = json::object();
  bool resourcesSynced = false;
};

// The edge of the /v1 API: 400s that name the field, what it must be and what it was.
ApiResult<NetworkRequest> parseNetworkRequest(const json& body);
ApiResult<PolicyRequest> parsePolicyRequest(const json& body);
ApiResult<RuleRequest> parseRuleRequest(const json& body);
ApiResult<RateChange> parseRateChange(const json& body);
ApiResult<PortRequest> parsePortRequest(const json& body);
ApiResult<ServerRequest> parseServerRequest(const json& body);
ApiResult<HeartbeatRequest> parseHeartbeatRequest(const json& body);

// The API's and the store's JSON shape.
json toJson(const Network& v);
json toJson(const QosRule& v);
json toJson(const QosPolicy& v);
json toJson(const Port& v);
json toJson(const Server& v);
json toJson(const Agent& v);
json toJson(const ResourceRequest& v);

// Stored documents back into objects; the error names the field.
Result<Network> networkFromDocument(const json& doc);
Result<QosPolicy> policyFromDocument(const json& doc);
Result<Port> portFromDocument(const json& doc);
Result<Server> serverFromDocument(const json& doc);
Result<Agent> agentFromDocument(const json& doc);

}  // namespace bwfloor::ports
