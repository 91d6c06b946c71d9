// findCandidates on a PlacementModel over a MemoryStore: every semantic of placement-api.md §2
// on small trees whose answers are worked out by hand in the comments.
//
// Results are rendered with provider *names*, one string per allocation request, sorted:
//   "cn:VCPU=1 numa0:MEMORY_MB=512"                 (allocations, providers by name)
//   "pf1:SRIOV_NET_VF=2 | 1=pf1 2=pf1"             (with mappings, suffix "" shown as '')

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/uuid.h"
#include "placement/candidates/candidates.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement {
namespace {

constexpr const char* kVf = "SRIOV_NET_VF";
constexpr const char* kEgr = "NET_BW_EGR_KILOBIT_PER_SEC";
constexpr const char* kIgr = "NET_BW_IGR_KILOBIT_PER_SEC";
const std::string kAggA = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kAggB = "bbbbbbbb-0000-4000-8000-000000000002";

Inventory inv(int64_t total) { return Inventory{.total = total}; }

SetTerm need(std::initializer_list<std::string> anyOf) { return SetTerm{anyOf, false}; }
SetTerm forbid(std::initializer_list<std::string> anyOf) { return SetTerm{anyOf, true}; }

RequestGroup group(std::string suffix, ResourceAmounts resources, std::vector<SetTerm> traits = {},
                   std::vector<SetTerm> memberOf = {}) {
  RequestGroup g;
  g.suffix = std::move(suffix);
  g.resources = std::move(resources);
  g.traits = std::move(traits);
  g.memberOf = std::move(memberOf);
  return g;
}

class CandidatesEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(model_.load()); }

  // Creates a provider; its inventories, traits (custom ones are created) and aggregates.
  void add(const std::string& name, const std::string& parent = "",
           const std::map<std::string, Inventory>& inventories = {},
           const std::set<std::string>& traits = {}, const std::set<std::string>& aggregates = {}) {
    std::optional<std::string> parentUuid;
    if (!parent.empty()) parentUuid = uuid(parent);
    auto p = model_.createProvider(name, std::nullopt, parentUuid);
    ASSERT_TRUE(p.has_value()) << p.error().detail;
    uuids_[name] = p->uuid;
    names_[p->uuid] = name;
    int64_t gen = p->generation;
    if (!inventories.empty()) {
      auto r = model_.setInventories(p->uuid, gen, inventories);
      ASSERT_TRUE(r.has_value()) << r.error().detail;
      gen = r->generation;
    }
    if (!traits.empty()) {
      for (const auto& t : traits) {
        if (isCustomName(t)) {
          ASSERT_TRUE(model_.createTrait(t).has_value());
        }
      }
      auto r = model_.setTraits(p->uuid, gen, traits);
      ASSERT_TRUE(r.has_value()) << r.error().detail;
      gen = r->generation;
    }
    if (!aggregates.empty()) {
      auto r = model_.setAggregates(p->uuid, gen, aggregates);
      ASSERT_TRUE(r.has_value()) << r.error().detail;
    }
  }
  const std::string& uuid(const std::string& name) const { return uuids_.at(name); }

  ApiStatus claim(const std::map<std::string, ResourceAmounts>& byName) {
    AllocationWrite w;
    w.consumerUuid = uuid4().toString();
    for (const auto& [name, amounts] : byName) w.allocations[uuid(name)] = amounts;
    w.projectId = "project";
    w.userId = "user";
    return model_.writeAllocations({w});
  }

  // The requests and the names of the providers to summarise (read under the lock).
  struct Found {
    std::vector<AllocationRequest> requests;
    std::set<std::string> summaries;
  };
  Found run(const CandidateRequest& request) {
    Found out;
    model_.withReadLock([&](const PlacementModel& m) {
      CandidateResult r = findCandidates(m, request);
      out.requests = std::move(r.requests);
      for (const Provider* p : r.summaryProviders) out.summaries.insert(p->name);
    });
    return out;
  }
  Found run(std::vector<RequestGroup> groups) {
    CandidateRequest r;
    r.groups = std::move(groups);
    return run(r);
  }

  std::string render(const AllocationRequest& req, bool withMappings) const {
    std::vector<std::string> parts;
    for (const auto& [uuid, amounts] : req.allocations) {
      std::string s = names_.at(uuid) + ":";
      bool first = true;
      for (const auto& [rc, n] : amounts) {
        s += (first ? "" : ",") + rc + "=" + std::to_string(n);
        first = false;
      }
      parts.push_back(s);
    }
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
    if (withMappings) {
      out += " |";
      for (const auto& [suffix, uuids] : req.mappings) {
        std::vector<std::string> names;
        for (const auto& u : uuids) names.push_back(names_.at(u));
        std::sort(names.begin(), names.end());
        out += " " + (suffix.empty() ? std::string("''") : suffix) + "=";
        for (size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + names[i];
      }
    }
    return out;
  }
  std::vector<std::string> rendered(const Found& r, bool withMappings = false) const {
    std::vector<std::string> out;
    for (const auto& req : r.requests) out.push_back(render(req, withMappings));
    std::sort(out.begin(), out.end());
    return out;
  }
  static const std::set<std::string>& summaries(const Found& r) { return r.summaries; }

  using Strings = std::vector<std::string>;

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PlacementModel model_{store_};
  std::map<std::string, std::string> uuids_;  // name -> uuid
  std::map<std::string, std::string> names_;  // uuid -> name
};

