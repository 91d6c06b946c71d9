// /traits, /resource_providers/{uuid}/traits, /resource_classes and
// /resource_providers/{uuid}/aggregates over HTTP (placement-api.md §1.3, §1.6).

#include <algorithm>

#include "placement/model/standard_names.h"
#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

class ApiTraitTest : public PlacementApiTest {
 protected:
  json traits(const std::string& query = "") {
    Reply r = send("GET", "/traits" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.raw;
    return r.body["traits"];
  }
  std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/placement" + path;
  }
};

// --- /traits ---------------------------------------------------------------------------------

TEST_F(ApiTraitTest, StandardTraitsArePresent) {
  json all = traits();
  EXPECT_EQ(all.size(), standardTraits().size());
  EXPECT_GT(all.size(), 300u);
  for (const char* t : {"MISC_SHARES_VIA_AGGREGATE", "HW_CPU_X86_AVX2", "HW_NUMA_ROOT"}) {
    EXPECT_NE(std::find(all.begin(), all.end(), t), all.end()) << t;
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(send("GET", "/traits/HW_CPU_X86_AVX2").status, 204);
  EXPECT_EQ(send("GET", "/traits/HW_NIC_ROOT").status, 404);
}

TEST_F(ApiTraitTest, CustomTraitCreateIsIdempotent) {
  Reply r = send("PUT", "/traits/CUSTOM_PHYSNET_PUBLIC");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.raw, "");
  EXPECT_EQ(r.header("location"), url("/traits/CUSTOM_PHYSNET_PUBLIC"));
  r = send("PUT", "/traits/CUSTOM_PHYSNET_PUBLIC");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("location"), url("/traits/CUSTOM_PHYSNET_PUBLIC"));
  EXPECT_EQ(send("GET", "/traits/CUSTOM_PHYSNET_PUBLIC").status, 204);
  EXPECT_EQ(send("PUT", "/traits/HW_CPU_X86_AVX2").status, 400);  // not CUSTOM_: refused
  for (const char* bad : {"PHYSNET", "CUSTOM_lower", "CUSTOM_", "CUSTOM_A-B"}) {
    EXPECT_EQ(send("PUT", std::string("/traits/") + bad).status, 400) << bad;
  }
  EXPECT_EQ(send("PUT", "/traits/CUSTOM_" + std::string(248, 'A')).status, 201);  // 255 chars
  EXPECT_EQ(send("PUT", "/traits/CUSTOM_" + std::string(249, 'A')).status, 400);
  EXPECT_EQ(traits("?name=startswith:CUSTOM_PHYS"), json::array({"CUSTOM_PHYSNET_PUBLIC"}));
}

TEST_F(ApiTraitTest, DeleteTraitRules) {
  Reply r = send("DELETE", "/traits/HW_CPU_X86_AVX2");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(send("DELETE", "/traits/CUSTOM_NEVER").status, 404);
  ASSERT_EQ(send("PUT", "/traits/CUSTOM_USED").status, 201);
  ASSERT_EQ(send("PUT", "/traits/CUSTOM_UNUSED").status, 201);
  std::string rp = createProvider("rp");
  ASSERT_EQ(send("PUT", "/resource_providers/" + rp + "/traits",
                 json{{"traits", {"CUSTOM_USED"}}, {"resource_provider_generation", 0}})
                .status,
            200);
  r = send("DELETE", "/traits/CUSTOM_USED");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(send("GET", "/traits/CUSTOM_USED").status, 204);
  EXPECT_EQ(send("DELETE", "/traits/CUSTOM_UNUSED").status, 204);
  EXPECT_EQ(send("GET", "/traits/CUSTOM_UNUSED").status, 404);
}

