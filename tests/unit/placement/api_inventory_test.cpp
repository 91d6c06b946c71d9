// /resource_providers/{uuid}/inventories[/{rc}] and /usages over HTTP: fields and defaults,
// validation, generations, in-use rules (placement-api.md §1.3, §1.6).

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

class ApiInventoryTest : public PlacementApiTest {
 protected:
  void SetUp() override {
    PlacementApiTest::SetUp();
    rp_ = createProvider("cn1");
    base_ = "/resource_providers/" + rp_;
  }
  json defaults(int64_t total) {
    return {{"total", total},   {"reserved", 0},  {"min_unit", 1},
            {"max_unit", kMax}, {"step_size", 1}, {"allocation_ratio", 1.0}};
  }
  Reply putInventories(const json& inventories, int64_t gen, const std::string& version = kLatest) {
    return send("PUT", base_ + "/inventories",
                json{{"resource_provider_generation", gen}, {"inventories", inventories}}, version);
  }
  static constexpr int64_t kMax = 2147483647;
  std::string rp_;
  std::string base_;
};

TEST_F(ApiInventoryTest, PostAppliesDefaults) {
  Reply r = send("POST", base_ + "/inventories", json{{"resource_class", "VCPU"}, {"total", 8}});
  ASSERT_EQ(r.status, 201) << r.raw;
  json want = defaults(8);
  want["resource_provider_generation"] = 1;
  EXPECT_EQ(r.body, want);
  EXPECT_EQ(r.header("location"), "http://127.0.0.1:" + std::to_string(server_->port()) +
                                      "/placement" + base_ + "/inventories/VCPU");
  EXPECT_EQ(send("GET", base_ + "/inventories/VCPU").body, want);
  r = send("GET", base_ + "/inventories");
  EXPECT_EQ(r.body,
            json({{"resource_provider_generation", 1}, {"inventories", {{"VCPU", defaults(8)}}}}));
  EXPECT_EQ(generation(rp_), 1);
}

