// GET /allocation_candidates through PlacementApi::handle (no socket, MemoryStore): the response
// shapes per microversion and the 400s of the query grammar (placement-api.md §1.5).

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/uuid.h"
#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement {
namespace {

using nlohmann::json;

struct Answer {  // NOLINT(bugprone-exception-escape): json's constructors may throw
  int status = 0;
  json body;
  // The message inside webob's frame ("<explanation>\n\n <message>  ").
  std::string detail() const {
    std::string d = body["errors"][0].value("detail", "");
    const size_t frame = d.find("\n\n ");
    if (frame != std::string::npos) d.erase(0, frame + 3);
    while (!d.empty() && d.back() == ' ') d.pop_back();
    return d;
  }
  std::string code() const { return body["errors"][0].value("code", "<none>"); }
};

// cn (VCPU 8 with 2 used, MEMORY_MB 4096 - 512 reserved, DISK_GB 100; HW_CPU_X86_AVX)
//   -> pf (SRIOV_NET_VF 4; CUSTOM_PHYSNET_A)
class CandidatesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(model_.load());
    ASSERT_TRUE(model_.createTrait("CUSTOM_PHYSNET_A").has_value());
    auto cn = model_.createProvider("cn", std::nullopt, std::nullopt);
    ASSERT_TRUE(cn.has_value());
    cn_ = cn->uuid;
    auto pf = model_.createProvider("pf", std::nullopt, cn_);
    ASSERT_TRUE(pf.has_value());
    pf_ = pf->uuid;
    auto c = model_.setInventories(cn_, 0,
                                   {{"VCPU", Inventory{.total = 8}},
                                    {"MEMORY_MB", Inventory{.total = 4096, .reserved = 512}},
                                    {"DISK_GB", Inventory{.total = 100}}});
    ASSERT_TRUE(c.has_value());
    ASSERT_TRUE(model_.setTraits(cn_, c->generation, {"HW_CPU_X86_AVX"}).has_value());
    auto p = model_.setInventories(pf_, 0, {{"SRIOV_NET_VF", Inventory{.total = 4}}});
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(model_.setTraits(pf_, p->generation, {"CUSTOM_PHYSNET_A"}).has_value());
    ASSERT_EQ(put(uuid4().toString(), {{cn_, {{"VCPU", 2}}}}).status, 204);
  }

  Answer send(const std::string& method, const std::string& path, const std::string& query,
              const std::string& version, const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.path = "/placement" + path;
    req.query = query;
    req.target = req.path + (query.empty() ? "" : "?" + query);
    req.headers.add("X-Auth-Token", "admin");
    req.headers.add("Accept", "application/json");
    if (!version.empty()) req.headers.add("OpenStack-API-Version", "placement " + version);
    if (!body.empty()) req.headers.add("Content-Type", "application/json");
    req.body = body;
    http::Response resp = api_.handle(req);
    Answer a;
    a.status = resp.status;
    a.body = json::parse(resp.body, nullptr, false);
    return a;
  }
  Answer get(const std::string& query, const std::string& version = "1.39") {
    return send("GET", "/allocation_candidates", query, version);
  }
  // PUT /allocations/{consumer} at 1.28: rp -> {rc: n}.
  Answer put(const std::string& consumer, const json& allocations) {
    json allocs = json::object();
    for (const auto& [rp, resources] : allocations.items()) allocs[rp] = {{"resources", resources}};
    json body = {{"allocations", allocs},
                 {"project_id", "p"},
                 {"user_id", "u"},
                 {"consumer_generation", nullptr}};
    return send("PUT", "/allocations/" + consumer, "", "1.28", body.dump());
  }

  json cnSummary(const json& resources) const { return {{"resources", resources}}; }

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PlacementModel model_{store_};
  PlacementApi api_{model_, ApiOptions{}};
  std::string cn_;
  std::string pf_;
};

