// The bindings contract: what the server writes, the agent reads back unchanged, and a document
// that is not one is refused naming the field, the expected type and the value.
#include "bindings/host_bindings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bwfloor::bindings {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

HostBindings sample() {
  HostBindings hb;
  hb.host = "devstack0";
  hb.revision = 7;
  Binding b;
  b.portId = "7f3c0c1e-1111-2222-3333-444455556666";
  b.portName = "port-normal-qos";
  b.macAddress = "fa:16:3e:00:00:01";
  b.vnicType = "normal";
  b.serverId = "0a1b2c3d-1111-2222-3333-444455556666";
  b.allocation = "9d3c0c1e-1111-2222-3333-444455556666";
  b.device = "br-test";
  b.agentType = "Open vSwitch agent";
  b.minEgressKbps = 1000;
  b.minIngressKbps = 1000;
  b.maxEgressKbps = 5000;
  b.status = {BindingState::kEnforced, "", "devstack0", "htb"};
  b.status.egress = DirectionStatus{BindingState::kEnforced, ""};
  b.status.ingress = DirectionStatus{BindingState::kPlacementOnly, "OVS userspace datapath"};
  hb.bindings.push_back(b);
  hb.providersDeleted = 3;
  Binding pending = b;
  pending.portId = "other";
  pending.maxEgressKbps.reset();
  pending.status = {};
  hb.bindings.push_back(pending);
  return hb;
}

TEST(HostBindingsTest, WhatTheServerWritesTheAgentReadsBack) {
  const HostBindings hb = sample();
  const json doc = toJson(hb);
  EXPECT_EQ(doc["bindings"][0]["status"]["state"], "enforced");
  EXPECT_TRUE(doc["bindings"][1]["max_egress_kbps"].is_null());
  auto back = parseHostBindings(json::parse(doc.dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, hb);
}

TEST(HostBindingsTest, AWrongFieldIsNamedWithTheExpectedTypeAndTheValue) {
  json doc = toJson(sample());
  doc["bindings"][1]["min_egress_kbps"] = "fast";
  auto bad = parseHostBindings(doc);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "bindings[1].min_egress_kbps: expected an integer from 0 to 2147483647 (kbit/s), got "
            "\"fast\"");
  doc = toJson(sample());
  doc["bindings"][0]["max_ingress_kbps"] = -1;
  EXPECT_THAT(parseHostBindings(doc).error().message(), HasSubstr("bindings[0].max_ingress_kbps"));
  doc = toJson(sample());
  doc["bindings"][0].erase("port_id");
  EXPECT_THAT(parseHostBindings(doc).error().message(),
              HasSubstr("bindings[0].port_id: expected a value (the field is required)"));
  doc = toJson(sample());
  doc["bindings"][0]["status"]["state"] = "bogus";
  EXPECT_THAT(parseHostBindings(doc).error().message(), HasSubstr("bindings[0].status.state"));
  EXPECT_THAT(
      parseHostBindings(json{{"revision", -3}, {"bindings", json::array()}}).error().message(),
      HasSubstr("revision: expected a non-negative integer, got -3"));
  EXPECT_THAT(parseHostBindings(json::array()).error().message(), HasSubstr("an object"));
  doc = toJson(sample());
  doc["providers_deleted"] = "many";
  EXPECT_THAT(parseHostBindings(doc).error().message(),
              HasSubstr("providers_deleted: expected a non-negative integer, got \"many\""));
  doc.erase("providers_deleted");  // an older server
  EXPECT_EQ(parseHostBindings(doc)->providersDeleted, 0U);
}

TEST(HostBindingsTest, AReportCarriesAStateAnAgentMayReport) {
  auto ok = parseStatusReport(
      {{"state", "placement-only"}, {"detail", "userspace datapath"}, {"host", "h"}});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->state, BindingState::kPlacementOnly);
  EXPECT_EQ(ok->detail, "userspace datapath");
  EXPECT_EQ(ok->backend, "");
  EXPECT_THAT(parseStatusReport({{"state", "pending"}}).error().message(),
              HasSubstr("state: expected one of enforced, placement-only, failed, removed"));
  EXPECT_THAT(parseStatusReport({{"state", "enforced"}, {"detail", 5}}).error().message(),
              HasSubstr("detail: expected a string, got 5"));
  EXPECT_THAT(parseStatusReport(json::object()).error().message(), HasSubstr("state"));
  EXPECT_FALSE(parseStatusReport("enforced"));
  // Per direction: each state one an agent may report; absent in an older agent's report.
  auto both = parseStatusReport({{"state", "placement-only"},
                                 {"egress", {{"state", "enforced"}}},
                                 {"ingress", {{"state", "placement-only"}, {"detail", "why"}}}});
  ASSERT_TRUE(both) << both.error().message();
  EXPECT_EQ(both->egress, (DirectionStatus{BindingState::kEnforced, ""}));
  EXPECT_EQ(both->ingress, (DirectionStatus{BindingState::kPlacementOnly, "why"}));
  EXPECT_THAT(parseStatusReport({{"state", "enforced"}, {"egress", {{"state", "pending"}}}})
                  .error()
                  .message(),
              HasSubstr("egress.state: expected one of enforced"));
  EXPECT_THAT(parseStatusReport({{"state", "enforced"}, {"ingress", 5}}).error().message(),
              HasSubstr("ingress: expected an object, got 5"));
}

TEST(HostBindingsTest, StateNamesRoundTrip) {
  for (auto state : {BindingState::kUnbound, BindingState::kPending, BindingState::kEnforced,
                     BindingState::kPlacementOnly, BindingState::kFailed, BindingState::kRemoved,
                     BindingState::kOverCommitted}) {
    EXPECT_EQ(parseState(stateName(state)), state);
  }
  EXPECT_FALSE(parseState("Enforced"));
}

}  // namespace
}  // namespace bwfloor::bindings