// Flat cloud (no trees, no sharing): one provider supplies every class of the unsuffixed group,
// the whole amount, within capacity, min_unit, max_unit and step_size.
TEST_F(CandidatesEngineTest, FlatProviderMustFitTheWholeAmountWithinUnitRules) {
  add("cn1", "", {{"VCPU", inv(4)}});
  add("cn2", "", {{"VCPU", inv(8)}});
  ASSERT_TRUE(claim({{"cn2", {{"VCPU", 7}}}}));  // 7 + 2 > 8
  add("cn3", "", {{"VCPU", Inventory{.total = 8, .minUnit = 4}}});
  add("cn4", "", {{"VCPU", Inventory{.total = 8, .stepSize = 3}}});
  add("cn5", "", {{"VCPU", Inventory{.total = 8, .maxUnit = 1}}});
  // capacity = int((2 - 1) * 2.0) = 2
  add("cn6", "", {{"VCPU", Inventory{.total = 2, .reserved = 1, .allocationRatio = 2.0}}});
  add("mem", "", {{"MEMORY_MB", inv(4096)}});

  auto r = run({group("", {{"VCPU", 2}})});
  EXPECT_EQ(rendered(r), (Strings{"cn1:VCPU=2", "cn6:VCPU=2"}));
  EXPECT_EQ(summaries(r), (std::set<std::string>{"cn1", "cn6"}));
  // An amount is never split, and in a flat cloud classes are not combined across providers.
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 5}})})), (Strings{"cn3:VCPU=5"}));  // min_unit 4
  EXPECT_TRUE(run({group("", {{"VCPU", 9}})}).requests.empty());
  EXPECT_TRUE(run({group("", {{"VCPU", 1}, {"MEMORY_MB", 512}})}).requests.empty());
}

// cn (VCPU, MEMORY_MB) -> numa0 (VCPU, MEMORY_MB), cn -> agent (no inventory). The unsuffixed
// group may take each class from any provider of the tree: 2 x 2 = 4 assignments, all distinct.
TEST_F(CandidatesEngineTest, NestedTreeOffersEveryAssignmentOfClassesToProviders) {
  add("cn", "", {{"VCPU", inv(4)}, {"MEMORY_MB", inv(2048)}});
  add("numa0", "cn", {{"VCPU", inv(4)}, {"MEMORY_MB", inv(2048)}});
  add("agent", "cn");

  auto r = run({group("", {{"VCPU", 1}, {"MEMORY_MB", 512}})});
  EXPECT_EQ(rendered(r), (Strings{"cn:MEMORY_MB=512 numa0:VCPU=1", "cn:MEMORY_MB=512,VCPU=1",
                                  "cn:VCPU=1 numa0:MEMORY_MB=512", "numa0:MEMORY_MB=512,VCPU=1"}));
  // From 1.29 the summaries describe the whole tree, providers without inventory included.
  EXPECT_EQ(summaries(r), (std::set<std::string>{"agent", "cn", "numa0"}));
}

// Before 1.29 a request may not use two providers of one tree, and summaries list only the
// providers used.
TEST_F(CandidatesEngineTest, BeforeNestedAwareOneProviderPerTree) {
  add("cn", "", {{"VCPU", inv(4)}});
  add("numa", "cn", {{"MEMORY_MB", inv(1024)}});
  add("cn2", "", {{"VCPU", inv(4)}, {"MEMORY_MB", inv(1024)}});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}, {"MEMORY_MB", 256}})};
  auto nested = run(req);
  EXPECT_EQ(rendered(nested),
            (Strings{"cn2:MEMORY_MB=256,VCPU=1", "cn:VCPU=1 numa:MEMORY_MB=256"}));
  req.nestedAware = false;
  auto old = run(req);
  EXPECT_EQ(rendered(old), (Strings{"cn2:MEMORY_MB=256,VCPU=1"}));
  EXPECT_EQ(summaries(old), (std::set<std::string>{"cn2"}));
}

// cn (VCPU, HW_CPU_X86_AVX) -> pf (SRIOV_NET_VF, CUSTOM_PHYSNET_A), cn -> agent (no inventory,
// CUSTOM_VNIC_DIRECT). Traits of the unsuffixed group count only on providers that supply
// resources in that candidate.
TEST_F(CandidatesEngineTest, UnsuffixedTraitsCountOnlyOnProvidersUsed) {
  add("cn", "", {{"VCPU", inv(4)}}, {"HW_CPU_X86_AVX"});
  add("pf", "cn", {{kVf, inv(2)}}, {"CUSTOM_PHYSNET_A"});
  add("agent", "cn", {}, {"CUSTOM_VNIC_DIRECT"});

  // pf is not used by a VCPU-only request, so its trait does not help.
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}}, {need({"CUSTOM_PHYSNET_A"})})})), Strings{});
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}, {kVf, 1}},
                                {need({"CUSTOM_PHYSNET_A"}), need({"HW_CPU_X86_AVX"})})})),
            (Strings{"cn:VCPU=1 pf:SRIOV_NET_VF=1"}));
  // A provider that supplies nothing never satisfies a trait.
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}}, {need({"CUSTOM_VNIC_DIRECT"})})})), Strings{});
  // Forbidden: none of the providers used may carry it.
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}, {kVf, 1}}, {forbid({"CUSTOM_PHYSNET_A"})})})),
            Strings{});
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}}, {forbid({"CUSTOM_PHYSNET_A"})})})),
            (Strings{"cn:VCPU=1"}));
}

