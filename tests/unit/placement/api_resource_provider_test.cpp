// /resource_providers over HTTP: create (1.19 vs 1.20), nesting (1.14), update and re-parenting
// (1.37), delete rules and the list filters (placement-api.md §1.3).

#include <algorithm>

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

class ApiProviderTest : public PlacementApiTest {
 protected:
  // The names of the providers GET /resource_providers?query returns, sorted.
  std::vector<std::string> names(const std::string& query, const std::string& version = kLatest) {
    Reply r = send("GET", "/resource_providers" + query, std::nullopt, version);
    EXPECT_EQ(r.status, 200) << query << ": " << r.raw;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    for (const auto& p : r.body["resource_providers"]) out.push_back(p["name"]);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string location(const std::string& uuid) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) +
           "/placement/resource_providers/" + uuid;
  }
  using Names = std::vector<std::string>;
};

TEST_F(ApiProviderTest, CreateAt1_19Is201WithEmptyBodyAndAbsoluteLocation) {
  std::string uuid = newUuid();
  Reply r = send("POST", "/resource_providers", json{{"name", "cn1"}, {"uuid", uuid}}, "1.19");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.raw, "");
  EXPECT_EQ(r.header("location"), location(uuid));
  r = send("GET", "/resource_providers/" + uuid, std::nullopt, "1.19");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["name"], "cn1");
  EXPECT_EQ(r.body["generation"], 0);
}

TEST_F(ApiProviderTest, CreateAt1_20Is200WithTheProvider) {
  Reply r = send("POST", "/resource_providers", json{{"name", "cn1"}}, "1.20");
  ASSERT_EQ(r.status, 200) << r.raw;
  std::string uuid = r.body["uuid"];
  EXPECT_EQ(r.header("location"), location(uuid));
  std::string self = "/placement/resource_providers/" + uuid;
  json want = {{"uuid", uuid},
               {"name", "cn1"},
               {"generation", 0},
               {"parent_provider_uuid", nullptr},
               {"root_provider_uuid", uuid},
               {"links",
                {{{"rel", "self"}, {"href", self}},
                 {{"rel", "inventories"}, {"href", self + "/inventories"}},
                 {{"rel", "usages"}, {"href", self + "/usages"}},
                 {{"rel", "aggregates"}, {"href", self + "/aggregates"}},
                 {{"rel", "traits"}, {"href", self + "/traits"}},
                 {{"rel", "allocations"}, {"href", self + "/allocations"}}}}};
  EXPECT_EQ(r.body, want);
  EXPECT_EQ(send("GET", "/resource_providers/" + uuid, std::nullopt, "1.20").body, want);
  // At 1.0: three links, no tree fields.
  r = send("GET", "/resource_providers/" + uuid, std::nullopt, "1.0");
  EXPECT_EQ(r.body["links"].size(), 3u);
  EXPECT_FALSE(r.body.contains("parent_provider_uuid"));
  EXPECT_FALSE(r.body.contains("root_provider_uuid"));
}