TEST_F(CandidatesApiTest, ListShapeBefore1_12AndDictShapeFrom1_12) {
  // Below 1.29 a nested tree is seen one provider at a time; summaries list the providers used,
  // with the requested classes only, without traits.
  json summaries = {{cn_, cnSummary({{"VCPU", {{"capacity", 8}, {"used", 2}}}})}};
  Answer a = get("resources=VCPU:1", "1.10");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body,
            json({{"allocation_requests",
                   {{{"allocations",
                      {{{"resource_provider", {{"uuid", cn_}}}, {"resources", {{"VCPU", 1}}}}}}}}},
                  {"provider_summaries", summaries}}));
  a = get("resources=VCPU:1", "1.12");
  EXPECT_EQ(
      a.body,
      json({{"allocation_requests", {{{"allocations", {{cn_, {{"resources", {{"VCPU", 1}}}}}}}}}},
            {"provider_summaries", summaries}}));
}

TEST_F(CandidatesApiTest, SummariesGainTraitsAt1_17AllClassesAt1_27AndTreesAt1_29) {
  json vcpuOnly = {{"VCPU", {{"capacity", 8}, {"used", 2}}}};
  Answer a = get("resources=VCPU:1", "1.17");
  EXPECT_EQ(a.body["provider_summaries"],
            json({{cn_, {{"resources", vcpuOnly}, {"traits", {"HW_CPU_X86_AVX"}}}}}));
  EXPECT_EQ(get("resources=VCPU:1", "1.26").body["provider_summaries"],
            a.body["provider_summaries"]);

  json all = {{"VCPU", {{"capacity", 8}, {"used", 2}}},
              {"MEMORY_MB", {{"capacity", 3584}, {"used", 0}}},
              {"DISK_GB", {{"capacity", 100}, {"used", 0}}}};
  a = get("resources=VCPU:1", "1.27");
  EXPECT_EQ(a.body["provider_summaries"],
            json({{cn_, {{"resources", all}, {"traits", {"HW_CPU_X86_AVX"}}}}}));

  // 1.29: the whole tree, with parent and root.
  a = get("resources=VCPU:1", "1.29");
  json pfSummary = {{"resources", {{"SRIOV_NET_VF", {{"capacity", 4}, {"used", 0}}}}},
                    {"traits", {"CUSTOM_PHYSNET_A"}},
                    {"parent_provider_uuid", cn_},
                    {"root_provider_uuid", cn_}};
  EXPECT_EQ(a.body["provider_summaries"], json({{cn_,
                                                 {{"resources", all},
                                                  {"traits", {"HW_CPU_X86_AVX"}},
                                                  {"parent_provider_uuid", nullptr},
                                                  {"root_provider_uuid", cn_}}},
                                                {pf_, pfSummary}}));
  EXPECT_FALSE(a.body["allocation_requests"][0].contains("mappings"));
}

TEST_F(CandidatesApiTest, MappingsFrom1_34) {
  Answer a =
      get("resources=VCPU:1&resources_NET=SRIOV_NET_VF:1&required_NET=CUSTOM_PHYSNET_A", "1.34");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["allocation_requests"], json({{{"allocations",
                                                   {{cn_, {{"resources", {{"VCPU", 1}}}}},
                                                    {pf_, {{"resources", {{"SRIOV_NET_VF", 1}}}}}}},
                                                  {"mappings", {{"", {cn_}}, {"_NET", {pf_}}}}}}));
  // Before 1.33 a string suffix is an unknown parameter.
  EXPECT_EQ(get("resources=VCPU:1&resources_NET=SRIOV_NET_VF:1", "1.32").status, 400);
}

TEST_F(CandidatesApiTest, NothingFitsIsAnEmptyAnswer) {
  for (const char* v : {"1.10", "1.12", "1.29", "1.39"}) {
    Answer a = get("resources=VCPU:7", v);  // 2 of 8 used
    ASSERT_EQ(a.status, 200) << v;
    EXPECT_EQ(a.body, json({{"allocation_requests", json::array()},
                            {"provider_summaries", json::object()}}))
        << v;
  }
  EXPECT_EQ(get("resources=VCPU:1&member_of=" + uuid4().toString()).body["allocation_requests"],
            json::array());
  EXPECT_EQ(get("resources=VCPU:1&in_tree=" + uuid4().toString()).body["allocation_requests"],
            json::array());
}

