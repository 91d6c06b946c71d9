// /allocations over HTTP: body shapes per microversion, consumer generations (1.28) and types
// (1.38), capacity rules, POST /allocations (1.13) atomicity, provider allocations
// (placement-api.md §1.3, §1.4).

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

class ApiAllocationTest : public PlacementApiTest {
 protected:
  void SetUp() override {
    PlacementApiTest::SetUp();
    rp_ = createProvider("cn1");
    setInventories(rp_,
                   {{"VCPU", {{"total", 8}}},
                    {"MEMORY_MB",
                     {{"total", 4096}, {"min_unit", 256}, {"max_unit", 2048}, {"step_size", 256}}},
                    {"DISK_GB", {{"total", 100}, {"reserved", 20}, {"allocation_ratio", 2.0}}}});
  }
  json listBody(const json& resources) {
    return {{"allocations", {{{"resource_provider", {{"uuid", rp_}}}, {"resources", resources}}}}};
  }
  json dictBody(const json& resources, const json& generation, const std::string& type = "") {
    json body = {{"allocations", {{rp_, {{"resources", resources}}}}},
                 {"project_id", "proj"},
                 {"user_id", "user"},
                 {"consumer_generation", generation}};
    if (!type.empty()) body["consumer_type"] = type;
    return body;
  }
  json consumer(const std::string& c, const std::string& version = kLatest) {
    Reply r = send("GET", "/allocations/" + c, std::nullopt, version);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body;
  }
  std::string rp_;
};

TEST_F(ApiAllocationTest, ListShapeBefore1_12) {
  std::string c = newUuid();
  Reply r = send("PUT", "/allocations/" + c, listBody({{"VCPU", 2}}), "1.0");
  ASSERT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(r.raw, "");
  EXPECT_EQ(consumer(c, "1.0"),
            json({{"allocations", {{rp_, {{"generation", 2}, {"resources", {{"VCPU", 2}}}}}}}}));
  // Without project and user, Placement's "incomplete consumer" ids are recorded.
  EXPECT_EQ(consumer(c, "1.12")["project_id"], "00000000-0000-0000-0000-000000000000");
  // Before 1.8 the body knows no project_id / user_id; from 1.8 they are required.
  json early = listBody({{"VCPU", 1}});
  early["project_id"] = "p";
  EXPECT_EQ(send("PUT", "/allocations/" + c, early, "1.7").status, 400);
  EXPECT_EQ(send("PUT", "/allocations/" + c, listBody({{"VCPU", 1}}), "1.8").status, 400);
  json withIds = listBody({{"VCPU", 1}});
  withIds["project_id"] = "p";
  withIds["user_id"] = "u";
  EXPECT_EQ(send("PUT", "/allocations/" + c, withIds, "1.8").status, 204);
  EXPECT_EQ(consumer(c, "1.12")["project_id"], "p");
  // The dict shape is unknown before 1.12; the list shape is unknown from 1.12.
  EXPECT_EQ(send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr), "1.11").status, 400);
  EXPECT_EQ(send("PUT", "/allocations/" + c, withIds, "1.12").status, 400);
  EXPECT_EQ(send("PUT", "/allocations/" + c, json{{"allocations", json::array()}}, "1.0").status,
            400);
}

TEST_F(ApiAllocationTest, DictShapeAndGetShapesPerVersion) {
  std::string c = newUuid();
  json body = dictBody({{"VCPU", 2}, {"DISK_GB", 10}}, nullptr);
  body.erase("consumer_generation");
  ASSERT_EQ(send("PUT", "/allocations/" + c, body, "1.12").status, 204);
  json allocs = {{rp_, {{"generation", 2}, {"resources", {{"VCPU", 2}, {"DISK_GB", 10}}}}}};
  EXPECT_EQ(consumer(c, "1.11"), json({{"allocations", allocs}}));
  EXPECT_EQ(consumer(c, "1.12"),
            json({{"allocations", allocs}, {"project_id", "proj"}, {"user_id", "user"}}));
  EXPECT_EQ(consumer(c, "1.28"), json({{"allocations", allocs},
                                       {"project_id", "proj"},
                                       {"user_id", "user"},
                                       {"consumer_generation", 1}}));
  EXPECT_EQ(consumer(c, "1.38")["consumer_type"], "unknown");
  // An unknown consumer is an empty dict, never 404.
  for (const char* v : {"1.0", "1.12", "1.28", "1.38"}) {
    EXPECT_EQ(consumer(newUuid(), v), json({{"allocations", json::object()}})) << v;
  }
  // Bad shapes at 1.12.
  json empty = body;
  empty["allocations"] = json::object();
  EXPECT_EQ(send("PUT", "/allocations/" + c, empty, "1.12").status, 400);
  json zero = dictBody({{"VCPU", 0}}, nullptr);
  zero.erase("consumer_generation");
  EXPECT_EQ(send("PUT", "/allocations/" + c, zero, "1.12").status, 400);
  EXPECT_EQ(send("PUT", "/allocations/not-a-uuid", body, "1.12").status, 400);
}

