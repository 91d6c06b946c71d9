// The typed /v1 objects: each one's JSON shape loads back as the same value, documents written by
// earlier versions still load, and the request edge turns bodies into typed requests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/uuid.h"
#include "placement/ports/domain.h"

namespace bwfloor::ports {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Port boundPort() {
  Port p;
  p.id = "6f0c2a51-0d0e-4d1a-9e7c-2b1f1d3c4e5a";
  p.name = "port-normal-qos";
  p.networkId = "net-id";
  p.vnicType = VnicType::kDirectPhysical;
  p.macAddress = "fa:16:3e:00:00:01";
  p.qosPolicyId = "policy-id";
  p.binding = {"devstack0", "server-id", "rp-uuid", "br-test", "Open vSwitch agent", "agent-rp"};
  p.status = PortStatus::kActive;
  p.bindingStatus = {bindings::BindingState::kEnforced, "htb 1:10", "devstack0", "htb"};
  p.bindingStatus.packetRate.any = {bindings::BindingState::kPlacementOnly, "no mechanism"};
  return p;
}

TEST(PortsDomain, EveryObjectLoadsBackFromItsDocument) {
  const Network net{"n1", "net0", "physnet0", NetworkType::kVlan, 100};
  EXPECT_EQ(networkFromDocument(toJson(net)).value(), net);
  const Network flat{"n2", "flat0", "physnet1", NetworkType::kFlat, std::nullopt};
  EXPECT_EQ(networkFromDocument(toJson(flat)).value(), flat);

  const QosPolicy policy{"q1",
                         "gold",
                         {{"r1", RuleType::kMinimumBandwidth, Direction::kIngress, 5000},
                          {"r2", RuleType::kBandwidthLimit, Direction::kEgress, 90000}}};
  const json doc = toJson(policy);
  EXPECT_EQ(doc["rules"][0]["min_kbps"], 5000);
  EXPECT_EQ(doc["rules"][1]["max_kbps"], 90000);
  EXPECT_FALSE(doc["rules"][1].contains("min_kbps"));
  EXPECT_EQ(policyFromDocument(doc).value(), policy);

  const Port port = boundPort();
  EXPECT_EQ(toJson(port)["binding_profile"]["allocation"], "rp-uuid");
  EXPECT_EQ(toJson(port)["device_id"], "server-id");
  EXPECT_EQ(toJson(port)["binding_profile"]["packet_rate_allocation"], "agent-rp");
  EXPECT_EQ(toJson(port)["binding_status"]["packet_rate"]["any"]["state"], "placement-only");
  EXPECT_EQ(portFromDocument(toJson(port)).value(), port);
  Port unbound = port;
  unbound.binding = {};
  unbound.qosPolicyId.reset();
  unbound.bindingStatus = {bindings::BindingState::kUnbound, "", "", ""};
  EXPECT_TRUE(toJson(unbound)["qos_policy_id"].is_null());
  EXPECT_EQ(portFromDocument(toJson(unbound)).value(), unbound);

  const Server server{"s1", "vm0", "devstack0", {"p1", "p2"}, ServerStatus::kActive};
  EXPECT_EQ(serverFromDocument(toJson(server)).value(), server);
  const Agent agent{"a1",
                    "devstack0",
                    "Open vSwitch agent",
                    "bwfloor-agent",
                    json{{"bridge_mappings", {{"physnet0", "br-test"}}}},
                    true,
                    1700000000};
  EXPECT_EQ(agentFromDocument(toJson(agent)).value(), agent);
}

// The documents earlier servers wrote: a port without binding_agent_type and with a two-field
// binding_status, an unbound one with an empty profile.
TEST(PortsDomain, DocumentsOfEarlierVersionsLoad) {
  const json old = json::parse(R"({
    "id": "p1", "name": "port-a", "network_id": "n1", "vnic_type": "normal",
    "mac_address": "fa:16:3e:aa:bb:cc", "qos_policy_id": null, "device_id": "s1",
    "binding_host": "devstack0", "binding_profile": {"allocation": "rp"},
    "binding_device": "br-test", "status": "BUILD",
    "binding_status": {"state": "pending", "detail": ""}})");
  auto port = portFromDocument(old);
  ASSERT_TRUE(port) << port.error().message();
  EXPECT_EQ(port->binding.allocation, "rp");
  EXPECT_EQ(port->binding.agentType, "");
  EXPECT_EQ(port->bindingStatus.state, bindings::BindingState::kPending);
  EXPECT_EQ(port->status, PortStatus::kBuild);
}