TEST_F(ApiTraitTest, ListFilters) {
  ASSERT_EQ(send("PUT", "/traits/CUSTOM_A").status, 201);
  ASSERT_EQ(send("PUT", "/traits/CUSTOM_B").status, 201);
  std::string rp = createProvider("rp");
  ASSERT_EQ(
      send("PUT", "/resource_providers/" + rp + "/traits",
           json{{"traits", {"CUSTOM_A", "HW_CPU_X86_AVX2"}}, {"resource_provider_generation", 0}})
          .status,
      200);
  EXPECT_EQ(traits("?name=in:CUSTOM_B,HW_CPU_X86_AVX2,CUSTOM_NOPE"),
            json::array({"CUSTOM_B", "HW_CPU_X86_AVX2"}));
  EXPECT_EQ(traits("?name=startswith:CUSTOM_"), json::array({"CUSTOM_A", "CUSTOM_B"}));
  EXPECT_EQ(traits("?associated=true"), json::array({"CUSTOM_A", "HW_CPU_X86_AVX2"}));
  EXPECT_EQ(traits("?name=startswith:CUSTOM_&associated=false"), json::array({"CUSTOM_B"}));
  // Every trait but the two on rp (CUSTOM_B is the only unassociated custom one).
  EXPECT_EQ(traits("?associated=false").size(), standardTraits().size() - 1 + 1);
  EXPECT_EQ(send("GET", "/traits?name=CUSTOM_A").status, 400);
  EXPECT_EQ(send("GET", "/traits?associated=maybe").status, 400);
  EXPECT_EQ(traits("?associated=True"), json::array({"CUSTOM_A", "HW_CPU_X86_AVX2"}));
  EXPECT_EQ(send("GET", "/traits?color=red").status, 400);
}

// --- provider traits -------------------------------------------------------------------------

TEST_F(ApiTraitTest, ProviderTraitsBumpGenerationOnlyOnChange) {
  std::string rp = createProvider("rp");
  std::string path = "/resource_providers/" + rp + "/traits";
  Reply r = send("GET", path);
  EXPECT_EQ(r.body, json({{"traits", json::array()}, {"resource_provider_generation", 0}}));
  json set = {{"traits", {"HW_CPU_X86_AVX2", "MISC_SHARES_VIA_AGGREGATE"}},
              {"resource_provider_generation", 0}};
  r = send("PUT", path, set);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"traits", {"HW_CPU_X86_AVX2", "MISC_SHARES_VIA_AGGREGATE"}},
                          {"resource_provider_generation", 1}}));
  // The same set again: no change, no bump (but the generation must still match).
  set["resource_provider_generation"] = 1;
  r = send("PUT", path, set);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["resource_provider_generation"], 1);
  set["resource_provider_generation"] = 0;
  r = send("PUT", path, set);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  // Unknown trait.
  r = send("PUT", path, json{{"traits", {"CUSTOM_NOPE"}}, {"resource_provider_generation", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("CUSTOM_NOPE"), std::string::npos) << r.raw;
  // Bad bodies.
  EXPECT_EQ(send("PUT", path, json{{"traits", {"HW_CPU_X86_AVX2"}}}).status, 400);
  EXPECT_EQ(send("PUT", path, json{{"traits", {""}}, {"resource_provider_generation", 1}}).status,
            400);
  // A stale generation wins over unknown traits (handlers/trait.py checks it first).
  r = send("PUT", path, json{{"traits", {"CUSTOM_NOPE"}}, {"resource_provider_generation", 0}});
  EXPECT_EQ(r.status, 409);
  // Duplicates are allowed (no uniqueItems in the schema) and collapse.
  r = send("PUT", path,
           json{{"traits", {"HW_CPU_X86_AVX2", "HW_CPU_X86_AVX2", "MISC_SHARES_VIA_AGGREGATE"}},
                {"resource_provider_generation", 1}});
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["resource_provider_generation"], 1);
  EXPECT_EQ(generation(rp), 1);
  // DELETE clears and bumps.
  r = send("DELETE", path);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(send("GET", path).body,
            json({{"traits", json::array()}, {"resource_provider_generation", 2}}));
  EXPECT_EQ(send("GET", "/resource_providers/" + newUuid() + "/traits").status, 404);
  EXPECT_EQ(send("GET", path, std::nullopt, "1.5").status, 404);
}