// A granular group is one provider with every class; any-of (in:) terms are ORed, terms ANDed.
TEST_F(CandidatesEngineTest, GranularGroupIsOneProviderAndAnyOfTraits) {
  add("cn", "", {{"VCPU", inv(4)}});
  add("pfA", "cn", {{kVf, inv(4)}}, {"CUSTOM_PHYSNET_A"});
  add("pfB", "cn", {{kVf, inv(4)}}, {"CUSTOM_PHYSNET_B"});
  add("pfC", "cn", {{kVf, inv(4)}}, {"CUSTOM_PHYSNET_C", "CUSTOM_SLOW"});
  add("br", "cn", {{kEgr, inv(1000)}, {kIgr, inv(1000)}});
  add("nic", "cn", {{kEgr, inv(1000)}, {kIgr, inv(500)}});

  auto vf = [&](std::vector<SetTerm> traits) {
    return rendered(run({group("1", {{kVf, 1}}, std::move(traits))}));
  };
  EXPECT_EQ(vf({need({"CUSTOM_PHYSNET_A", "CUSTOM_PHYSNET_B"})}),
            (Strings{"pfA:SRIOV_NET_VF=1", "pfB:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf({need({"CUSTOM_PHYSNET_A", "CUSTOM_PHYSNET_C"}), forbid({"CUSTOM_SLOW"})}),
            (Strings{"pfA:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf({need({"CUSTOM_PHYSNET_B", "CUSTOM_PHYSNET_C"}), need({"CUSTOM_SLOW"})}),
            (Strings{"pfC:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf({need({"CUSTOM_PHYSNET_D"})}), Strings{});
  // EGR from nic and IGR from br would fit, but a granular group never combines providers.
  EXPECT_EQ(rendered(run({group("1", {{kEgr, 600}, {kIgr, 600}})})),
            (Strings{"br:NET_BW_EGR_KILOBIT_PER_SEC=600,NET_BW_IGR_KILOBIT_PER_SEC=600"}));
}

// cn -> pf1 (2 VF), pf2 (1 VF); resources1=VF:1 & resources2=VF:1.
// none: (pf1,pf1) sums to 2 <= 2; (pf1,pf2) and (pf2,pf1) differ by mappings; (pf2,pf2) sums to
// 2 > 1. isolate: the two groups need distinct providers.
TEST_F(CandidatesEngineTest, GroupPolicyNoneAndIsolate) {
  add("cn", "", {{"VCPU", inv(4)}});
  add("pf1", "cn", {{kVf, inv(2)}});
  add("pf2", "cn", {{kVf, inv(1)}});
  CandidateRequest req;
  req.groups = {group("1", {{kVf, 1}}), group("2", {{kVf, 1}})};
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | 1=pf1 2=pf2",
                     "pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | 1=pf2 2=pf1",
                     "pf1:SRIOV_NET_VF=2 | 1=pf1 2=pf1"}));
  req.isolate = true;
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | 1=pf1 2=pf2",
                     "pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | 1=pf2 2=pf1"}));
  // The unsuffixed group may overlap a granular one even with isolate.
  req.groups = {group("", {{kVf, 1}}), group("1", {{kVf, 1}})};
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | ''=pf1 1=pf2",
                     "pf1:SRIOV_NET_VF=1 pf2:SRIOV_NET_VF=1 | ''=pf2 1=pf1",
                     "pf1:SRIOV_NET_VF=2 | ''=pf1 1=pf1"}));
}

// Amounts of one class from several groups on one provider are summed, then checked against
// used + sum <= capacity and sum <= max_unit (min_unit / step_size are not re-checked).
TEST_F(CandidatesEngineTest, SummedAmountsRespectCapacityAndMaxUnit) {
  add("cnA", "", {{"VCPU", Inventory{.total = 4, .maxUnit = 3}}});
  add("cnB", "", {{"VCPU", inv(4)}});
  add("cnC", "", {{"VCPU", inv(4)}});
  ASSERT_TRUE(claim({{"cnC", {{"VCPU", 1}}}}));
  add("cnD", "", {{"VCPU", Inventory{.total = 4, .stepSize = 2}}});
  // cnA: 4 > max_unit 3; cnC: 1 used + 4 > 4; cnD: 2 + 2 = 4, step 2 holds per group.
  auto r = run({group("", {{"VCPU", 2}}), group("1", {{"VCPU", 2}})});
  EXPECT_EQ(rendered(r, true), (Strings{"cnB:VCPU=4 | ''=cnB 1=cnB", "cnD:VCPU=4 | ''=cnD 1=cnD"}));
}

// cn1, cn2 in aggregate A, cn3 in none; ss shares DISK_GB via A. The unsuffixed group takes DISK
// from ss for the trees ss is associated with; a granular group gets ss once per anchor.
TEST_F(CandidatesEngineTest, SharingProviderServesTreesOfItsAggregate) {
  add("cn1", "", {{"VCPU", inv(4)}}, {}, {kAggA});
  add("cn2", "", {{"VCPU", inv(4)}}, {}, {kAggA});
  add("cn3", "", {{"VCPU", inv(4)}});
  add("ss", "", {{"DISK_GB", inv(100)}}, {"MISC_SHARES_VIA_AGGREGATE"}, {kAggA});

  auto r = run({group("", {{"VCPU", 1}, {"DISK_GB", 10}})});
  EXPECT_EQ(rendered(r), (Strings{"cn1:VCPU=1 ss:DISK_GB=10", "cn2:VCPU=1 ss:DISK_GB=10"}));
  EXPECT_EQ(summaries(r), (std::set<std::string>{"cn1", "cn2", "ss"}));

  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}}), group("1", {{"DISK_GB", 10}})};
  EXPECT_EQ(rendered(run(req), true), (Strings{"cn1:VCPU=1 ss:DISK_GB=10 | ''=cn1 1=ss",
                                               "cn2:VCPU=1 ss:DISK_GB=10 | ''=cn2 1=ss"}));
  // ss alone serves ss's own tree and cn1's and cn2's: one answer, not three (the answer is a
  // set; anchors are not part of a request).
  EXPECT_EQ(rendered(run({group("", {{"DISK_GB", 10}})}), true),
            (Strings{"ss:DISK_GB=10 | ''=ss"}));
  // Once ss is full, nobody gets disk.
  ASSERT_TRUE(claim({{"ss", {{"DISK_GB", 95}}}}));
  EXPECT_TRUE(run({group("", {{"VCPU", 1}, {"DISK_GB", 10}})}).requests.empty());
}

