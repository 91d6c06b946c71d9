// The binding loop's decisions as a value (planReconcile, programOutcome) and its retry timing
// (RetryBackoff on a FakeClock): no backend, no kernel, no server.
#include "agent/binding/reconcile_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/binding/retry_backoff.h"
#include "tests/unit/agent/agent_fakes.h"

namespace bwfloor::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kOvs = "Open vSwitch agent";
constexpr const char* kSriov = "NIC Switch agent";

bindings::Binding binding(const std::string& port, uint64_t egress,
                          const std::string& device = "br-test", const std::string& type = kOvs,
                          const std::string& mac = "fa:16:3e:00:00:0a") {
  bindings::Binding b;
  b.portId = port;
  b.portName = "port-" + port;
  b.macAddress = mac;
  b.device = device;
  b.agentType = type;
  b.minEgressKbps = egress;
  return b;
}

EnforcementPoints points() {
  EnforcementPoints p;
  auto point = [](std::string backend, std::string uplink, std::string whyNot) {
    EnforcementPoint e;
    e.backend = std::move(backend);
    e.uplink = std::move(uplink);
    e.whyNot = std::move(whyNot);
    return e;
  };
  p[{kOvs, "br-test"}] = point("htb", "eth-test", "");
  p[{kOvs, "br-test"}].providerUuid = "9b0c2a4e-0000-5000-8000-00000000b0b0";
  p[{kOvs, "br-ex"}] = point("", "", "bridge br-ex has no uplink");
  p[{kSriov, "ens5"}] = point("sriov", "ens5", "");
  return p;
}

dataplane::AppliedQos held(const std::string& port, uint64_t egress,
                           const std::string& backend = "htb",
                           const std::string& device = "eth-test",
                           const std::string& mac = "fa:16:3e:00:00:0a") {
  dataplane::AppliedQos a;
  a.port.portId = port;
  a.port.mac = mac;
  a.port.device = device;
  a.backend = backend;
  dataplane::AppliedDirection d;
  d.minKbps = Kbps(egress);
  a.egress = d;
  return a;
}

const std::set<std::string> kBackends = {"htb", "sriov"};

Plan plan(std::vector<bindings::Binding> wanted, const AppliedState& applied = {}) {
  static bindings::HostBindings desired;  // the plan points into it
  desired.bindings = std::move(wanted);
  return planReconcile(desired, applied, points(), kBackends);
}

// An egress-only device (OVS userspace datapath: no ingress total, a reason): the ingress a port
// asks for is placement-only, each direction says so, and what the kernel holds (egress only)
// is what was wanted, not drift to program again at every observe.
TEST(ReconcilePlanTest, ADirectionTheDeviceCannotEnforceIsHeldAsPlacementOnlyPerDirection) {
  bindings::HostBindings desired;
  desired.bindings = {binding("a", 1000)};
  desired.bindings[0].minIngressKbps = 500;
  EnforcementPoints egressOnly = points();
  egressOnly[{kOvs, "br-test"}].egressTotal = Kbps(1500);
  egressOnly[{kOvs, "br-test"}].ingressWhyNot = "ingress not enforceable on br-test";
  AppliedState applied;
  applied.byPort["a"] = held("a", 1000);
  const Plan p = planReconcile(desired, applied, egressOnly, kBackends);
  ASSERT_EQ(p.ports.size(), 1U);
  EXPECT_FALSE(p.ports[0].program.has_value()) << "programmed again although nothing drifted";
  EXPECT_TRUE(p.ports[0].held.has_value());
  const BindingStatus& st = p.ports[0].status;
  EXPECT_EQ(st.state, "placement-only");
  EXPECT_EQ(st.egress, (BindingStatus::DirectionState{"enforced", ""}));
  EXPECT_EQ(st.ingress, (BindingStatus::DirectionState{"placement-only",
                                                       "ingress not enforceable on br-test"}));
  // Without the egress class the port must be programmed (that is drift).
  applied.byPort["a"].egress.reset();
  EXPECT_TRUE(planReconcile(desired, applied, egressOnly, kBackends).ports[0].program);
}

