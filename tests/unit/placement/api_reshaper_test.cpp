// POST /reshaper (1.30) over HTTP, and the rule that a failed request changes nothing
// (placement-api.md §1.3; DEVELOPERS.md "a failed write changes nothing").

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

constexpr const char* kBw = "NET_BW_EGR_KILOBIT_PER_SEC";

class ApiReshaperTest : public PlacementApiTest {
 protected:
  // A compute node whose bandwidth inventory (and one port's allocation of it) sits on the root
  // and must move to a child provider, as an agent does when it starts modelling the NIC.
  void SetUp() override {
    PlacementApiTest::SetUp();
    root_ = createProvider("compute");
    setInventories(root_, {{"VCPU", {{"total", 8}}}, {kBw, {{"total", 10000}}}});
    child_ = createProvider("compute:eth0", root_);
    port_ = newUuid();
    ASSERT_EQ(allocate(port_, {{root_, {{kBw, 1000}, {"VCPU", 1}}}}).status, 204);
  }
  json reshapeBody(int64_t rootGen, int64_t childGen, int64_t consumerGen) {
    return {
        {"inventories",
         {{root_,
           {{"resource_provider_generation", rootGen},
            {"inventories", {{"VCPU", {{"total", 8}}}}}}},
          {child_,
           {{"resource_provider_generation", childGen},
            {"inventories", {{kBw, {{"total", 10000}, {"step_size", 10}}}}}}}}},
        {"allocations",
         {{port_,
           {{"allocations",
             {{root_, {{"resources", {{"VCPU", 1}}}}}, {child_, {{"resources", {{kBw, 1000}}}}}}},
            {"project_id", "proj"},
            {"user_id", "user"},
            {"consumer_generation", consumerGen}}}}}};
  }
  // Everything a failed request must leave alone.
  json snapshot() {
    json out;
    for (const auto& rp : {root_, child_}) {
      std::string base = "/resource_providers/" + rp;
      out[rp] = {{"provider", send("GET", base).body},
                 {"inventories", send("GET", base + "/inventories").body},
                 {"usages", send("GET", base + "/usages").body},
                 {"traits", send("GET", base + "/traits").body},
                 {"aggregates", send("GET", base + "/aggregates").body},
                 {"allocations", send("GET", base + "/allocations").body}};
    }
    out["consumer"] = send("GET", "/allocations/" + port_).body;
    out["providers"] = send("GET", "/resource_providers").body;
    out["classes"] = send("GET", "/resource_classes").body;
    out["custom_traits"] = send("GET", "/traits?name=startswith:CUSTOM_").body;
    return out;
  }
  std::string root_;
  std::string child_;
  std::string port_;
};

TEST_F(ApiReshaperTest, MovesAllocationsFromRootToChild) {
  Reply r =
      send("POST", "/reshaper", reshapeBody(generation(root_), generation(child_), 1), "1.30");
  ASSERT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(r.raw, "");
  EXPECT_EQ(send("GET", "/resource_providers/" + root_ + "/inventories").body["inventories"].size(),
            1u);
  json childInv = send("GET", "/resource_providers/" + child_ + "/inventories/" + kBw).body;
  EXPECT_EQ(childInv["total"], 10000);
  EXPECT_EQ(childInv["step_size"], 10);
  EXPECT_EQ(usages(root_), json({{"VCPU", 1}}));
  EXPECT_EQ(usages(child_), json({{kBw, 1000}}));
  json c = send("GET", "/allocations/" + port_).body;
  EXPECT_EQ(c["allocations"][child_]["resources"], json({{kBw, 1000}}));
  EXPECT_EQ(c["allocations"][root_]["resources"], json({{"VCPU", 1}}));
  EXPECT_EQ(c["consumer_generation"], 2);
}