// --- resource classes ------------------------------------------------------------------------

TEST_F(ApiTraitTest, StandardResourceClassesInOrder) {
  Reply r = send("GET", "/resource_classes", std::nullopt, "1.2");
  ASSERT_EQ(r.status, 200);
  const std::vector<std::string> want = {"VCPU",
                                         "MEMORY_MB",
                                         "DISK_GB",
                                         "PCI_DEVICE",
                                         "SRIOV_NET_VF",
                                         "NUMA_SOCKET",
                                         "NUMA_CORE",
                                         "NUMA_THREAD",
                                         "NUMA_MEMORY_MB",
                                         "IPV4_ADDRESS",
                                         "VGPU",
                                         "VGPU_DISPLAY_HEAD",
                                         "NET_BW_EGR_KILOBIT_PER_SEC",
                                         "NET_BW_IGR_KILOBIT_PER_SEC",
                                         "PCPU",
                                         "MEM_ENCRYPTION_CONTEXT",
                                         "FPGA",
                                         "PGPU",
                                         "NET_PACKET_RATE_KILOPACKET_PER_SEC",
                                         "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
                                         "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC"};
  ASSERT_EQ(r.body["resource_classes"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(
        r.body["resource_classes"][i],
        json({{"name", want[i]},
              {"links", {{{"rel", "self"}, {"href", "/placement/resource_classes/" + want[i]}}}}}));
  }
  r = send("GET", "/resource_classes/NET_BW_EGR_KILOBIT_PER_SEC");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["name"], "NET_BW_EGR_KILOBIT_PER_SEC");
  EXPECT_EQ(send("GET", "/resource_classes/NET_BANDWIDTH_EGRESS_KILOBITS_PER_SECOND").status, 404);
}