// br-test's total lowered to 1500 with 1000 + 1000 bound in egress: both ports' egress and
// overall states say over-committed with the sum and the total; ingress (within its total) stays
// enforced; a failed port stays failed.
TEST(ReconcilePlanTest, ATotalBelowTheBoundMinimumsIsOverCommittedPerDirection) {
  EnforcementPoints pts = points();
  pts[{kOvs, "br-test"}].egressTotal = Kbps(1500);
  pts[{kOvs, "br-test"}].ingressTotal = Kbps(5000);
  auto enforced = [](const std::string& id) {
    BindingStatus s;
    s.portId = id;
    s.uplink = "eth-test";
    s.backend = "htb";
    s.minEgress = Kbps(1000);
    s.minIngress = Kbps(1000);
    setState(s, dataplane::Enforcement::enforced());
    return s;
  };
  std::vector<BindingStatus> statuses{enforced("a"), enforced("b")};
  const auto lines = markOverCommitted(statuses, pts);
  EXPECT_THAT(lines,
              ElementsAre("eth-test egress: minimums 2000 kbit/s above its total 1500 kbit/s"));
  for (const auto& s : statuses) {
    EXPECT_EQ(s.state, "over-committed");
    ASSERT_TRUE(s.egress);
    EXPECT_EQ(s.egress->state, "over-committed");
    EXPECT_EQ(s.egress->detail,
              "the minimums on eth-test egress add up to 2000 kbit/s, above its total 1500 kbit/s");
    EXPECT_EQ(s.ingress->state, "enforced");
  }
  // Within the total: nothing changes.
  statuses = {enforced("a")};
  EXPECT_THAT(markOverCommitted(statuses, pts), IsEmpty());
  EXPECT_EQ(statuses[0].state, "enforced");
  // Reprogramming after the points changed: a port the kernel holds is programmed anyway.
  bindings::HostBindings desired;
  desired.bindings = {binding("a", 1000)};
  AppliedState applied;
  applied.byPort["a"] = held("a", 1000);
  EXPECT_FALSE(planReconcile(desired, applied, points(), kBackends).ports[0].program);
  EXPECT_TRUE(planReconcile(desired, applied, points(), kBackends, true).ports[0].program);
}

TEST(ReconcilePlanTest, StatusesThatNeedNoBackendAreDecidedInThePlan) {
  const Plan p =
      plan({binding("none", 0), binding("far", 1000, "br-nowhere"), binding("ex", 1000, "br-ex")});
  ASSERT_EQ(p.ports.size(), 3U);
  EXPECT_EQ(p.ports[0].status.state, "placement-only");
  EXPECT_EQ(p.ports[0].status.detail, "no minimum requested");
  EXPECT_EQ(p.ports[1].status.state, "failed");
  EXPECT_THAT(p.ports[1].status.detail, HasSubstr("br-nowhere of Open vSwitch agent is not"));
  EXPECT_EQ(p.ports[2].status.state, "placement-only");
  EXPECT_EQ(p.ports[2].status.detail, "bridge br-ex has no uplink");
  for (const auto& step : p.ports) EXPECT_FALSE(step.program) << step.status.portId;
  EXPECT_THAT(p.removals, IsEmpty());
}

// The device travels as the provider uuid the agent minted; the names are only for people.
TEST(ReconcilePlanTest, TheAllocationsProviderChoosesTheDevice) {
  bindings::Binding byUuid = binding("a", 1000, "a-name-nobody-parses");
  byUuid.allocation = "9b0c2a4e-0000-5000-8000-00000000b0b0";
  bindings::Binding elsewhere = binding("b", 1000);
  elsewhere.allocation = "0e0e0e0e-0000-5000-8000-000000000000";
  const Plan p = plan({byUuid, elsewhere});
  ASSERT_TRUE(p.ports[0].program);
  EXPECT_EQ(p.ports[0].program->port.device, "eth-test");
  EXPECT_EQ(p.ports[1].status.state, "failed");
  EXPECT_THAT(p.ports[1].status.detail,
              HasSubstr("provider 0e0e0e0e-0000-5000-8000-000000000000 (Open vSwitch agent, "
                        "br-test) is not a device this agent reports"));
}