TEST(PortsDomain, ABrokenDocumentNamesTheObjectAndTheField) {
  json doc = toJson(boundPort());
  doc["binding_status"]["state"] = "half-done";
  auto port = portFromDocument(doc);
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error().message(), HasSubstr("port \"6f0c2a51-0d0e-4d1a-9e7c-2b1f1d3c4e5a\""));
  EXPECT_THAT(port.error().message(), HasSubstr("binding_status"));
  EXPECT_THAT(port.error().message(), HasSubstr("half-done"));

  json server = toJson(Server{"s1", "vm0", "h", {"p1"}, ServerStatus::kBuild});
  server["status"] = "RUNNING";
  EXPECT_THAT(serverFromDocument(server).error().message(),
              HasSubstr("'status' must be one of BUILD, ACTIVE, got \"RUNNING\""));
}

TEST(PortsDomain, RequestsAreTypedWithTheirDefaults) {
  auto port =
      parsePortRequest({{"name", "p"}, {"network", "net0"}, {"mac_address", "FA:16:3E:00:00:0A"}});
  ASSERT_TRUE(port) << port.error().detail;
  EXPECT_EQ(port->vnicType, VnicType::kNormal);
  EXPECT_EQ(port->macAddress, "fa:16:3e:00:00:0a");
  EXPECT_FALSE(port->qosPolicy);
  auto withNull = parsePortRequest({{"name", "p"}, {"network", "net0"}, {"qos_policy", nullptr}});
  ASSERT_TRUE(withNull);
  EXPECT_FALSE(withNull->qosPolicy);

  auto rule = parseRuleRequest({{"type", "bandwidth_limit"}, {"max_kbps", 7}});
  ASSERT_TRUE(rule) << rule.error().detail;
  EXPECT_EQ(rule->direction, Direction::kEgress);
  EXPECT_EQ(rule->kbps, 7);
  // A limit's rate is max_kbps.
  auto misnamed = parseRuleRequest({{"type", "bandwidth_limit"}, {"min_kbps", 7}});
  ASSERT_FALSE(misnamed);
  EXPECT_THAT(misnamed.error().detail, HasSubstr("unknown field \"min_kbps\""));

  auto server = parseServerRequest({{"name", "vm"}, {"ports", {"a", "b"}}, {"strategy", "pack"}});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->strategy, Strategy::kPack);
  EXPECT_EQ(server->ports, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(server->host, "");

  auto beat = parseHeartbeatRequest({{"host", "h"}, {"agent_type", "t"}});
  ASSERT_TRUE(beat);
  EXPECT_EQ(beat->binary, "bwfloor-agent");
  EXPECT_FALSE(beat->resourcesSynced);
  auto noHost = parseHeartbeatRequest({{"agent_type", "t"}});
  ASSERT_FALSE(noHost);
  EXPECT_EQ(noHost.error().detail, "'host' is required");

  auto net = parseNetworkRequest({{"name", "n"}});
  ASSERT_FALSE(net);
  EXPECT_THAT(net.error().detail, HasSubstr("'physnet' is required"));
  EXPECT_EQ(kindOfCollection("qos_policies"), Kind::kPolicy);
  EXPECT_EQ(kindOfCollection("hosts"), std::nullopt);
}