TEST_F(ApiReshaperTest, ConflictsAndErrorsChangeNothing) {
  int64_t rootGen = generation(root_);
  int64_t childGen = generation(child_);
  json before = snapshot();
  // Stale provider generation.
  Reply r = send("POST", "/reshaper", reshapeBody(rootGen - 1, childGen, 1), "1.30");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  // Stale consumer generation.
  r = send("POST", "/reshaper", reshapeBody(rootGen, childGen, 7), "1.30");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  // Moving the inventory without moving the allocation: still in use on the root.
  json body = reshapeBody(rootGen, childGen, 1);
  body["allocations"] = json::object();
  r = send("POST", "/reshaper", body, "1.30");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.inventory.inuse");
  // The allocation no longer fits the new inventory's step size.
  body = reshapeBody(rootGen, childGen, 1);
  body["allocations"][port_]["allocations"][child_]["resources"][kBw] = 1005;
  EXPECT_EQ(send("POST", "/reshaper", body, "1.30").status, 409);
  // Unknown provider.
  body = reshapeBody(rootGen, childGen, 1);
  body["inventories"][newUuid()] = {{"resource_provider_generation", 0},
                                    {"inventories", json::object()}};
  r = send("POST", "/reshaper", body, "1.30");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "placement.resource_provider.not_found");
  // Inventories are validated as PUT /inventories validates them.
  for (const json& bad :
       {json{{"total", 0}}, json{{"total", 10}, {"reserved", -1}},
        json{{"total", 10}, {"step_size", "ten"}}, json{{"total", 10}, {"allocation_ratio", "x"}},
        json{{"total", 10}, {"color", "red"}}}) {
    body = reshapeBody(rootGen, childGen, 1);
    body["inventories"][child_]["inventories"][kBw] = bad;
    r = send("POST", "/reshaper", body, "1.30");
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(r.errorDetail().rfind("JSON does not validate", 0), 0u) << r.raw;
  }
  body = reshapeBody(rootGen, childGen, 1);
  body["inventories"][child_]["inventories"]["CUSTOM_NOPE"] = {{"total", 1}};
  EXPECT_EQ(send("POST", "/reshaper", body, "1.30").status, 400);
  // From 1.38 each consumer needs a consumer_type.
  EXPECT_EQ(send("POST", "/reshaper", reshapeBody(rootGen, childGen, 1), "1.38").status, 400);
  // Not before 1.30; at least one provider's inventories.
  EXPECT_EQ(send("POST", "/reshaper", reshapeBody(rootGen, childGen, 1), "1.29").status, 404);
  EXPECT_EQ(send("POST", "/reshaper",
                 json{{"inventories", json::object()}, {"allocations", json::object()}})
                .status,
            400);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(ApiReshaperTest, FailedRequestsChangeNothing) {
  ASSERT_EQ(send("PUT", "/traits/CUSTOM_GOLD").status, 201);
  json before = snapshot();
  int64_t gen = generation(root_);
  std::string rootPath = "/resource_providers/" + root_;
  struct Attempt {
    std::string method;
    std::string path;
    std::optional<json> body;
    int status;
  };
  std::vector<Attempt> attempts = {
      {"POST", "/resource_providers", json{{"name", "compute"}}, 409},
      {"POST", "/resource_providers", json{{"name", "x"}, {"parent_provider_uuid", newUuid()}},
       400},
      {"PUT", rootPath, json{{"name", "compute:eth0"}}, 409},
      {"DELETE", rootPath, std::nullopt, 409},
      {"PUT", rootPath + "/inventories",
       json{{"resource_provider_generation", gen - 1}, {"inventories", json::object()}}, 409},
      {"PUT", rootPath + "/inventories",
       json{{"resource_provider_generation", gen}, {"inventories", json::object()}}, 409},
      {"PUT", rootPath + "/inventories",
       json{{"resource_provider_generation", gen},
            {"inventories", {{"VCPU", {{"total", 8}}}, {"CUSTOM_NOPE", {{"total", 1}}}}}},
       400},
      {"POST", rootPath + "/inventories", json{{"resource_class", "VCPU"}, {"total", 1}}, 409},
      {"DELETE", rootPath + "/inventories/VCPU", std::nullopt, 409},
      {"DELETE", rootPath + "/inventories", std::nullopt, 409},
      {"PUT", rootPath + "/traits",
       json{{"traits", {"CUSTOM_GOLD"}}, {"resource_provider_generation", gen + 1}}, 409},
      {"PUT", rootPath + "/traits",
       json{{"traits", {"CUSTOM_GOLD", "CUSTOM_NOPE"}}, {"resource_provider_generation", gen}},
       400},
      {"PUT", rootPath + "/aggregates",
       json{{"aggregates", {newUuid()}}, {"resource_provider_generation", gen + 1}}, 409},
      {"PUT", "/allocations/" + port_,
       json{{"allocations", {{root_, {{"resources", {{"VCPU", 100}}}}}}},
            {"project_id", "proj"},
            {"user_id", "user"},
            {"consumer_generation", 1},
            {"consumer_type", "INSTANCE"}},
       409},
      {"PUT", "/allocations/" + newUuid(),
       json{
           {"allocations",
            {{root_, {{"resources", {{"VCPU", 1}}}}}, {newUuid(), {{"resources", {{"VCPU", 1}}}}}}},
           {"project_id", "proj"},
           {"user_id", "user"},
           {"consumer_generation", nullptr},
           {"consumer_type", "INSTANCE"}},
       400},
      {"DELETE", "/allocations/" + newUuid(), std::nullopt, 404},
      {"DELETE", "/traits/CUSTOM_NOPE", std::nullopt, 404},
      {"DELETE", "/resource_classes/VCPU", std::nullopt, 400},
      {"POST", "/resource_classes", json{{"name", "VCPU"}}, 400},
  };
  for (const auto& a : attempts) {
    SCOPED_TRACE(a.method + " " + a.path + " " + (a.body ? a.body->dump() : ""));
    Reply r = send(a.method, a.path, a.body);
    EXPECT_EQ(r.status, a.status) << r.raw;
  }
  EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace bwfloor::placement::testing