// member_of: for the unsuffixed group the provider or its root must be in the aggregates (an
// aggregate on the root spans the tree); a granular group's provider must be in them itself.
// Forbidden aggregates exclude the provider when it, or (unsuffixed) its root, is in them.
TEST_F(CandidatesEngineTest, MemberOfSpansTheTreeOnlyForTheUnsuffixedGroup) {
  add("cn1", "", {{"VCPU", inv(4)}}, {}, {kAggA});
  add("pf1", "cn1", {{kVf, inv(4)}});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("pf2", "cn2", {{kVf, inv(4)}}, {}, {kAggA});
  add("cn3", "", {{"VCPU", inv(4)}});
  add("pf3", "cn3", {{kVf, inv(4)}});

  auto vf = [&](const std::string& suffix, std::vector<SetTerm> memberOf) {
    return rendered(run({group(suffix, {{kVf, 1}}, {}, std::move(memberOf))}));
  };
  EXPECT_EQ(vf("", {need({kAggA})}), (Strings{"pf1:SRIOV_NET_VF=1", "pf2:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("1", {need({kAggA})}), (Strings{"pf2:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("", {forbid({kAggA})}), (Strings{"pf3:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("1", {forbid({kAggA})}), (Strings{"pf1:SRIOV_NET_VF=1", "pf3:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("", {need({kAggA, kAggB})}), (Strings{"pf1:SRIOV_NET_VF=1", "pf2:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("", {need({kAggB})}), Strings{});
}

// Repeated member_of terms are ANDed on one provider: the provider matches them all, or its root
// matches them all (cn4 in B with pf4 in A matches neither way).
TEST_F(CandidatesEngineTest, RepeatedMemberOfTermsMustAllHoldOnTheProviderOrAllOnItsRoot) {
  add("cn4", "", {{"VCPU", inv(4)}}, {}, {kAggB});
  add("pf4", "cn4", {{kVf, inv(4)}}, {}, {kAggA});
  add("cn5", "", {{"VCPU", inv(4)}}, {}, {kAggA, kAggB});
  add("pf5", "cn5", {{kVf, inv(4)}});
  auto r = run({group("", {{kVf, 1}}, {}, {need({kAggA}), need({kAggB})})});
  EXPECT_EQ(rendered(r), (Strings{"pf5:SRIOV_NET_VF=1"}));
}

// root_required filters the anchors (roots) by their own traits.
TEST_F(CandidatesEngineTest, RootRequiredFiltersAnchorRoots) {
  add("cn1", "", {{"VCPU", inv(4)}}, {"COMPUTE_STATUS_DISABLED"});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("cn3", "", {{"VCPU", inv(4)}});
  add("c3", "cn3", {}, {"CUSTOM_X"});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}})};
  req.rootRequired = {forbid({"COMPUTE_STATUS_DISABLED"})};
  EXPECT_EQ(rendered(run(req)), (Strings{"cn2:VCPU=1", "cn3:VCPU=1"}));
  req.rootRequired = {need({"CUSTOM_X"})};  // on a child, not a root
  EXPECT_EQ(rendered(run(req)), Strings{});
  req.rootRequired = {need({"COMPUTE_STATUS_DISABLED"})};
  EXPECT_EQ(rendered(run(req)), (Strings{"cn1:VCPU=1"}));
}

// host -> ovs (VNIC_NORMAL) -> br0 (EGR, PHYSNET0); host -> sriov (VNIC_DIRECT) -> nic0 (EGR,
// PHYSNET0). same_subtree=_port,_agent: the resourceless _agent group (ovs) must be an ancestor-
// or-self of the _port provider, which leaves br0 and drops nic0.
TEST_F(CandidatesEngineTest, SameSubtreeWithAResourcelessGroup) {
  add("host", "", {{"VCPU", inv(4)}});
  add("ovs", "host", {}, {"CUSTOM_VNIC_TYPE_NORMAL"});
  add("br0", "ovs", {{kEgr, inv(1000)}}, {"CUSTOM_PHYSNET_PHYSNET0"});
  add("sriov", "host", {}, {"CUSTOM_VNIC_TYPE_DIRECT"});
  add("nic0", "sriov", {{kEgr, inv(1000)}}, {"CUSTOM_PHYSNET_PHYSNET0"});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}}),
                group("_port", {{kEgr, 100}}, {need({"CUSTOM_PHYSNET_PHYSNET0"})}),
                group("_agent", {}, {need({"CUSTOM_VNIC_TYPE_NORMAL"})})};
  req.isolate = true;
  // Without same_subtree the agent group (ovs) combines with either port provider.
  EXPECT_EQ(
      rendered(run(req), true),
      (Strings{"br0:NET_BW_EGR_KILOBIT_PER_SEC=100 host:VCPU=1 | ''=host _agent=ovs _port=br0",
               "host:VCPU=1 nic0:NET_BW_EGR_KILOBIT_PER_SEC=100 | ''=host _agent=ovs "
               "_port=nic0"}));
  req.sameSubtree = {{"_port", "_agent"}};
  auto r = run(req);
  EXPECT_EQ(rendered(r, true),
            (Strings{"br0:NET_BW_EGR_KILOBIT_PER_SEC=100 host:VCPU=1 | ''=host _agent=ovs "
                     "_port=br0"}));
  EXPECT_EQ(summaries(r), (std::set<std::string>{"br0", "host", "nic0", "ovs", "sriov"}));
  // A same_subtree whose members are all one provider holds trivially.
  req.sameSubtree = {{"_port"}};
  EXPECT_EQ(run(req).requests.size(), 2u);
}

// in_tree (any provider of the tree) restricts a group to that tree; an unknown uuid gives
// nothing.
TEST_F(CandidatesEngineTest, InTreeRestrictsAGroupToOneTree) {
  add("cn1", "", {{"VCPU", inv(4)}});
  add("pf1", "cn1", {{kVf, inv(4)}});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("pf2", "cn2", {{kVf, inv(4)}});
  RequestGroup g = group("1", {{kVf, 1}});
  g.inTree = uuid("pf2");
  EXPECT_EQ(rendered(run({g})), (Strings{"pf2:SRIOV_NET_VF=1"}));
  g = group("", {{"VCPU", 1}, {kVf, 1}});
  g.inTree = uuid("cn1");
  EXPECT_EQ(rendered(run({g})), (Strings{"cn1:VCPU=1 pf1:SRIOV_NET_VF=1"}));
  g.inTree = uuid4().toString();
  EXPECT_TRUE(run({g}).requests.empty());
}

// Any group without candidates empties the whole answer; so does a group whose candidates share
// no anchor with the others'.
TEST_F(CandidatesEngineTest, EveryGroupMustBeSatisfiedUnderOneAnchor) {
  add("cn1", "", {{"VCPU", inv(4)}});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("pf2", "cn2", {{kVf, inv(4)}});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}}), group("1", {{kVf, 1}})};
  EXPECT_EQ(rendered(run(req)), (Strings{"cn2:VCPU=1 pf2:SRIOV_NET_VF=1"}));
  req.groups.push_back(group("2", {{"PCI_DEVICE", 1}}));
  req.isolate = true;
  auto r = run(req);
  EXPECT_TRUE(r.requests.empty());
  EXPECT_TRUE(r.summaries.empty());
}