// Issue 18: the minimum_packet_rate rule at the edge and in documents.
TEST(PortsDomain, PacketRateRulesParsePreciselyAndLoadBack) {
  auto any =
      parseRuleRequest({{"type", "minimum_packet_rate"}, {"direction", "any"}, {"min_kpps", 1000}});
  ASSERT_TRUE(any) << any.error().detail;
  EXPECT_EQ(any->type, RuleType::kMinimumPacketRate);
  EXPECT_EQ(any->direction, Direction::kAny);
  EXPECT_EQ(any->kpps, 1000);
  EXPECT_EQ(any->kbps, 0);
  auto byDefault = parseRuleRequest({{"type", "minimum_packet_rate"}, {"min_kpps", 5}});
  ASSERT_TRUE(byDefault);
  EXPECT_EQ(byDefault->direction, Direction::kEgress);  // Neutron's default

  auto noRate = parseRuleRequest({{"type", "minimum_packet_rate"}, {"min_kbps", 5}});
  ASSERT_FALSE(noRate);
  EXPECT_THAT(noRate.error().detail, HasSubstr("unknown field \"min_kbps\""));
  auto zero = parseRuleRequest({{"type", "minimum_packet_rate"}, {"min_kpps", 0}});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().detail,
            "'min_kpps' must be a whole number of kpps (kilo-packets per second) from 1 to "
            "2147483647, got 0");
  auto anyBandwidth =
      parseRuleRequest({{"type", "minimum_bandwidth"}, {"direction", "any"}, {"min_kbps", 5}});
  ASSERT_FALSE(anyBandwidth);
  EXPECT_EQ(anyBandwidth.error().detail,
            "'direction' must be one of egress, ingress for a minimum_bandwidth rule (\"any\" is "
            "for minimum_packet_rate), got \"any\"");

  const QosPolicy policy{
      "q1", "pps", {{"r1", RuleType::kMinimumPacketRate, Direction::kAny, 0, 700}}};
  const json doc = toJson(policy);
  EXPECT_EQ(doc["rules"][0], json::parse(R"({"id": "r1", "type": "minimum_packet_rate",
                                              "direction": "any", "min_kpps": 700})"));
  EXPECT_EQ(policyFromDocument(doc).value(), policy);
}

// Neutron's group id (neutron.md section 4.1's vector, python3 uuid.uuid5) and its groups.
TEST(PortsDomain, ResourceRequestGroupsAsNeutronBuildsThem) {
  Port port;
  port.id = "2f8e1c3a-6b7d-4c1e-9a2b-3c4d5e6f7a8b";
  const Network net{"n1", "net0", "physnet0", NetworkType::kVlan, 100};
  QosPolicy policy{"q1",
                   "pps",
                   {{"1111aaaa-0000-0000-0000-000000000001", RuleType::kMinimumPacketRate,
                     Direction::kAny, 0, 1000}}};
  auto ppOnly = resourceRequestOf(port, &policy, &net);
  ASSERT_TRUE(ppOnly);
  EXPECT_FALSE(ppOnly->bandwidth);
  EXPECT_EQ(toJson(*ppOnly), json::parse(R"({"request_groups": [
      {"id": "e24c594a-4d17-5645-8f6b-278166c6ffa8", "required": ["CUSTOM_VNIC_TYPE_NORMAL"],
       "resources": {"NET_PACKET_RATE_KILOPACKET_PER_SEC": 1000}}],
      "same_subtree": ["e24c594a-4d17-5645-8f6b-278166c6ffa8"]})"));

  // Two bandwidth rules: one group, its id from both rule ids joined by ':'; a limit adds nothing.
  policy.rules = {{"a", RuleType::kMinimumBandwidth, Direction::kEgress, 100, 0},
                  {"b", RuleType::kMinimumBandwidth, Direction::kIngress, 200, 0},
                  {"c", RuleType::kBandwidthLimit, Direction::kEgress, 900, 0},
                  {"d", RuleType::kMinimumPacketRate, Direction::kEgress, 0, 10},
                  {"e", RuleType::kMinimumPacketRate, Direction::kIngress, 0, 20}};
  port.vnicType = VnicType::kDirect;
  auto both = resourceRequestOf(port, &policy, &net);
  ASSERT_TRUE(both && both->bandwidth && both->packetRate);
  const Uuid ns = Uuid::parse(port.id).value();
  EXPECT_EQ(both->bandwidth->id, uuid5(ns, "a:b").toString());
  EXPECT_EQ(both->bandwidth->required,
            (std::vector<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_DIRECT"}));
  EXPECT_EQ(both->bandwidth->resources,
            (std::map<std::string, int64_t>{{"NET_BW_EGR_KILOBIT_PER_SEC", 100},
                                            {"NET_BW_IGR_KILOBIT_PER_SEC", 200}}));
  EXPECT_EQ(both->packetRate->id, uuid5(ns, "d:e").toString());
  EXPECT_EQ(both->packetRate->resources,
            (std::map<std::string, int64_t>{{"NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC", 10},
                                            {"NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC", 20}}));
  EXPECT_EQ(toJson(*both)["same_subtree"], json({both->bandwidth->id, both->packetRate->id}));

  policy.rules = {{"c", RuleType::kBandwidthLimit, Direction::kEgress, 900, 0}};
  EXPECT_FALSE(resourceRequestOf(port, &policy, &net));
  EXPECT_FALSE(resourceRequestOf(port, nullptr, &net));
}

}  // namespace
}  // namespace bwfloor::ports