TEST_F(ApiAllocationTest, ConsumerGenerationFrom1_28) {
  std::string c = newUuid();
  json noGen = dictBody({{"VCPU", 1}}, nullptr);
  noGen.erase("consumer_generation");
  EXPECT_EQ(send("PUT", "/allocations/" + c, noGen, "1.28").status, 400);
  Reply r = send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, 0), "1.28");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorDetail(), "consumer generation conflict - expected null but got 0");
  ASSERT_EQ(send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr), "1.28").status, 204);
  EXPECT_EQ(consumer(c)["consumer_generation"], 1);
  // null for an existing consumer, or a wrong number: conflict.
  r = send("PUT", "/allocations/" + c, dictBody({{"VCPU", 2}}, nullptr), "1.28");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorCode(), "placement.concurrent_update");
  EXPECT_EQ(r.errorDetail(), "consumer generation conflict - expected 1 but got None");
  r = send("PUT", "/allocations/" + c, dictBody({{"VCPU", 2}}, 5), "1.28");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.errorDetail().find("consumer generation conflict"), std::string::npos);
  EXPECT_EQ(usages(rp_)["VCPU"], 1);
  ASSERT_EQ(send("PUT", "/allocations/" + c, dictBody({{"VCPU", 2}}, 1), "1.28").status, 204);
  EXPECT_EQ(consumer(c)["consumer_generation"], 2);
  // allocations {} with the generation is a safe delete; the consumer goes away.
  json wipe = dictBody(json::object(), 2);
  wipe["allocations"] = json::object();
  ASSERT_EQ(send("PUT", "/allocations/" + c, wipe, "1.28").status, 204);
  EXPECT_EQ(consumer(c), json({{"allocations", json::object()}}));
  EXPECT_EQ(usages(rp_)["VCPU"], 0);
  EXPECT_EQ(send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr), "1.28").status, 204);
}

TEST_F(ApiAllocationTest, ConsumerTypeFrom1_38) {
  std::string c = newUuid();
  EXPECT_EQ(send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr), "1.38").status, 400);
  EXPECT_EQ(
      send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr, "instance"), "1.38").status,
      400);
  EXPECT_EQ(
      send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr, "INSTANCE"), "1.37").status,
      400);
  ASSERT_EQ(
      send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, nullptr, "INSTANCE"), "1.38").status,
      204);
  EXPECT_EQ(consumer(c, "1.38")["consumer_type"], "INSTANCE");
  EXPECT_FALSE(consumer(c, "1.37").contains("consumer_type"));
  ASSERT_EQ(
      send("PUT", "/allocations/" + c, dictBody({{"VCPU", 1}}, 1, "MIGRATION"), "1.38").status,
      204);
  EXPECT_EQ(consumer(c, "1.38")["consumer_type"], "MIGRATION");
}

TEST_F(ApiAllocationTest, CapacityAndUnitViolationsAre409) {
  int64_t gen = generation(rp_);
  struct Case {
    json resources;
    const char* why;
  };
  std::vector<Case> cases = {
      {{{"VCPU", 9}}, "over total"},
      {{{"DISK_GB", 161}}, "over (total - reserved) * ratio"},
      {{{"MEMORY_MB", 128}}, "under min_unit"},
      {{{"MEMORY_MB", 2304}}, "over max_unit"},
      {{{"MEMORY_MB", 300}}, "not a multiple of step_size"},
      {{{"VCPU", 1}, {"MEMORY_MB", 4096}}, "one class bad: nothing written"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    Reply r = allocate(newUuid(), {{rp_, c.resources}});
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.errorCode(), "placement.undefined_code");
    EXPECT_EQ(r.errorDetail().rfind("Unable to allocate inventory", 0), 0u) << r.raw;
  }
  EXPECT_EQ(generation(rp_), gen);
  EXPECT_EQ(usages(rp_), json({{"VCPU", 0}, {"MEMORY_MB", 0}, {"DISK_GB", 0}}));
  // The limits themselves fit.
  EXPECT_EQ(
      allocate(newUuid(), {{rp_, {{"VCPU", 8}, {"DISK_GB", 160}, {"MEMORY_MB", 2048}}}}).status,
      204);
  EXPECT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 1}}}}).status, 409);
}