// limit keeps the first N and trims the summaries to the trees of the kept requests.
TEST_F(CandidatesEngineTest, LimitKeepsNAndTrimsSummaries) {
  for (int i = 0; i < 5; ++i) add("cn" + std::to_string(i), "", {{"VCPU", inv(4)}});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}})};
  EXPECT_EQ(run(req).requests.size(), 5u);
  req.limit = 2;
  auto r = run(req);
  ASSERT_EQ(r.requests.size(), 2u);
  std::set<std::string> used;
  for (const auto& a : r.requests) used.insert(names_.at(a.allocations.begin()->first));
  EXPECT_EQ(summaries(r), used);
  // Randomised: still N, still trimmed.
  req.randomize = true;
  r = run(req);
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.summaries.size(), 2u);
}

// Results are computed from what is committed: a claim is never offered again.
TEST_F(CandidatesEngineTest, ClaimThenRequeryNeverOffersWhatWasTaken) {
  add("cn1", "", {{"VCPU", inv(2)}});
  add("cn2", "", {{"VCPU", inv(2)}});
  auto vcpu = [&](int64_t n) { return rendered(run({group("", {{"VCPU", n}})})); };
  EXPECT_EQ(vcpu(2), (Strings{"cn1:VCPU=2", "cn2:VCPU=2"}));
  ASSERT_TRUE(claim({{"cn1", {{"VCPU", 2}}}}));
  EXPECT_EQ(vcpu(2), (Strings{"cn2:VCPU=2"}));
  ASSERT_TRUE(claim({{"cn2", {{"VCPU", 1}}}}));
  EXPECT_EQ(vcpu(2), Strings{});
  EXPECT_EQ(vcpu(1), (Strings{"cn2:VCPU=1"}));
}

// Concurrent schedulers: query, claim one candidate, repeat until nothing is offered.
// Every unit is claimed exactly once; no provider is over-allocated; a query that starts after
// a claim committed never offers the units it took.
TEST_F(CandidatesEngineTest, ConcurrentClaimsExhaustCapacityExactly) {
  constexpr int kHosts = 4;
  constexpr int64_t kVcpus = 8;
  for (int i = 0; i < kHosts; ++i) add("cn" + std::to_string(i), "", {{"VCPU", inv(kVcpus)}});
  std::atomic<int> ok{0};
  std::atomic<int> staleOffers{0};
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}})};
  // Queries and checks every offer against the usage seen under the same read lock.
  auto query = [&] {
    CandidateResult r;
    model_.withReadLock([&](const PlacementModel& m) {
      r = findCandidates(m, req);
      for (const auto& a : r.requests) {
        for (const auto& [rp, amounts] : a.allocations) {
          const auto& usage = m.usageUnlocked();
          auto it = usage.find(rp);
          int64_t u = 0;
          if (it != usage.end() && it->second.count("VCPU")) u = it->second.at("VCPU");
          if (u + amounts.at("VCPU") > kVcpus) ++staleOffers;
        }
      }
    });
    return r;
  };
  auto worker = [&](size_t n) {
    while (true) {
      auto r = query();
      if (r.requests.empty()) return;
      AllocationWrite w;
      w.consumerUuid = uuid4().toString();
      w.allocations = r.requests[n % r.requests.size()].allocations;
      w.projectId = "p";
      w.userId = "u";
      if (model_.writeAllocations({w})) ++ok;  // else lost a race: query again
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 4; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kHosts * kVcpus);
  EXPECT_EQ(staleOffers.load(), 0);
  for (int i = 0; i < kHosts; ++i) {
    EXPECT_EQ(model_.providerUsage(uuid("cn" + std::to_string(i))).at("VCPU"), kVcpus);
  }
}

// With a limit and no sharing provider the engine visits trees one at a time and stops early:
// the answer is the first N of the full answer's candidates, and the summaries cover exactly the
// trees used. Hosts 0 and 1 are full, so the search has to skip their trees.
TEST_F(CandidatesEngineTest, LimitedSearchWithoutSharingTakesCandidatesTreeByTree) {
  for (int h = 0; h < 6; ++h) {
    std::string host = "h" + std::to_string(h);
    add(host, "", {{"VCPU", inv(4)}});
    add(host + "ovs", host, {}, {"CUSTOM_VNIC_TYPE_NORMAL"});
    add(host + "sriov", host, {}, {"CUSTOM_VNIC_TYPE_DIRECT"});
    for (int n = 0; n < 2; ++n) {
      std::string physnet = "CUSTOM_PHYSNET_PHYSNET" + std::to_string(n);
      add(host + "br" + std::to_string(n), host + "ovs", {{kEgr, inv(1000)}},
          {physnet, "CUSTOM_VNIC_TYPE_NORMAL"});
      add(host + "nic" + std::to_string(n), host + "sriov", {{kEgr, inv(1000)}},
          {physnet, "CUSTOM_VNIC_TYPE_DIRECT"});
    }
    if (h < 2) {
      ASSERT_TRUE(claim({{host, {{"VCPU", 4}}}}));
    }
  }
  auto port = [](const std::string& suffix, int physnet) {
    return group(suffix, {{kEgr, 100}},
                 {need({"CUSTOM_PHYSNET_PHYSNET" + std::to_string(physnet)}),
                  need({"CUSTOM_VNIC_TYPE_NORMAL"})});
  };
  std::vector<CandidateRequest> requests(3);
  requests[0].groups = {group("", {{"VCPU", 1}}), port("1", 0)};
  requests[1].groups = {group("", {{"VCPU", 1}}), port("1", 0),
                        group("_agent", {}, {need({"CUSTOM_VNIC_TYPE_NORMAL"})})};
  requests[1].sameSubtree = {{"1", "_agent"}};
  requests[2].groups = {group("", {{"VCPU", 1}}), port("1", 0), port("2", 1)};
  requests[2].isolate = true;
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    Strings all = rendered(run(requests[i]), true);
    ASSERT_FALSE(all.empty());
    for (size_t limit : {1, 3, 100}) {
      CandidateRequest lazy = requests[i];
      lazy.sharingPossible = false;
      lazy.limit = limit;
      Found r = run(lazy);
      Strings some = rendered(r, true);
      EXPECT_EQ(some.size(), std::min(limit, all.size()));
      std::set<std::string> hosts;
      for (const auto& s : some) {
        EXPECT_TRUE(std::binary_search(all.begin(), all.end(), s)) << s;
        hosts.insert(s.substr(0, s.find_first_not_of("h0123456789")));
      }
      EXPECT_EQ(r.summaries.size(), 7 * hosts.size());
      EXPECT_EQ(hosts.count("h0") + hosts.count("h1"), 0u);
    }
  }
}