TEST_F(CandidatesApiTest, ClaimThenRequery) {
  EXPECT_EQ(get("resources=VCPU:6").body["allocation_requests"].size(), 1u);
  ASSERT_EQ(put(uuid4().toString(), {{cn_, {{"VCPU", 5}}}}).status, 204);
  EXPECT_EQ(get("resources=VCPU:6").body["allocation_requests"], json::array());
  Answer a = get("resources=VCPU:1");
  ASSERT_EQ(a.body["allocation_requests"].size(), 1u);
  EXPECT_EQ(a.body["provider_summaries"][cn_]["resources"]["VCPU"],
            json({{"capacity", 8}, {"used", 7}}));
}

// Summaries are cached by provider revision (allocation_candidates_handler.cpp): every write
// that changes what a summary shows must show in the next answer.
TEST_F(CandidatesApiTest, SummariesFollowUsageTraitsInventoriesAndShape) {
  auto summary = [&](const std::string& version = "1.39") {
    return get("resources=VCPU:1", version).body["provider_summaries"][cn_];
  };
  EXPECT_EQ(summary()["resources"]["VCPU"], json({{"capacity", 8}, {"used", 2}}));
  std::string consumer = uuid4().toString();
  ASSERT_EQ(put(consumer, {{cn_, {{"VCPU", 3}}}}).status, 204);
  EXPECT_EQ(summary()["resources"]["VCPU"], json({{"capacity", 8}, {"used", 5}}));
  ASSERT_EQ(send("DELETE", "/allocations/" + consumer, "", "1.28").status, 204);
  EXPECT_EQ(summary()["resources"]["VCPU"], json({{"capacity", 8}, {"used", 2}}));

  auto cn = model_.getProvider(cn_);
  ASSERT_TRUE(cn.has_value());
  auto traited = model_.setTraits(cn_, cn->generation, {"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2"});
  ASSERT_TRUE(traited.has_value());
  EXPECT_EQ(summary()["traits"], json({"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2"}));
  auto inv = model_.setInventory(cn_, traited->generation, "VCPU", Inventory{.total = 16});
  ASSERT_TRUE(inv.has_value());
  EXPECT_EQ(summary()["resources"]["VCPU"], json({{"capacity", 16}, {"used", 2}}));

  // The 1.29 shape and the one before alternate on the same providers.
  EXPECT_TRUE(summary("1.29").contains("root_provider_uuid"));
  EXPECT_FALSE(summary("1.28").contains("root_provider_uuid"));
  EXPECT_TRUE(summary("1.29").contains("root_provider_uuid"));
}

// A renamed custom class keeps its inventories and usage, and candidates find it by its new name
// only (the engine matches classes by id: the rename must not leave a provider behind).
TEST_F(CandidatesApiTest, ARenamedClassIsFoundByItsNewName) {
  ASSERT_TRUE(model_.createResourceClass("CUSTOM_FOO", true).has_value());
  ASSERT_TRUE(model_.addInventory(pf_, "CUSTOM_FOO", Inventory{.total = 3}).has_value());
  ASSERT_EQ(put(uuid4().toString(), {{pf_, {{"CUSTOM_FOO", 1}}}}).status, 204);
  ASSERT_TRUE(model_.renameResourceClass("CUSTOM_FOO", "CUSTOM_BAR"));
  Answer a = get("resources=CUSTOM_BAR:2");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  ASSERT_EQ(a.body["allocation_requests"].size(), 1u) << a.body.dump();
  EXPECT_EQ(a.body["provider_summaries"][pf_]["resources"]["CUSTOM_BAR"],
            json({{"capacity", 3}, {"used", 1}}));
  EXPECT_EQ(get("resources=CUSTOM_BAR:3").body["allocation_requests"], json::array());
  EXPECT_EQ(get("resources=CUSTOM_FOO:1").status, 400);
}