TEST_F(ApiProviderTest, UndashedUuidIsNormalised) {
  Reply r = send("POST", "/resource_providers",
                 json{{"name", "a"}, {"uuid", "5C1E9E9AAB1E4E0B8F0D0B5E0B6D6A11"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["uuid"], "5c1e9e9a-ab1e-4e0b-8f0d-0b5e0b6d6a11");
}

TEST_F(ApiProviderTest, BadBodiesAre400) {
  for (const json& body :
       {json{{"uuid", newUuid()}}, json{{"name", ""}}, json{{"name", std::string(201, 'x')}},
        json{{"name", 5}}, json{{"name", "a"}, {"uuid", "not-a-uuid"}},
        json{{"name", "a"}, {"color", "red"}}, json::array()}) {
    Reply r = send("POST", "/resource_providers", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(r.errorDetail().rfind("JSON does not validate", 0), 0u) << r.raw;
  }
  Reply r = send("POST", "/resource_providers", std::string("{not json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("Malformed JSON"), std::string::npos);
  // parent_provider_uuid is unknown before 1.14.
  std::string parent = createProvider("parent");
  r = send("POST", "/resource_providers", json{{"name", "c"}, {"parent_provider_uuid", parent}},
           "1.13");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(names(""), (Names{"parent"}));
}

TEST_F(ApiProviderTest, DuplicateNameOrUuidIs409DuplicateName) {
  Reply first = send("POST", "/resource_providers", json{{"name", "cn1"}});
  ASSERT_EQ(first.status, 200);
  Reply r = send("POST", "/resource_providers", json{{"name", "cn1"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.duplicate_name");
  r = send("POST", "/resource_providers", json{{"name", "cn2"}, {"uuid", first.body["uuid"]}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.duplicate_name");
  // PUT to an existing name, too.
  std::string other = createProvider("cn3");
  r = send("PUT", "/resource_providers/" + other, json{{"name", "cn1"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.duplicate_name");
  EXPECT_EQ(names(""), (Names{"cn1", "cn3"}));
}

TEST_F(ApiProviderTest, NestedProvidersCarryParentAndRoot) {
  std::string root = createProvider("root");
  std::string child = createProvider("child", root);
  std::string grandchild = createProvider("grandchild", child);
  Reply r = send("GET", "/resource_providers/" + grandchild, std::nullopt, "1.14");
  EXPECT_EQ(r.body["parent_provider_uuid"], child);
  EXPECT_EQ(r.body["root_provider_uuid"], root);
  r = send("POST", "/resource_providers",
           json{{"name", "orphan"}, {"parent_provider_uuid", newUuid()}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("parent provider UUID does not exist."), std::string::npos)
      << r.raw;
  EXPECT_EQ(names("?in_tree=" + child), (Names{"child", "grandchild", "root"}));
}

TEST_F(ApiProviderTest, UpdateRenamesWithoutBumpingGeneration) {
  std::string rp = createProvider("old");
  setInventory(rp, "VCPU", 4);
  int64_t gen = generation(rp);
  Reply r = send("PUT", "/resource_providers/" + rp, json{{"name", "new"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["name"], "new");
  EXPECT_EQ(r.body["generation"], gen);
  EXPECT_EQ(generation(rp), gen);
  EXPECT_EQ(send("PUT", "/resource_providers/" + newUuid(), json{{"name", "x"}}).status, 404);
  EXPECT_EQ(send("PUT", "/resource_providers/" + rp, json{{"generation", 1}}).status, 400);
}

TEST_F(ApiProviderTest, ReparentingIsRefusedBefore1_37) {
  std::string a = createProvider("a");
  std::string b = createProvider("b");
  std::string child = createProvider("child", a);
  // null -> parent is allowed from 1.14.
  std::string loose = createProvider("loose");
  Reply r = send("PUT", "/resource_providers/" + loose,
                 json{{"name", "loose"}, {"parent_provider_uuid", b}}, "1.14");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["root_provider_uuid"], b);
  // Re-parenting and un-parenting are not.
  r = send("PUT", "/resource_providers/" + child,
           json{{"name", "child"}, {"parent_provider_uuid", b}}, "1.36");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("re-parenting a provider is not currently allowed"),
            std::string::npos)
      << r.raw;
  r = send("PUT", "/resource_providers/" + child,
           json{{"name", "child"}, {"parent_provider_uuid", nullptr}}, "1.36");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(send("GET", "/resource_providers/" + child).body["parent_provider_uuid"], a);
}

TEST_F(ApiProviderTest, ReparentingAt1_37MovesTheSubtree) {
  std::string a = createProvider("a");
  std::string b = createProvider("b");
  std::string child = createProvider("child", a);
  std::string grandchild = createProvider("grandchild", child);
  Reply r = send("PUT", "/resource_providers/" + child,
                 json{{"name", "child"}, {"parent_provider_uuid", b}}, "1.37");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["parent_provider_uuid"], b);
  EXPECT_EQ(r.body["root_provider_uuid"], b);
  EXPECT_EQ(send("GET", "/resource_providers/" + grandchild).body["root_provider_uuid"], b);
  EXPECT_EQ(names("?in_tree=" + b), (Names{"b", "child", "grandchild"}));
  EXPECT_EQ(names("?in_tree=" + a), (Names{"a"}));
  // A loop is refused: b under its own grandchild.
  r = send("PUT", "/resource_providers/" + b,
           json{{"name", "b"}, {"parent_provider_uuid", grandchild}}, "1.37");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("loop"), std::string::npos) << r.raw;
  r = send("PUT", "/resource_providers/" + child,
           json{{"name", "child"}, {"parent_provider_uuid", child}}, "1.37");
  EXPECT_EQ(r.status, 400);
  // Un-parenting makes child the root of its subtree.
  r = send("PUT", "/resource_providers/" + child,
           json{{"name", "child"}, {"parent_provider_uuid", nullptr}}, "1.37");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["root_provider_uuid"], child);
  EXPECT_EQ(send("GET", "/resource_providers/" + grandchild).body["root_provider_uuid"], child);
}

TEST_F(ApiProviderTest, DeleteRules) {
  std::string parent = createProvider("parent");
  std::string child = createProvider("child", parent);
  Reply r = send("DELETE", "/resource_providers/" + parent);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.resource_provider.cannot_delete_parent");
  setInventory(child, "VCPU", 4);
  ASSERT_EQ(allocate(newUuid(), {{child, {{"VCPU", 1}}}}).status, 204);
  r = send("DELETE", "/resource_providers/" + child);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.resource_provider.inuse");
  EXPECT_EQ(names(""), (Names{"child", "parent"}));

  std::string plain = createProvider("plain");
  setInventory(plain, "DISK_GB", 10);
  r = send("DELETE", "/resource_providers/" + plain);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.raw, "");
  EXPECT_EQ(send("GET", "/resource_providers/" + plain).status, 404);
  EXPECT_EQ(send("DELETE", "/resource_providers/" + plain).status, 404);
}

TEST_F(ApiProviderTest, FilterByNameAndUuid) {
  std::string a = createProvider("a");
  createProvider("b");
  EXPECT_EQ(names("?name=a"), (Names{"a"}));
  EXPECT_EQ(names("?uuid=" + a), (Names{"a"}));
  EXPECT_EQ(names("?name=zzz"), (Names{}));
  EXPECT_EQ(send("GET", "/resource_providers?uuid=nope").status, 400);
}

TEST_F(ApiProviderTest, FilterByMemberOf) {
  std::string agg1 = newUuid();
  std::string agg2 = newUuid();
  std::string a = createProvider("a");
  std::string b = createProvider("b");
  createProvider("c");
  auto setAggs = [&](const std::string& rp, const json& aggs) {
    Reply r = send("PUT", "/resource_providers/" + rp + "/aggregates",
                   json{{"aggregates", aggs}, {"resource_provider_generation", generation(rp)}});
    ASSERT_EQ(r.status, 200) << r.raw;
  };
  setAggs(a, {agg1});
  setAggs(b, {agg1, agg2});
  EXPECT_EQ(names("?member_of=" + agg1, "1.3"), (Names{"a", "b"}));
  EXPECT_EQ(names("?member_of=" + agg2), (Names{"b"}));
  EXPECT_EQ(names("?member_of=in:" + agg2 + "," + newUuid()), (Names{"b"}));
  EXPECT_EQ(names("?member_of=" + agg1 + "&member_of=" + agg2, "1.24"), (Names{"b"}));
  EXPECT_EQ(send("GET", "/resource_providers?member_of=" + agg1 + "&member_of=" + agg2,
                 std::nullopt, "1.23")
                .status,
            400);
  EXPECT_EQ(names("?member_of=!" + agg2, "1.32"), (Names{"a", "c"}));
  EXPECT_EQ(names("?member_of=!in:" + agg1 + "," + agg2, "1.32"), (Names{"c"}));
  EXPECT_EQ(send("GET", "/resource_providers?member_of=!" + agg2, std::nullopt, "1.31").status,
            400);
  EXPECT_EQ(send("GET", "/resource_providers?member_of=" + agg1 + "," + agg2).status, 400);
  EXPECT_EQ(send("GET", "/resource_providers?member_of=" + agg1, std::nullopt, "1.2").status, 400);
}

TEST_F(ApiProviderTest, FilterByResourcesChecksCapacityAndUnits) {
  std::string big = createProvider("big");
  std::string small = createProvider("small");
  std::string stepped = createProvider("stepped");
  setInventory(big, "VCPU", 16);
  setInventory(small, "VCPU", 2);
  setInventory(stepped, "VCPU", 16, {{"min_unit", 2}, {"max_unit", 8}, {"step_size", 2}});
  EXPECT_EQ(names("?resources=VCPU:2", "1.4"), (Names{"big", "small", "stepped"}));
  EXPECT_EQ(names("?resources=VCPU:4"), (Names{"big", "stepped"}));
  EXPECT_EQ(names("?resources=VCPU:3"), (Names{"big"}));           // step 2
  EXPECT_EQ(names("?resources=VCPU:10"), (Names{"big"}));          // max 8
  EXPECT_EQ(names("?resources=VCPU:1"), (Names{"big", "small"}));  // min 2
  // Usage counts against capacity.
  ASSERT_EQ(allocate(newUuid(), {{big, {{"VCPU", 14}}}}).status, 204);
  EXPECT_EQ(names("?resources=VCPU:4"), (Names{"stepped"}));
  EXPECT_EQ(names("?resources=VCPU:2,MEMORY_MB:1"), (Names{}));
  Reply r = send("GET", "/resource_providers?resources=NO_SUCH_CLASS:1");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("NO_SUCH_CLASS"), std::string::npos) << r.raw;
  EXPECT_EQ(send("GET", "/resource_providers?resources=VCPU").status, 400);
  EXPECT_EQ(send("GET", "/resource_providers?resources=VCPU:0").status, 400);
  EXPECT_EQ(send("GET", "/resource_providers?resources=VCPU:1", std::nullopt, "1.3").status, 400);
}

TEST_F(ApiProviderTest, FilterByInTree) {
  std::string root = createProvider("root");
  createProvider("child", root);
  createProvider("other");
  EXPECT_EQ(names("?in_tree=" + root, "1.14"), (Names{"child", "root"}));
  EXPECT_EQ(names("?in_tree=" + newUuid()), (Names{}));  // unknown: empty, not an error
  EXPECT_EQ(send("GET", "/resource_providers?in_tree=" + root, std::nullopt, "1.13").status, 400);
}

TEST_F(ApiProviderTest, FilterByRequiredTraits) {
  std::string avx = createProvider("avx");
  std::string sse = createProvider("sse");
  std::string both = createProvider("both");
  createProvider("none");
  auto setTraits = [&](const std::string& rp, const json& traits) {
    Reply r = send("PUT", "/resource_providers/" + rp + "/traits",
                   json{{"traits", traits}, {"resource_provider_generation", generation(rp)}});
    ASSERT_EQ(r.status, 200) << r.raw;
  };
  setTraits(avx, {"HW_CPU_X86_AVX2"});
  setTraits(sse, {"HW_CPU_X86_SSE"});
  setTraits(both, {"HW_CPU_X86_AVX2", "HW_CPU_X86_SSE"});
  EXPECT_EQ(names("?required=HW_CPU_X86_AVX2", "1.18"), (Names{"avx", "both"}));
  EXPECT_EQ(names("?required=HW_CPU_X86_AVX2,HW_CPU_X86_SSE"), (Names{"both"}));
  EXPECT_EQ(names("?required=!HW_CPU_X86_AVX2", "1.22"), (Names{"none", "sse"}));
  EXPECT_EQ(names("?required=HW_CPU_X86_SSE,!HW_CPU_X86_AVX2"), (Names{"sse"}));
  // Required and forbidden at once finds nothing (no 400 here, unlike allocation candidates).
  EXPECT_EQ(names("?required=HW_CPU_X86_SSE,!HW_CPU_X86_SSE"), Names{});
  EXPECT_EQ(names("?required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE", "1.39"),
            (Names{"avx", "both", "sse"}));
  EXPECT_EQ(names("?required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE&required=!HW_CPU_X86_SSE"),
            (Names{"avx"}));
  // Before 1.39 only the last `required` counts, and in: is no syntax.
  EXPECT_EQ(names("?required=HW_CPU_X86_AVX2&required=HW_CPU_X86_SSE", "1.38"),
            (Names{"both", "sse"}));
  EXPECT_EQ(send("GET", "/resource_providers?required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE",
                 std::nullopt, "1.38")
                .status,
            400);
  EXPECT_EQ(
      send("GET", "/resource_providers?required=!HW_CPU_X86_AVX2", std::nullopt, "1.21").status,
      400);
  Reply r = send("GET", "/resource_providers?required=CUSTOM_NOPE");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("CUSTOM_NOPE"), std::string::npos) << r.raw;
  EXPECT_EQ(
      send("GET", "/resource_providers?required=HW_CPU_X86_AVX2", std::nullopt, "1.17").status,
      400);
}

TEST_F(ApiProviderTest, UnknownQueryParameterIs400) {
  Reply r = send("GET", "/resource_providers?flavor=big");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("Invalid query string parameters"), std::string::npos) << r.raw;
  EXPECT_EQ(send("GET", "/resource_providers?member_of=x", std::nullopt, "1.0").status, 400);
}

}  // namespace
}  // namespace bwfloor::placement::testing