// 8 single-VF children and 8 granular groups (LP 2126751): 8! = 40320 isolated candidates out of
// 8^8 combinations. limit stops the search early; without it every one is found.
TEST_F(CandidatesEngineTest, WideTreeWithManyGroupsStopsAtTheLimit) {
  add("cn", "", {{"VCPU", inv(4)}});
  for (int i = 0; i < 8; ++i) add("pf" + std::to_string(i), "cn", {{kVf, inv(1)}});
  CandidateRequest req;
  for (int i = 1; i <= 8; ++i) req.groups.push_back(group(std::to_string(i), {{kVf, 1}}));
  req.isolate = true;
  req.limit = 1000;
  auto r = run(req);
  ASSERT_EQ(r.requests.size(), 1000u);
  for (const auto& a : r.requests) {
    EXPECT_EQ(a.allocations.size(), 8u);
    std::set<std::string> mapped;
    for (const auto& [suffix, uuids] : a.mappings) mapped.insert(uuids.begin(), uuids.end());
    EXPECT_EQ(mapped.size(), 8u);
  }
  // Every one without a limit (counted on the compact form: 40320 AllocationRequests of strings
  // would cost more than the search).
  auto count = [&] {
    size_t n = 0;
    model_.withReadLock(
        [&](const PlacementModel& m) { n = findCandidateSet(m, req).items.size(); });
    return n;
  };
  req.limit.reset();
  EXPECT_EQ(count(), 40320u);
  // group_policy=none: capacity 1 per child prunes the same way.
  req.isolate = false;
  EXPECT_EQ(count(), 40320u);
}

// Any-of (in:) terms of the unsuffixed group hold on the providers a candidate uses together:
// cn (VCPU, CUSTOM_A) -> numa (MEMORY_MB, CUSTOM_B); cn2 (VCPU, MEMORY_MB, CUSTOM_C).
TEST_F(CandidatesEngineTest, AnyOfTraitsOfTheUnsuffixedGroupHoldOnTheProvidersUsedTogether) {
  add("cn", "", {{"VCPU", inv(4)}}, {"CUSTOM_A"});
  add("numa", "cn", {{"MEMORY_MB", inv(1024)}}, {"CUSTOM_B"});
  add("cn2", "", {{"VCPU", inv(4)}, {"MEMORY_MB", inv(1024)}}, {"CUSTOM_C"});
  auto vm = [&](std::vector<SetTerm> traits) {
    return rendered(run({group("", {{"VCPU", 1}, {"MEMORY_MB", 256}}, std::move(traits))}));
  };
  // cn's tree has B on numa, cn2 has C.
  EXPECT_EQ(vm({need({"CUSTOM_B", "CUSTOM_C"})}),
            (Strings{"cn2:MEMORY_MB=256,VCPU=1", "cn:VCPU=1 numa:MEMORY_MB=256"}));
  // A AND (B or C): only cn's tree has both, A on cn and B on numa.
  EXPECT_EQ(vm({need({"CUSTOM_B", "CUSTOM_C"}), need({"CUSTOM_A"})}),
            (Strings{"cn:VCPU=1 numa:MEMORY_MB=256"}));
  // (A or C) without B: cn's tree needs numa (B) for the memory.
  EXPECT_EQ(vm({need({"CUSTOM_A", "CUSTOM_C"}), forbid({"CUSTOM_B"})}),
            (Strings{"cn2:MEMORY_MB=256,VCPU=1"}));
  // VCPU alone uses cn only: numa's B does not count.
  EXPECT_EQ(rendered(run({group("", {{"VCPU", 1}}, {need({"CUSTOM_B", "CUSTOM_C"})})})),
            (Strings{"cn2:VCPU=1"}));
}

// host -> ovs (VNIC_NORMAL) -> br0 (EGR), br1 (IGR); host -> sriov -> nic0 (EGR, IGR).
// same_subtree holds when one provider mapped to its groups is an ancestor-or-self of all the
// others: two siblings fail, a shared provider or their parent (or grandparent) in the set passes.
TEST_F(CandidatesEngineTest, SameSubtreeNeedsOneMappedProviderAboveAllTheOthers) {
  add("host", "", {{"VCPU", inv(4)}}, {"CUSTOM_HOST"});
  add("ovs", "host", {}, {"CUSTOM_VNIC_TYPE_NORMAL"});
  add("br0", "ovs", {{kEgr, inv(1000)}});
  add("br1", "ovs", {{kIgr, inv(1000)}});
  add("sriov", "host");
  add("nic0", "sriov", {{kEgr, inv(1000)}, {kIgr, inv(1000)}});
  CandidateRequest req;
  req.groups = {group("_e", {{kEgr, 100}}), group("_i", {{kIgr, 100}})};
  auto all = rendered(run(req), true);
  ASSERT_EQ(all.size(), 4u);  // {br0, nic0} x {br1, nic0}
  req.sameSubtree = {{"_e", "_i"}};
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"nic0:NET_BW_EGR_KILOBIT_PER_SEC=100,NET_BW_IGR_KILOBIT_PER_SEC=100 | "
                     "_e=nic0 _i=nic0"}));
  // The ovs agent (resourceless) in the set: br0 and br1 are both below it.
  req.groups.push_back(group("_a", {}, {need({"CUSTOM_VNIC_TYPE_NORMAL"})}));
  req.sameSubtree = {{"_e", "_i", "_a"}};
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"br0:NET_BW_EGR_KILOBIT_PER_SEC=100 br1:NET_BW_IGR_KILOBIT_PER_SEC=100 | "
                     "_a=ovs _e=br0 _i=br1"}));
  // Two sets, checked one by one: _e under ovs, _i anywhere.
  req.sameSubtree = {{"_e", "_a"}, {"_i"}};
  EXPECT_EQ(rendered(run(req), true),
            (Strings{"br0:NET_BW_EGR_KILOBIT_PER_SEC=100 br1:NET_BW_IGR_KILOBIT_PER_SEC=100 | "
                     "_a=ovs _e=br0 _i=br1",
                     "br0:NET_BW_EGR_KILOBIT_PER_SEC=100 nic0:NET_BW_IGR_KILOBIT_PER_SEC=100 | "
                     "_a=ovs _e=br0 _i=nic0"}));
  // The root two levels up is an ancestor of every one of them.
  req.groups.back() = group("_a", {}, {need({"CUSTOM_HOST"})});
  req.sameSubtree = {{"_e", "_i", "_a"}};
  EXPECT_EQ(run(req).requests.size(), 4u);
}