// Issue 18, item 1: Placement's POST and PUT inventory schemas allow a generation in the record
// (type-checked, not compared); fixtures that send it must not fail at their first step.
TEST_F(ApiInventoryTest, AGenerationInARecordIsAllowedAndTypeChecked) {
  Reply r =
      send("POST", base_ + "/inventories",
           json{{"resource_class", "VCPU"}, {"total", 8}, {"resource_provider_generation", 7}});
  ASSERT_EQ(r.status, 201) << r.raw;
  r = send("PUT", base_ + "/inventories",
           json{{"resource_provider_generation", 1},
                {"inventories", {{"VCPU", {{"total", 4}, {"resource_provider_generation", 99}}}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["inventories"]["VCPU"]["total"], 4);
  r = send(
      "POST", base_ + "/inventories",
      json{{"resource_class", "MEMORY_MB"}, {"total", 8}, {"resource_provider_generation", "x"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(generation(rp_), 2) << "the refused POST changed nothing";
}

TEST_F(ApiInventoryTest, PutKeepsEveryField) {
  json vcpu = {{"total", 32},    {"reserved", 2},  {"min_unit", 1},
               {"max_unit", 16}, {"step_size", 1}, {"allocation_ratio", 4.0}};
  json bw = {{"total", 10000000},    {"reserved", 0},     {"min_unit", 1000},
             {"max_unit", 10000000}, {"step_size", 1000}, {"allocation_ratio", 1.5}};
  Reply r = putInventories({{"VCPU", vcpu}, {"NET_BW_EGR_KILOBIT_PER_SEC", bw}}, 0);
  ASSERT_EQ(r.status, 200) << r.raw;
  json want = {{"resource_provider_generation", 1},
               {"inventories", {{"VCPU", vcpu}, {"NET_BW_EGR_KILOBIT_PER_SEC", bw}}}};
  EXPECT_EQ(r.body, want);
  EXPECT_EQ(send("GET", base_ + "/inventories").body, want);
  // PUT of a single inventory.
  vcpu["total"] = 64;
  json body = vcpu;
  body["resource_provider_generation"] = 1;
  r = send("PUT", base_ + "/inventories/VCPU", body);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["total"], 64);
  EXPECT_EQ(r.body["resource_provider_generation"], 2);
  EXPECT_EQ(send("GET", base_ + "/inventories/VCPU").body["allocation_ratio"], 4.0);
}

TEST_F(ApiInventoryTest, ValidationErrorsNameTheField) {
  struct Case {
    json inventory;
    const char* field;
  };
  std::vector<Case> cases = {
      {{{"total", 0}}, "total"},
      {{{"total", -1}}, "total"},
      {{{"total", "8"}}, "total"},
      {{{"total", 2147483648LL}}, "total"},
      {{{"total", 1.5}}, "total"},
      {{{"reserved", 0}}, "total"},  // missing
      {{{"total", 8}, {"reserved", -1}}, "reserved"},
      {{{"total", 8}, {"min_unit", 0}}, "min_unit"},
      {{{"total", 8}, {"max_unit", 0}}, "max_unit"},
      {{{"total", 8}, {"step_size", 0}}, "step_size"},
      {{{"total", 8}, {"step_size", nullptr}}, "step_size"},
      {{{"total", 8}, {"allocation_ratio", "high"}}, "allocation_ratio"},
      {{{"total", 8}, {"allocation_ratio", 1e39}}, "allocation_ratio"},
      {{{"total", 8}, {"color", "blue"}}, "color"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.inventory.dump());
    Reply r = putInventories({{"VCPU", c.inventory}}, 0);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.errorDetail().rfind("JSON does not validate", 0), 0u) << r.raw;
    EXPECT_NE(r.errorDetail().find(c.field), std::string::npos) << r.raw;
    json post = c.inventory;
    post["resource_class"] = "VCPU";
    r = send("POST", base_ + "/inventories", post);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.errorDetail().find(c.field), std::string::npos) << r.raw;
  }
  EXPECT_EQ(putInventories({{"VCPU", {{"total", 8}}}}, 0, "1.0").status, 200);
  // The body itself.
  EXPECT_EQ(send("PUT", base_ + "/inventories", json{{"inventories", json::object()}}).status, 400);
  EXPECT_EQ(send("PUT", base_ + "/inventories",
                 json{{"resource_provider_generation", 1}, {"inventories", json::array()}})
                .status,
            400);
  EXPECT_EQ(send("POST", base_ + "/inventories", json{{"total", 8}}).status, 400);
  EXPECT_EQ(generation(rp_), 1);
}

TEST_F(ApiInventoryTest, ReservedEqualToTotalFrom1_26) {
  json full = {{"total", 8}, {"reserved", 8}};
  Reply r = putInventories({{"VCPU", full}}, 0, "1.25");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("VCPU"), std::string::npos) << r.raw;
  EXPECT_EQ(putInventories({{"VCPU", {{"total", 8}, {"allocation_ratio", 0.0}}}}, 0, "1.25").status,
            400);
  EXPECT_EQ(putInventories({{"VCPU", {{"total", 8}, {"reserved", 9}}}}, 0, "1.26").status, 400);
  EXPECT_EQ(putInventories({{"VCPU", {{"total", 8}, {"reserved", 9}}}}, 0, "1.25").status, 400);
  EXPECT_EQ(generation(rp_), 0);
  r = putInventories({{"VCPU", full}}, 0, "1.26");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["inventories"]["VCPU"]["reserved"], 8);
  // POST follows the same rule.
  r = send("POST", base_ + "/inventories",
           json{{"resource_class", "DISK_GB"}, {"total", 5}, {"reserved", 5}}, "1.25");
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiInventoryTest, StaleGenerationIs409ConcurrentUpdate) {
  ASSERT_EQ(putInventories({{"VCPU", {{"total", 8}}}}, 0).status, 200);
  Reply r = putInventories({{"VCPU", {{"total", 16}}}}, 0);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  r = send("PUT", base_ + "/inventories/VCPU",
           json{{"resource_provider_generation", 0}, {"total", 16}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  EXPECT_EQ(send("GET", base_ + "/inventories/VCPU").body["total"], 8);
  EXPECT_EQ(generation(rp_), 1);
}

TEST_F(ApiInventoryTest, UnknownResourceClassIs400) {
  Reply r = putInventories({{"CUSTOM_NOPE", {{"total", 1}}}}, 0);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("CUSTOM_NOPE"), std::string::npos) << r.raw;
  r = send("POST", base_ + "/inventories", json{{"resource_class", "CUSTOM_NOPE"}, {"total", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(generation(rp_), 0);
  ASSERT_EQ(send("PUT", "/resource_classes/CUSTOM_NOPE").status, 201);
  EXPECT_EQ(putInventories({{"CUSTOM_NOPE", {{"total", 1}}}}, 0).status, 200);
}

TEST_F(ApiInventoryTest, PostOfAnExistingClassIs409) {
  ASSERT_EQ(
      send("POST", base_ + "/inventories", json{{"resource_class", "VCPU"}, {"total", 8}}).status,
      201);
  Reply r = send("POST", base_ + "/inventories", json{{"resource_class", "VCPU"}, {"total", 4}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  EXPECT_EQ(send("GET", base_ + "/inventories/VCPU").body["total"], 8);
}

TEST_F(ApiInventoryTest, MissingThingsAre404Or400) {
  EXPECT_EQ(send("GET", base_ + "/inventories/VCPU").status, 404);
  EXPECT_EQ(send("DELETE", base_ + "/inventories/VCPU").status, 404);
  std::string ghost = "/resource_providers/" + newUuid();
  EXPECT_EQ(send("GET", ghost + "/inventories").status, 404);
  EXPECT_EQ(send("GET", ghost + "/usages").status, 404);
  EXPECT_EQ(
      send("POST", ghost + "/inventories", json{{"resource_class", "VCPU"}, {"total", 1}}).status,
      404);
  EXPECT_EQ(send("PUT", ghost + "/inventories",
                 json{{"resource_provider_generation", 0}, {"inventories", json::object()}})
                .status,
            404);
  // PUT of one inventory that does not exist yet is a 400.
  Reply r = send("PUT", base_ + "/inventories/VCPU",
                 json{{"resource_provider_generation", 0}, {"total", 4}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(generation(rp_), 0);
}

TEST_F(ApiInventoryTest, InventoryInUseCannotGoAway) {
  ASSERT_EQ(putInventories({{"VCPU", {{"total", 8}}}, {"DISK_GB", {{"total", 100}}}}, 0).status,
            200);
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 4}}}}).status, 204);
  int64_t gen = generation(rp_);

  Reply r = send("DELETE", base_ + "/inventories/VCPU");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");  // Placement's quirk
  r = send("DELETE", base_ + "/inventories");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.inventory.inuse");
  r = putInventories({{"DISK_GB", {{"total", 100}}}}, gen);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.inventory.inuse");
  EXPECT_EQ(generation(rp_), gen);
  EXPECT_EQ(send("GET", base_ + "/inventories").body["inventories"].size(), 2u);

  // Shrinking below the usage is allowed; deleting an unused class too.
  r = putInventories({{"VCPU", {{"total", 2}}}, {"DISK_GB", {{"total", 100}}}}, gen);
  EXPECT_EQ(r.status, 200) << r.raw;
  r = send("DELETE", base_ + "/inventories/DISK_GB");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(generation(rp_), gen + 2);
  EXPECT_EQ(usages(rp_), json({{"VCPU", 4}}));
}

TEST_F(ApiInventoryTest, DeleteAllInventoriesAt1_5) {
  ASSERT_EQ(putInventories({{"VCPU", {{"total", 8}}}, {"DISK_GB", {{"total", 100}}}}, 0).status,
            200);
  Reply r = send("DELETE", base_ + "/inventories", std::nullopt, "1.5");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.raw, "");
  r = send("GET", base_ + "/inventories");
  EXPECT_EQ(r.body, json({{"resource_provider_generation", 2}, {"inventories", json::object()}}));
}

TEST_F(ApiInventoryTest, ProviderUsagesListEveryInventoriedClass) {
  Reply r = send("GET", base_ + "/usages", std::nullopt, "1.0");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json({{"resource_provider_generation", 0}, {"usages", json::object()}}));
  ASSERT_EQ(putInventories({{"VCPU", {{"total", 8}}}, {"DISK_GB", {{"total", 100}}}}, 0).status,
            200);
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 2}}}}).status, 204);
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 1}, {"DISK_GB", 10}}}}).status, 204);
  r = send("GET", base_ + "/usages");
  EXPECT_EQ(r.body, json({{"resource_provider_generation", 3},
                          {"usages", {{"VCPU", 3}, {"DISK_GB", 10}}}}));
}

}  // namespace
}  // namespace bwfloor::placement::testing