TEST_F(ApiTraitTest, CustomResourceClassCrud) {
  Reply r = send("POST", "/resource_classes", json{{"name", "CUSTOM_GOLD"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("location"), url("/resource_classes/CUSTOM_GOLD"));
  r = send("POST", "/resource_classes", json{{"name", "CUSTOM_GOLD"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(send("POST", "/resource_classes", json{{"name", "GOLD"}}).status, 400);
  EXPECT_EQ(send("POST", "/resource_classes", json{{"name", "CUSTOM_gold"}}).status, 400);
  EXPECT_EQ(send("POST", "/resource_classes", json{{"title", "CUSTOM_X"}}).status, 400);
  r = send("GET", "/resource_classes");
  EXPECT_EQ(r.body["resource_classes"].size(), 22u);
  EXPECT_EQ(r.body["resource_classes"][21]["name"], "CUSTOM_GOLD");
  EXPECT_EQ(send("GET", "/resource_classes/CUSTOM_GOLD").status, 200);

  // In use by an inventory: 409; a standard class: 400.
  std::string rp = createProvider("rp");
  setInventory(rp, "CUSTOM_GOLD", 5);
  EXPECT_EQ(send("DELETE", "/resource_classes/CUSTOM_GOLD").status, 409);
  EXPECT_EQ(send("DELETE", "/resource_classes/VCPU").status, 400);
  EXPECT_EQ(send("DELETE", "/resource_classes/CUSTOM_NEVER").status, 404);
  ASSERT_EQ(send("DELETE", "/resource_providers/" + rp + "/inventories/CUSTOM_GOLD").status, 204);
  EXPECT_EQ(send("DELETE", "/resource_classes/CUSTOM_GOLD").status, 204);
  EXPECT_EQ(send("GET", "/resource_classes/CUSTOM_GOLD").status, 404);
}

TEST_F(ApiTraitTest, PutResourceClassAt1_7CreatesOrVerifies) {
  Reply r = send("PUT", "/resource_classes/CUSTOM_SILVER", std::nullopt, "1.7");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("location"), url("/resource_classes/CUSTOM_SILVER"));
  EXPECT_EQ(send("PUT", "/resource_classes/CUSTOM_SILVER", std::nullopt, "1.7").status, 204);
  EXPECT_EQ(send("PUT", "/resource_classes/VCPU", std::nullopt, "1.7").status, 400);
  EXPECT_EQ(send("PUT", "/resource_classes/SILVER", std::nullopt, "1.7").status, 400);
  EXPECT_EQ(send("GET", "/resource_classes/CUSTOM_SILVER").status, 200);
}

TEST_F(ApiTraitTest, PutResourceClassBefore1_7Renames) {
  ASSERT_EQ(send("POST", "/resource_classes", json{{"name", "CUSTOM_OLD"}}, "1.2").status, 201);
  Reply r = send("PUT", "/resource_classes/CUSTOM_OLD", json{{"name", "CUSTOM_NEW"}}, "1.6");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "CUSTOM_NEW");
  EXPECT_EQ(send("GET", "/resource_classes/CUSTOM_OLD").status, 404);
  EXPECT_EQ(send("GET", "/resource_classes/CUSTOM_NEW").status, 200);
  EXPECT_EQ(send("PUT", "/resource_classes/VCPU", json{{"name", "CUSTOM_V"}}, "1.6").status, 400);
  ASSERT_EQ(send("POST", "/resource_classes", json{{"name", "CUSTOM_TAKEN"}}, "1.2").status, 201);
  EXPECT_EQ(
      send("PUT", "/resource_classes/CUSTOM_NEW", json{{"name", "CUSTOM_TAKEN"}}, "1.6").status,
      409);
}

// --- aggregates ------------------------------------------------------------------------------

TEST_F(ApiTraitTest, AggregatesAt1_1AreABareListWithoutGeneration) {
  std::string rp = createProvider("rp");
  std::string path = "/resource_providers/" + rp + "/aggregates";
  std::string agg = newUuid();
  Reply r = send("GET", path, std::nullopt, "1.1");
  EXPECT_EQ(r.body, json({{"aggregates", json::array()}}));
  r = send("PUT", path, json::array({agg}), "1.1");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"aggregates", json::array({agg})}}));
  EXPECT_EQ(generation(rp), 0);  // no bump before 1.19
  EXPECT_EQ(send("PUT", path, json::array({agg, agg}), "1.1").status, 400);
  EXPECT_EQ(send("PUT", path, json::array({"not-a-uuid"}), "1.1").status, 400);
  EXPECT_EQ(send("PUT", path, json{{"aggregates", {agg}}}, "1.18").status, 400);
}

TEST_F(ApiTraitTest, AggregatesAt1_19CarryAndBumpTheGeneration) {
  std::string rp = createProvider("rp");
  std::string path = "/resource_providers/" + rp + "/aggregates";
  std::string agg1 = newUuid();
  std::string agg2 = newUuid();
  Reply r = send("GET", path, std::nullopt, "1.19");
  EXPECT_EQ(r.body, json({{"aggregates", json::array()}, {"resource_provider_generation", 0}}));
  r = send("PUT", path, json{{"aggregates", {agg1, agg2}}, {"resource_provider_generation", 0}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["resource_provider_generation"], 1);
  std::vector<std::string> got = r.body["aggregates"];
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {agg1, agg2};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  r = send("PUT", path, json{{"aggregates", json::array()}, {"resource_provider_generation", 0}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  EXPECT_EQ(send("PUT", path, json::array({agg1})).status, 400);  // bare list refused
  EXPECT_EQ(send("GET", path).body["aggregates"].size(), 2u);
  EXPECT_EQ(generation(rp), 1);
}

}  // namespace
}  // namespace bwfloor::placement::testing