// Issue 18, Neutron's port with a minimum bandwidth and a minimum packet rate: the packet rate
// (vnic trait only) is on the Open vSwitch agent provider, so same_subtree keeps the bandwidth on a
// device below that agent; without it a direct port's bandwidth could land on the SR-IOV PF while
// its packet rate sits on OVS, two agents for one port.
TEST_F(CandidatesEngineTest, SameSubtreeKeepsAPortsBandwidthUnderItsPacketRatesAgent) {
  constexpr const char* kPps = "NET_PACKET_RATE_KILOPACKET_PER_SEC";
  add("host");
  add("ovs", "host", {{kPps, inv(1000)}}, {"CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT"});
  add("br0", "ovs", {{kEgr, inv(1000)}},
      {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT"});
  add("sriov", "host");
  add("nic0", "sriov", {{kEgr, inv(1000)}}, {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_DIRECT"});
  CandidateRequest req;
  req.groups = {group("bw", {{kEgr, 100}},
                      {need({"CUSTOM_PHYSNET_PHYSNET0"}), need({"CUSTOM_VNIC_TYPE_DIRECT"})}),
                group("pps", {{kPps, 600}}, {need({"CUSTOM_VNIC_TYPE_DIRECT"})})};
  EXPECT_EQ(run(req).requests.size(), 2u);  // bw on br0 or nic0
  req.sameSubtree = {{"bw", "pps"}};
  EXPECT_EQ(
      rendered(run(req), true),
      (Strings{"br0:NET_BW_EGR_KILOBIT_PER_SEC=100 ovs:NET_PACKET_RATE_KILOPACKET_PER_SEC=600 "
               "| bw=br0 pps=ovs"}));
  // Once the agent's packet rate is taken, nothing fits, whatever bandwidth is left.
  ASSERT_TRUE(claim({{"ovs", {{kPps, 600}}}}));
  EXPECT_TRUE(run(req).requests.empty());
}

// cn1 in A, cn2 in A and B (VCPU); ss1 in A and ss2 in B share DISK_GB. A sharing provider serves
// the group only when it is itself in the required aggregates (cn2 in A does not bring ss2 in);
// root_required filters the anchors, not the sharing provider's own root; in_tree turns sharing
// off for its group.
TEST_F(CandidatesEngineTest, SharingProvidersWithMemberOfRootRequiredAndInTree) {
  add("cn1", "", {{"VCPU", inv(4)}}, {}, {kAggA});
  add("cn2", "", {{"VCPU", inv(4)}}, {"CUSTOM_GOOD"}, {kAggA, kAggB});
  add("ss1", "", {{"DISK_GB", inv(100)}}, {"MISC_SHARES_VIA_AGGREGATE"}, {kAggA});
  add("ss2", "", {{"DISK_GB", inv(100)}}, {"MISC_SHARES_VIA_AGGREGATE"}, {kAggB});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}, {"DISK_GB", 10}})};
  EXPECT_EQ(rendered(run(req)), (Strings{"cn1:VCPU=1 ss1:DISK_GB=10", "cn2:VCPU=1 ss1:DISK_GB=10",
                                         "cn2:VCPU=1 ss2:DISK_GB=10"}));
  req.groups[0].memberOf = {need({kAggA})};
  EXPECT_EQ(rendered(run(req)),
            (Strings{"cn1:VCPU=1 ss1:DISK_GB=10", "cn2:VCPU=1 ss1:DISK_GB=10"}));
  req.groups[0].memberOf = {need({kAggB})};
  EXPECT_EQ(rendered(run(req)), (Strings{"cn2:VCPU=1 ss2:DISK_GB=10"}));
  req.groups[0].memberOf.clear();
  req.rootRequired = {need({"CUSTOM_GOOD"})};
  auto r = run(req);
  EXPECT_EQ(rendered(r), (Strings{"cn2:VCPU=1 ss1:DISK_GB=10", "cn2:VCPU=1 ss2:DISK_GB=10"}));
  EXPECT_EQ(summaries(r), (std::set<std::string>{"cn2", "ss1", "ss2"}));
  req.rootRequired.clear();
  req.groups[0].inTree = uuid("cn2");
  EXPECT_TRUE(run(req).requests.empty());
  req.groups[0] = group("", {{"VCPU", 1}});
  req.groups[0].inTree = uuid("cn2");
  req.groups.push_back(group("1", {{"DISK_GB", 10}}));  // a granular group still gets sharing
  EXPECT_EQ(rendered(run(req), true), (Strings{"cn2:VCPU=1 ss1:DISK_GB=10 | ''=cn2 1=ss1",
                                               "cn2:VCPU=1 ss2:DISK_GB=10 | ''=cn2 1=ss2"}));
}