TEST(ReconcilePlanTest, WhatTheKernelAlreadyHoldsIsNotProgrammedAgain) {
  AppliedState applied;
  applied.byPort["a"] = held("a", 1000);
  const Plan same = plan({binding("a", 1000)}, applied);
  ASSERT_EQ(same.ports.size(), 1U);
  EXPECT_FALSE(same.ports[0].program);
  EXPECT_EQ(same.ports[0].status.state, "enforced");
  EXPECT_EQ(same.ports[0].status.uplink, "eth-test");

  const Plan changed = plan({binding("a", 2000)}, applied);
  ASSERT_TRUE(changed.ports[0].program);
  EXPECT_EQ(changed.ports[0].program->minEgress, Kbps(2000));
  EXPECT_EQ(changed.ports[0].program->port.device, "eth-test");
  EXPECT_FALSE(changed.ports[0].moveFrom) << "same backend and uplink: programmed in place";
}

TEST(ReconcilePlanTest, AMovedPortIsTakenOffItsOldBackendFirst) {
  AppliedState applied;
  applied.byPort["a"] = held("a", 1000, "sriov", "ens5");
  const Plan p = plan({binding("a", 1000)}, applied);
  ASSERT_TRUE(p.ports[0].program);
  EXPECT_EQ(p.ports[0].moveFrom, "sriov");
  EXPECT_THAT(p.removals, IsEmpty()) << "the move removes it, once";
}

TEST(ReconcilePlanTest, UnwantedPortsAreRemovedAndUnclaimedUntaggedEntriesCleared) {
  AppliedState applied;
  applied.byPort["gone"] = held("gone", 1000);
  applied.byPort["orphan-of-a-missing-backend"] = held("x", 1000, "ovs");
  applied.untagged.push_back(held("", 3000, "sriov", "ens5", "fa:16:3e:00:00:0b"));  // claimed
  applied.untagged.push_back(held("", 3000, "sriov", "ens5", "fa:16:3e:00:00:0c"));  // stale
  const Plan p = plan({binding("b", 3000, "ens5", kSriov, "fa:16:3e:00:00:0b")}, applied);
  EXPECT_THAT(p.removals, ElementsAre(std::make_pair(std::string("htb"), std::string("gone"))));
  ASSERT_EQ(p.clears.size(), 1U);
  EXPECT_EQ(p.clears[0].port.mac, "fa:16:3e:00:00:0c");
}

TEST(ReconcilePlanTest, AProgramsOutcomeIsTheBackendsAnswerOrItsError) {
  const Plan p = plan({binding("a", 1000), binding("v", 1000, "ens5", kSriov)});
  ASSERT_TRUE(p.ports[0].program && p.ports[1].program);
  EXPECT_EQ(programOutcome(p.ports[0], held("a", 1000)).state, "enforced");
  const auto refused = programOutcome(
      p.ports[0], Result<dataplane::AppliedQos>(makeError(
                      ErrorCode::kPermissionDenied, "RTM_NEWTCLASS: Operation not permitted", 1)));
  EXPECT_EQ(refused.state, "failed");
  EXPECT_THAT(refused.detail, HasSubstr("Operation not permitted"));
  // An SR-IOV port whose VM is not plugged yet waits; it has not failed.
  const auto waiting = programOutcome(
      p.ports[1],
      Result<dataplane::AppliedQos>(makeError(ErrorCode::kNotFound, "no VF with that MAC")));
  EXPECT_EQ(waiting.state, "placement-only");
  EXPECT_THAT(waiting.detail, HasSubstr("waiting for a VF of ens5"));
}

TEST(RetryBackoffTest, DoublesUpToTheLimitAndStartsOverAfterASuccess) {
  testing::FakeClock clock;
  RetryBackoff backoff(clock, std::chrono::milliseconds(500), std::chrono::seconds(5));
  EXPECT_TRUE(backoff.due());
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(500));
  EXPECT_FALSE(backoff.due());
  clock.advance(std::chrono::milliseconds(499));
  EXPECT_FALSE(backoff.due());
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(backoff.due());
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(1000));
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(2000));
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(4000));
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(5000));
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(5000));
  backoff.succeeded();
  EXPECT_TRUE(backoff.due());
  EXPECT_EQ(backoff.failed(), std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace bwfloor::agent