TEST_F(ApiAllocationTest, ShrinkingWriteOnAnOvercommittedProviderIsAccepted) {
  std::string c = newUuid();
  ASSERT_EQ(allocate(c, {{rp_, {{"VCPU", 6}}}}).status, 204);
  setInventory(rp_, "VCPU", 4);  // shrinking below usage is allowed
  auto write = [&](int vcpu, int gen) {
    return send("PUT", "/allocations/" + c, dictBody({{"VCPU", vcpu}}, gen, "INSTANCE"));
  };
  EXPECT_EQ(write(7, 1).status, 409);  // grows: refused
  EXPECT_EQ(write(5, 1).status, 204);  // still over capacity, but smaller than before
  EXPECT_EQ(usages(rp_)["VCPU"], 5);
  EXPECT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 1}}}}).status, 409);
}

TEST_F(ApiAllocationTest, UnknownProviderOrClassIs400AndMissingInventory409) {
  Reply r = allocate(newUuid(), {{newUuid(), {{"VCPU", 1}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("does not exist"), std::string::npos) << r.raw;
  EXPECT_EQ(allocate(newUuid(), {{rp_, {{"CUSTOM_NOPE", 1}}}}).status, 400);
  r = allocate(newUuid(), {{rp_, {{"PCI_DEVICE", 1}}}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(usages(rp_)["VCPU"], 0);
}

TEST_F(ApiAllocationTest, PostAllocationsIsAtomicAcrossConsumers) {
  std::string c1 = newUuid();
  std::string c2 = newUuid();
  auto entry = [&](int vcpu) {
    return json{{"allocations", {{rp_, {{"resources", {{"VCPU", vcpu}}}}}}},
                {"project_id", "proj"},
                {"user_id", "user"},
                {"consumer_generation", nullptr},
                {"consumer_type", "INSTANCE"}};
  };
  int64_t gen = generation(rp_);
  Reply r = send("POST", "/allocations", json{{c1, entry(4)}, {c2, entry(5)}});  // 9 > 8
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(consumer(c1), json({{"allocations", json::object()}}));
  EXPECT_EQ(consumer(c2), json({{"allocations", json::object()}}));
  EXPECT_EQ(generation(rp_), gen);
  r = send("POST", "/allocations", json{{c1, entry(4)}, {c2, entry(4)}});
  ASSERT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(usages(rp_)["VCPU"], 8);
  EXPECT_EQ(generation(rp_), gen + 1);  // one bump per write
  // An empty allocations dict deletes that consumer's allocations.
  json del = entry(0);
  del["allocations"] = json::object();
  del["consumer_generation"] = 1;
  json move = entry(8);
  move["consumer_generation"] = 1;
  ASSERT_EQ(send("POST", "/allocations", json{{c1, del}, {c2, move}}).status, 204);
  EXPECT_EQ(consumer(c1), json({{"allocations", json::object()}}));
  EXPECT_EQ(usages(rp_)["VCPU"], 8);
  EXPECT_EQ(send("POST", "/allocations", json{{c1, entry(1)}}, "1.12").status, 404);
  EXPECT_EQ(send("POST", "/allocations", json::object()).status, 400);
}

TEST_F(ApiAllocationTest, MappingsFrom1_34AreAcceptedAndValidated) {
  std::string c = newUuid();
  json body = dictBody({{"VCPU", 1}}, nullptr);
  body["mappings"] = {{"_NIC", {rp_}}};
  EXPECT_EQ(send("PUT", "/allocations/" + c, body, "1.33").status, 400);
  for (const json& bad : {json::object(), json{{"_NIC", json::array()}},
                          json{{"_NIC", {"not-a-uuid"}}}, json::array({rp_})}) {
    json b = body;
    b["mappings"] = bad;
    EXPECT_EQ(send("PUT", "/allocations/" + c, b, "1.34").status, 400) << bad.dump();
  }
  ASSERT_EQ(send("PUT", "/allocations/" + c, body, "1.34").status, 204);
  EXPECT_FALSE(consumer(c).contains("mappings"));
}

TEST_F(ApiAllocationTest, DeleteAllocations) {
  std::string c = newUuid();
  ASSERT_EQ(allocate(c, {{rp_, {{"VCPU", 3}}}}).status, 204);
  int64_t gen = generation(rp_);
  Reply r = send("DELETE", "/allocations/" + c);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(usages(rp_)["VCPU"], 0);
  EXPECT_EQ(generation(rp_), gen);  // Placement's delete_all() bumps no provider (issue 18)
  EXPECT_EQ(send("DELETE", "/allocations/" + c).status, 404);
}

// An empty PUT (1.28) for a consumer that has nothing: Placement creates the consumer at
// generation 0 and keeps it without allocations, so a later null generation is a conflict while
// generation 0 writes; the consumer shows no allocations and cannot be deleted.
TEST_F(ApiAllocationTest, AnEmptyPutKeepsANewConsumerAtGenerationZero) {
  const std::string c = newUuid();
  json empty = {{"allocations", json::object()},
                {"project_id", "proj"},
                {"user_id", "user"},
                {"consumer_generation", nullptr}};
  ASSERT_EQ(send("PUT", "/allocations/" + c, empty, "1.28").status, 204);
  Reply r = send("GET", "/allocations/" + c, std::nullopt, "1.28");
  EXPECT_EQ(r.body, json({{"allocations", json::object()}}));
  EXPECT_EQ(send("DELETE", "/allocations/" + c).status, 404);

  json write = {{"allocations", {{rp_, {{"resources", {{"VCPU", 1}}}}}}},
                {"project_id", "proj"},
                {"user_id", "user"},
                {"consumer_generation", nullptr}};
  r = send("PUT", "/allocations/" + c, write, "1.28");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.errorDetail(), "consumer generation conflict - expected 0 but got None");
  write["consumer_generation"] = 0;
  ASSERT_EQ(send("PUT", "/allocations/" + c, write, "1.28").status, 204);
  r = send("GET", "/allocations/" + c, std::nullopt, "1.28");
  EXPECT_EQ(r.body["consumer_generation"], 1);
  EXPECT_EQ(usages(rp_)["VCPU"], 1);
}

// Placement's replace_all() bumps the providers it writes to; moving a consumer leaves the
// provider it left alone, and a wipe (1.28, no allocations) bumps the providers it held.
TEST_F(ApiAllocationTest, GenerationsBumpWherePlacementWrites) {
  std::string other = createProvider("other");
  ASSERT_EQ(
      send("PUT", "/resource_providers/" + other + "/inventories",
           json{{"resource_provider_generation", 0}, {"inventories", {{"VCPU", {{"total", 8}}}}}})
          .status,
      200);
  std::string c = newUuid();
  ASSERT_EQ(allocate(c, {{rp_, {{"VCPU", 1}}}}).status, 204);
  const int64_t left = generation(rp_);
  const int64_t joined = generation(other);
  Reply r = send("GET", "/allocations/" + c, std::nullopt, "1.28");
  json move = {{"allocations", {{other, {{"resources", {{"VCPU", 1}}}}}}},
               {"project_id", "p"},
               {"user_id", "u"},
               {"consumer_generation", r.body["consumer_generation"]}};
  ASSERT_EQ(send("PUT", "/allocations/" + c, move, "1.28").status, 204);
  EXPECT_EQ(generation(rp_), left);
  EXPECT_EQ(generation(other), joined + 1);
  r = send("GET", "/allocations/" + c, std::nullopt, "1.28");
  json wipe = {{"allocations", json::object()},
               {"project_id", "p"},
               {"user_id", "u"},
               {"consumer_generation", r.body["consumer_generation"]}};
  ASSERT_EQ(send("PUT", "/allocations/" + c, wipe, "1.28").status, 204) << r.raw;
  EXPECT_EQ(generation(other), joined + 2);
  EXPECT_EQ(generation(rp_), left);
}

TEST_F(ApiAllocationTest, ProviderAllocations) {
  std::string c1 = newUuid();
  std::string c2 = newUuid();
  ASSERT_EQ(allocate(c1, {{rp_, {{"VCPU", 1}}}}).status, 204);
  ASSERT_EQ(allocate(c2, {{rp_, {{"VCPU", 2}, {"DISK_GB", 5}}}}).status, 204);
  std::string path = "/resource_providers/" + rp_ + "/allocations";
  Reply r = send("GET", path, std::nullopt, "1.0");
  EXPECT_EQ(r.body, json({{"resource_provider_generation", 3},
                          {"allocations",
                           {{c1, {{"resources", {{"VCPU", 1}}}}},
                            {c2, {{"resources", {{"VCPU", 2}, {"DISK_GB", 5}}}}}}}}));
  r = send("GET", path, std::nullopt, "1.28");
  EXPECT_EQ(r.body["allocations"][c1]["consumer_generation"], 1);
  EXPECT_EQ(r.body["allocations"][c2]["consumer_generation"], 1);
  EXPECT_EQ(send("GET", "/resource_providers/" + newUuid() + "/allocations").status, 404);
}

TEST_F(ApiAllocationTest, ProjectUsages) {
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 1}}}}, "p1", "u1", "INSTANCE").status, 204);
  ASSERT_EQ(
      allocate(newUuid(), {{rp_, {{"VCPU", 2}, {"DISK_GB", 4}}}}, "p1", "u2", "INSTANCE").status,
      204);
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 1}}}}, "p1", "u1", "MIGRATION").status, 204);
  ASSERT_EQ(allocate(newUuid(), {{rp_, {{"VCPU", 4}}}}, "p2", "u1", "INSTANCE").status, 204);
  json untyped = {{"allocations", {{rp_, {{"resources", {{"DISK_GB", 1}}}}}}},
                  {"project_id", "p1"},
                  {"user_id", "u3"}};
  ASSERT_EQ(send("PUT", "/allocations/" + newUuid(), untyped, "1.12").status, 204);

  EXPECT_EQ(send("GET", "/usages?project_id=p1", std::nullopt, "1.9").body,
            json({{"usages", {{"VCPU", 4}, {"DISK_GB", 5}}}}));
  EXPECT_EQ(send("GET", "/usages?project_id=p1&user_id=u1", std::nullopt, "1.9").body,
            json({{"usages", {{"VCPU", 2}}}}));
  EXPECT_EQ(send("GET", "/usages?project_id=p3", std::nullopt, "1.9").body,
            json({{"usages", json::object()}}));
  EXPECT_EQ(send("GET", "/usages?project_id=p1").body,
            json({{"usages",
                   {{"INSTANCE", {{"VCPU", 3}, {"DISK_GB", 4}, {"consumer_count", 2}}},
                    {"MIGRATION", {{"VCPU", 1}, {"consumer_count", 1}}},
                    {"unknown", {{"DISK_GB", 1}, {"consumer_count", 1}}}}}}));
  EXPECT_EQ(
      send("GET", "/usages?project_id=p1&consumer_type=INSTANCE").body,
      json({{"usages", {{"INSTANCE", {{"VCPU", 3}, {"DISK_GB", 4}, {"consumer_count", 2}}}}}}));
  EXPECT_EQ(send("GET", "/usages?project_id=p1&consumer_type=all").body,
            json({{"usages", {{"all", {{"VCPU", 4}, {"DISK_GB", 5}, {"consumer_count", 4}}}}}}));
  EXPECT_EQ(send("GET", "/usages?project_id=p1&consumer_type=unknown").body,
            json({{"usages", {{"unknown", {{"DISK_GB", 1}, {"consumer_count", 1}}}}}}));
  EXPECT_EQ(send("GET", "/usages").status, 400);
  EXPECT_EQ(send("GET", "/usages?project_id=p1&consumer_type=instance").status, 400);
  EXPECT_EQ(send("GET", "/usages?project_id=p1&color=red").status, 400);
  EXPECT_EQ(send("GET", "/usages?project_id=").status, 400);
  EXPECT_EQ(send("GET", "/usages?project_id=p1&user_id=").status, 400);
  EXPECT_EQ(
      send("GET", "/usages?project_id=p1&consumer_type=INSTANCE", std::nullopt, "1.37").status,
      400);
}

}  // namespace
}  // namespace bwfloor::placement::testing