TEST_F(CandidatesApiTest, LimitTrimsRequestsAndSummaries) {
  auto other = model_.createProvider("cn2", std::nullopt, std::nullopt);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(model_.setInventories(other->uuid, 0, {{"VCPU", Inventory{.total = 8}}}));
  EXPECT_EQ(get("resources=VCPU:1").body["allocation_requests"].size(), 2u);
  Answer a = get("resources=VCPU:1&limit=1");
  ASSERT_EQ(a.body["allocation_requests"].size(), 1u);
  std::string used = a.body["allocation_requests"][0]["allocations"].begin().key();
  // The kept tree only (cn's tree has 2 providers, cn2's one).
  EXPECT_EQ(a.body["provider_summaries"].size(), used == cn_ ? 2u : 1u);
  EXPECT_TRUE(a.body["provider_summaries"].contains(used));
}

struct BadQuery {
  const char* query;
  const char* version;
  const char* code;
  const char* detail;  // exact, or a prefix when it ends with "..."
};

TEST_F(CandidatesApiTest, BadQueriesAre400WithPlacementsCodeAndDetail) {
  const std::vector<BadQuery> cases = {
      {"", "1.10", "<none>",
       "Invalid query string parameters: 'resources' is a required property  Failed validating "
       "'required' in schema:     {'additionalProperties': False,      'properties': "
       "{'resources': {'type': 'string'}},      'required': ['resources'],      'type': "
       "'object'}  On instance:     {}"},
      {"", "1.25", "placement.undefined_code",
       "At least one request group (`resources` or `resources{$S}`) is required."},
      {"", "1.36", "placement.query.missing_value",
       "There must be at least one resources or resources[$S] parameter."},
      {"required_a=CUSTOM_PHYSNET_A&same_subtree=_a", "1.36", "placement.query.missing_value",
       "There must be at least one resources or resources[$S] parameter."},
      {"resources1=VCPU:1&resources2=SRIOV_NET_VF:1", "1.25", "placement.undefined_code",
       "The \"group_policy\" parameter is required when specifying more than one "
       "\"resources{N}\" parameter."},
      {"resources=VCPU:1&required1=CUSTOM_PHYSNET_A", "1.35", "placement.undefined_code",
       "All traits parameters must be associated with resources.  Found the following "
       "orphaned traits keys: required1"},
      {"resources=VCPU:1&member_of1="
       "aaaaaaaa-0000-4000-8000-000000000001",
       "1.25", "placement.undefined_code",
       "All member_of parameters must be associated with resources. Found the following "
       "orphaned member_of keys: member_of1"},
      {"resources1=VCPU:1&required=HW_CPU_X86_AVX", "1.35", "placement.undefined_code",
       "All traits parameters must be associated with resources.  Found the following "
       "orphaned traits keys: required"},
      {"resources=VCPU:1&required1=CUSTOM_PHYSNET_A", "1.36", "placement.query.bad_value",
       "Resourceless suffixed group request should be specified in `same_subtree` query "
       "param: bad group(s) - ['1']."},
      {
          "resources1=VCPU:1&required=HW_CPU_X86_AVX",
          "1.36",
          "placement.query.bad_value",
          "Resourceless suffixed group request should be specified in `same_subtree` query "
          "param: bad group(s) - [''].",
      },
      {"resources_a=VCPU:1&same_subtree=_a,_b", "1.36", "placement.query.bad_value",
       "Real suffixes should be specified in `same_subtree`: ['_b'] not found in ['_a']."},
      {"resources_a=VCPU:1&same_subtree=_a,", "1.36", "placement.query.bad_value",
       "Empty string (unsuffixed group) can not be specified in `same_subtree`"},
      {"resources=CUSTOM_NOPE:1", "1.39", "placement.undefined_code",
       "Invalid resource class in resources parameter: No such resource class CUSTOM_NOPE."},
      {"resources=VCPU:1&required=CUSTOM_NOPE", "1.39", "placement.undefined_code",
       "No such trait(s): CUSTOM_NOPE."},
      {"resources=VCPU:1&root_required=CUSTOM_NOPE", "1.39", "placement.undefined_code",
       "No such trait(s): CUSTOM_NOPE."},
      {"resources=VCPU:1&limit=0", "1.39", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&limit=-1", "1.39", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&limit=ten", "1.39", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&limit=1", "1.15", "<none>", "Invalid query string parameters: ..."},
      {"resources=VCPU:1&root_required=HW_CPU_X86_AVX&root_required=!CUSTOM_PHYSNET_A", "1.35",
       "placement.query.duplicate_key",
       "Query parameter 'root_required' may be specified only once."},
      {"resources=VCPU:1&root_required=in:HW_CPU_X86_AVX", "1.39", "placement.undefined_code",
       "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only "
       "supported since microversion 1.39. Got: in:HW_CPU_X86_AVX"},
      {"resources=VCPU:1&root_required=HW_CPU_X86_AVX,!HW_CPU_X86_AVX", "1.39",
       "placement.query.bad_value",
       "Conflicting required and forbidden traits found in root_required: HW_CPU_X86_AVX"},
      {"resources=VCPU:0", "1.39", "placement.undefined_code", "..."},
      {"resources=VCPU:1&foo=bar", "1.39", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&in_tree1=aaaaaaaa-0000-4000-8000-000000000001&resources1=VCPU:1", "1.30",
       "placement.undefined_code", "Invalid query string parameters: ..."},
      {"resources=VCPU:1&group_policy=mine", "1.39", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      // Parameters before the microversion that introduced them.
      {"resources=VCPU:1&required=HW_CPU_X86_AVX", "1.16", "<none>",
       "Invalid query string parameters: Additional properties are not allowed ('required' was "
       "unexpected)  Failed validating..."},
      {"resources=VCPU:1&member_of=aaaaaaaa-0000-4000-8000-000000000001", "1.20", "<none>",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&resources1=VCPU:1", "1.24", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&root_required=HW_CPU_X86_AVX", "1.34", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources_a=VCPU:1&same_subtree=_a", "1.35", "placement.undefined_code",
       "Invalid query string parameters: ..."},
      {"resources=VCPU:1&required=!HW_CPU_X86_AVX", "1.21", "<none>",
       "Invalid query string parameters: Expected 'required' parameter value of the form: "
       "HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: !HW_CPU_X86_AVX"},
      {"resources=VCPU:1&required=in:HW_CPU_X86_AVX,CUSTOM_PHYSNET_A", "1.38",
       "placement.undefined_code",
       "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only "
       "supported since microversion 1.39. Got: in:HW_CPU_X86_AVX,CUSTOM_PHYSNET_A"},
      {"resources=VCPU:1&member_of=!aaaaaaaa-0000-4000-8000-000000000001", "1.31",
       "placement.undefined_code",
       "Forbidden member_of parameters are not supported in the specified microversion"},
      {"resources1=VCPU:1&member_of1=!aaaaaaaa-0000-4000-8000-000000000001", "1.31",
       "placement.undefined_code",
       "Forbidden member_of1 parameters are not supported in the specified microversion"},
      {"resources=VCPU:1&member_of=aaaaaaaa-0000-4000-8000-000000000001,"
       "bbbbbbbb-0000-4000-8000-000000000002",
       "1.39", "placement.undefined_code",
       "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using "
       "the valid microversion. Got: aaaaaaaa-0000-4000-8000-000000000001,"
       "bbbbbbbb-0000-4000-8000-000000000002"},
      {"resources=VCPU:1&required=HW_CPU_X86_AVX,,CUSTOM_PHYSNET_A", "1.39",
       "placement.undefined_code",
       "Invalid query string parameters: Expected 'required' parameter value of the form: "
       "HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: HW_CPU_X86_AVX,,CUSTOM_PHYSNET_A"},
      {"resources=VCPU:1&required=in:HW_CPU_X86_AVX,!CUSTOM_PHYSNET_A", "1.39",
       "placement.undefined_code",
       "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not "
       "support forbidden traits. Got: in:HW_CPU_X86_AVX,!CUSTOM_PHYSNET_A"},
      {"resources=VCPU:1&required=HW_CPU_X86_AVX,!HW_CPU_X86_AVX", "1.22", "<none>",
       "Conflicting required and forbidden traits found in the following traits keys: "
       "required: (HW_CPU_X86_AVX)"},
      {"resources_A=VCPU:1&required_A=in:HW_CPU_X86_AVX,CUSTOM_PHYSNET_A&required_A=!HW_CPU_X86_AVX"
       "&required_A=!CUSTOM_PHYSNET_A",
       "1.39", "placement.undefined_code",
       "Conflicting required and forbidden traits found in the following traits keys: "
       "required_A: (CUSTOM_PHYSNET_A, HW_CPU_X86_AVX)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.version) + " ?" + c.query);
    Answer a = get(c.query, c.version);
    ASSERT_EQ(a.status, 400) << a.body;
    EXPECT_EQ(a.code(), c.code);
    std::string want = c.detail;
    if (want.size() >= 3 && want.compare(want.size() - 3, 3, "...") == 0) {
      EXPECT_EQ(a.detail().rfind(want.substr(0, want.size() - 3), 0), 0u) << a.detail();
    } else {
      EXPECT_EQ(a.detail(), want);
    }
  }
}

// A resourceless group inside a same_subtree is fine; group_policy is needed with two of them.
TEST_F(CandidatesApiTest, ResourcelessGroupInSameSubtree) {
  Answer a =
      get("resources_NET=SRIOV_NET_VF:1&required_CN=HW_CPU_X86_AVX&same_subtree=_NET,_CN"
          "&group_policy=isolate");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["allocation_requests"],
            json({{{"allocations", {{pf_, {{"resources", {{"SRIOV_NET_VF", 1}}}}}}},
                   {"mappings", {{"_CN", {cn_}}, {"_NET", {pf_}}}}}}));
  // Any-of traits (1.39) in the resourceless group.
  a =
      get("resources_NET=SRIOV_NET_VF:1&required_CN=in:CUSTOM_PHYSNET_A,HW_CPU_X86_AVX"
          "&same_subtree=_NET,_CN&group_policy=none");
  ASSERT_EQ(a.status, 200) << a.body;
  // _CN may be cn (ancestor of pf) or pf itself (policy none).
  EXPECT_EQ(a.body["allocation_requests"].size(), 2u);
}

// The unsuffixed group's mapping lists every provider it uses; no mappings before 1.34.
TEST_F(CandidatesApiTest, UnsuffixedMappingListsEveryProviderUsedFrom1_34) {
  Answer a = get("resources=VCPU:1,SRIOV_NET_VF:1", "1.34");
  ASSERT_EQ(a.status, 200) << a.body;
  std::vector<std::string> both = {cn_, pf_};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(a.body["allocation_requests"], json({{{"allocations",
                                                   {{cn_, {{"resources", {{"VCPU", 1}}}}},
                                                    {pf_, {{"resources", {{"SRIOV_NET_VF", 1}}}}}}},
                                                  {"mappings", {{"", both}}}}}));
  a = get("resources=VCPU:1,SRIOV_NET_VF:1", "1.33");
  ASSERT_EQ(a.body["allocation_requests"].size(), 1u);
  EXPECT_FALSE(a.body["allocation_requests"][0].contains("mappings"));
}

// Before 1.39 only the last `required` counts; from 1.39 repeated ones are ANDed. VCPU comes
// from cn (HW_CPU_X86_AVX); CUSTOM_PHYSNET_A is on pf, which a VCPU-only request does not use.
// Forbidden aggregates (1.32) and any-of traits (1.39) through the query string.
TEST_F(CandidatesApiTest, RepeatedRequiredForbiddenAggregatesAndAnyOfThroughTheQuery) {
  const std::string q = "resources=VCPU:1&required=CUSTOM_PHYSNET_A&required=HW_CPU_X86_AVX";
  EXPECT_EQ(get(q, "1.38").body["allocation_requests"].size(), 1u);
  EXPECT_EQ(get(q, "1.39").body["allocation_requests"], json::array());
  EXPECT_EQ(get("resources=VCPU:1&required=in:CUSTOM_PHYSNET_A,HW_CPU_X86_AVX")
                .body["allocation_requests"]
                .size(),
            1u);
  EXPECT_EQ(get("resources=VCPU:1&required=!HW_CPU_X86_AVX", "1.22").body["allocation_requests"],
            json::array());
  // Forbidding one trait of an any-of term is no conflict.
  EXPECT_EQ(get("resources=VCPU:1&required=in:CUSTOM_PHYSNET_A,HW_CPU_X86_AVX"
                "&required=!CUSTOM_PHYSNET_A")
                .body["allocation_requests"]
                .size(),
            1u);
  const std::string agg = "aaaaaaaa-0000-4000-8000-000000000001";
  auto cn = send("GET", "/resource_providers/" + cn_ + "/aggregates", "", "1.19");
  ASSERT_EQ(cn.status, 200);
  json body = {{"aggregates", {agg}},
               {"resource_provider_generation", cn.body["resource_provider_generation"]}};
  ASSERT_EQ(
      send("PUT", "/resource_providers/" + cn_ + "/aggregates", "", "1.19", body.dump()).status,
      200);
  // pf's root is in the aggregate: forbidden for the unsuffixed group, not for a granular one.
  EXPECT_EQ(get("resources=SRIOV_NET_VF:1&member_of=!in:" + agg + "," + uuid4().toString(), "1.32")
                .body["allocation_requests"],
            json::array());
  EXPECT_EQ(get("resources1=SRIOV_NET_VF:1&member_of1=!" + agg, "1.32")
                .body["allocation_requests"]
                .size(),
            1u);
  EXPECT_EQ(
      get("resources=SRIOV_NET_VF:1&member_of=" + agg, "1.32").body["allocation_requests"].size(),
      1u);
}

// A big answer (thousands of providers: the summaries take one pass over the whole model) is
// complete. 1000 hosts of a root (VCPU) and 4 children (EGR; 2 of them on physnet A).
TEST_F(CandidatesApiTest, BigAnswersAreComplete) {
  constexpr int kHosts = 1000;
  std::set<std::string> expected;  // "root child" pairs
  for (int h = 0; h < kHosts; ++h) {
    auto root = model_.createProvider("big" + std::to_string(h), std::nullopt, std::nullopt);
    ASSERT_TRUE(root.has_value());
    ASSERT_TRUE(model_.setInventories(root->uuid, 0, {{"VCPU", Inventory{.total = 4}}}));
    for (int c = 0; c < 4; ++c) {
      auto child = model_.createProvider("big" + std::to_string(h) + "-" + std::to_string(c),
                                         std::nullopt, root->uuid);
      ASSERT_TRUE(child.has_value());
      auto inv = model_.setInventories(child->uuid, 0,
                                       {{"NET_BW_EGR_KILOBIT_PER_SEC", Inventory{.total = 10}}});
      ASSERT_TRUE(inv.has_value());
      if (c < 2) {
        ASSERT_TRUE(model_.setTraits(child->uuid, inv->generation, {"CUSTOM_PHYSNET_A"}));
        expected.insert(root->uuid + " " + child->uuid);
      }
    }
  }
  Answer a =
      get("resources=VCPU:1&resources1=NET_BW_EGR_KILOBIT_PER_SEC:1&required1=CUSTOM_PHYSNET_A");
  ASSERT_EQ(a.status, 200);
  std::set<std::string> got;
  for (const auto& r : a.body["allocation_requests"]) {
    got.insert(r["mappings"][""][0].get<std::string>() + " " +
               r["mappings"]["1"][0].get<std::string>());
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(a.body["allocation_requests"].size(), 2u * kHosts);
  // Summaries: every provider of the trees used, the 5 of each big host (cn's tree has no EGR).
  EXPECT_EQ(a.body["provider_summaries"].size(), 5u * kHosts);
}

}  // namespace
}  // namespace bwfloor::placement