// Forbidden aggregates, any-of (!in:A,B) and mixed with a required one. cn1 (A) -> pf1;
// cn2 -> pf2 (B); cn3 -> pf3 (A, B). Unsuffixed: the provider or its root is in none of them;
// granular: the provider itself.
TEST_F(CandidatesEngineTest, ForbiddenAggregatesAnyOfAndMixedWithRequired) {
  add("cn1", "", {{"VCPU", inv(4)}}, {}, {kAggA});
  add("pf1", "cn1", {{kVf, inv(4)}});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("pf2", "cn2", {{kVf, inv(4)}}, {}, {kAggB});
  add("cn3", "", {{"VCPU", inv(4)}});
  add("pf3", "cn3", {{kVf, inv(4)}}, {}, {kAggA, kAggB});
  add("cn4", "", {{"VCPU", inv(4)}});
  add("pf4", "cn4", {{kVf, inv(4)}});
  auto vf = [&](const std::string& suffix, std::vector<SetTerm> memberOf) {
    return rendered(run({group(suffix, {{kVf, 1}}, {}, std::move(memberOf))}));
  };
  EXPECT_EQ(vf("", {forbid({kAggA, kAggB})}), (Strings{"pf4:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("1", {forbid({kAggA, kAggB})}),
            (Strings{"pf1:SRIOV_NET_VF=1", "pf4:SRIOV_NET_VF=1"}));
  // In A (itself or by its root) and not in B.
  EXPECT_EQ(vf("", {need({kAggA}), forbid({kAggB})}), (Strings{"pf1:SRIOV_NET_VF=1"}));
  EXPECT_EQ(vf("1", {need({kAggA}), forbid({kAggB})}), Strings{});
  // Two forbidden terms are the same as one any-of term.
  EXPECT_EQ(vf("", {forbid({kAggA}), forbid({kAggB})}), (Strings{"pf4:SRIOV_NET_VF=1"}));
}

// A resourceless group matches providers by traits and aggregates alone, inventory or not, and
// counts as a granular group for isolate. host (VCPU, CUSTOM_HOST) -> pf (VF, CUSTOM_PHYSNET_A,
// in A).
TEST_F(CandidatesEngineTest, ResourcelessGroupsMatchTraitsAndAggregatesAndCountForIsolate) {
  add("host", "", {{"VCPU", inv(4)}}, {"CUSTOM_HOST"});
  add("pf", "host", {{kVf, inv(4)}}, {"CUSTOM_PHYSNET_A"}, {kAggA});
  CandidateRequest req;
  req.groups = {group("_cn", {}, {need({"CUSTOM_HOST", "CUSTOM_PHYSNET_A"})}),
                group("_net", {{kVf, 1}})};
  req.sameSubtree = {{"_net", "_cn"}};
  EXPECT_EQ(rendered(run(req), true), (Strings{"pf:SRIOV_NET_VF=1 | _cn=host _net=pf",
                                               "pf:SRIOV_NET_VF=1 | _cn=pf _net=pf"}));
  req.isolate = true;
  auto r = run(req);
  EXPECT_EQ(rendered(r, true), (Strings{"pf:SRIOV_NET_VF=1 | _cn=host _net=pf"}));
  EXPECT_EQ(summaries(r), (std::set<std::string>{"host", "pf"}));
  // By aggregate: only pf is in A, which isolate then forbids.
  req.groups[0] = group("_cn", {}, {}, {need({kAggA})});
  EXPECT_TRUE(run(req).requests.empty());
  req.isolate = false;
  EXPECT_EQ(rendered(run(req), true), (Strings{"pf:SRIOV_NET_VF=1 | _cn=pf _net=pf"}));
}

// Without randomize the first N are the same N every time; with it, N sampled from every
// candidate (10 hosts, limit 1, 40 draws: the chance of one host every time is 10^-39).
TEST_F(CandidatesEngineTest, LimitIsStableUnlessRandomizedThenSamplesEveryCandidate) {
  for (int i = 0; i < 10; ++i) add("cn" + std::to_string(i), "", {{"VCPU", inv(4)}});
  CandidateRequest req;
  req.groups = {group("", {{"VCPU", 1}})};
  req.limit = 1;
  std::set<std::string> picked;
  for (int i = 0; i < 40; ++i) picked.insert(rendered(run(req)).at(0));
  EXPECT_EQ(picked.size(), 1u);
  req.randomize = true;
  picked.clear();
  for (int i = 0; i < 40; ++i) picked.insert(rendered(run(req)).at(0));
  EXPECT_GT(picked.size(), 1u);
}

// The engine walks the model's per-class provider index (pointers to its provider nodes): it must
// follow inventory updates (same node), inventory removal and provider deletion.
TEST_F(CandidatesEngineTest, ClassIndexFollowsInventoryUpdatesRemovalsAndDeletes) {
  add("cn1", "", {{"VCPU", inv(4)}});
  add("cn2", "", {{"VCPU", inv(4)}});
  add("cn3", "", {{"MEMORY_MB", inv(1024)}});
  auto vcpu = [&] { return rendered(run({group("", {{"VCPU", 1}})})); };
  EXPECT_EQ(vcpu(), (Strings{"cn1:VCPU=1", "cn2:VCPU=1"}));
  auto gen = [&](const std::string& name) { return model_.getProvider(uuid(name))->generation; };
  ASSERT_TRUE(
      model_.setInventories(uuid("cn3"), gen("cn3"), {{"MEMORY_MB", inv(1024)}, {"VCPU", inv(2)}}));
  ASSERT_TRUE(model_.setInventories(uuid("cn1"), gen("cn1"), {{"MEMORY_MB", inv(512)}}));
  EXPECT_EQ(vcpu(), (Strings{"cn2:VCPU=1", "cn3:VCPU=1"}));
  ASSERT_TRUE(model_.deleteProvider(uuid("cn2")));
  EXPECT_EQ(vcpu(), (Strings{"cn3:VCPU=1"}));
  ASSERT_TRUE(model_.deleteInventories(uuid("cn3")));
  EXPECT_EQ(vcpu(), Strings{});
  EXPECT_EQ(rendered(run({group("", {{"MEMORY_MB", 512}})})), (Strings{"cn1:MEMORY_MB=512"}));
}

}  // namespace
}  // namespace bwfloor::placement
