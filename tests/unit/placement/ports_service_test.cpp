// The /v1 service (PortsService) over the real placement model: the scenario's scheduling, the
// agent's long-poll hand-over, rollbacks, and bad requests that must change nothing.
#include "placement/ports/ports_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "core/logging.h"
#include "core/uuid.h"
#include "placement/api/placement_api.h"
#include "placement/ports/json_store.h"
#include "placement/ports/v1_api.h"
#include "placement/store/store.h"

namespace bwfloor::ports {
namespace {

using bindings::BindingState;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kHost = "devstack0";

class PortsServiceTest : public ::testing::Test {
 protected:
  PortsServiceTest() {
    LogOptions quiet;
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    EXPECT_TRUE(model_.load());
    PortsOptions options;
    options.bindingTimeout = std::chrono::seconds(10);
    options.agentDownTime = std::chrono::seconds(60);
    service_ = std::make_unique<PortsService>(model_, docs_, options);
    EXPECT_TRUE(service_->load());
    buildScenarioTree();
  }
  ~PortsServiceTest() override { initLogging(LogOptions{}); }

  json placement(const std::string& method, const std::string& path, const json& body = nullptr,
                 int expect = 0) {
    http::Request req;
    req.method = method;
    req.path = "/placement" + path;
    req.target = req.path;
    req.peer = "127.0.0.1:1";
    req.headers.add("X-Auth-Token", "admin");
    req.headers.add("OpenStack-API-Version", "placement 1.39");
    req.headers.add("Accept", "application/json");
    if (!body.is_null()) {
      req.headers.add("Content-Type", "application/json");
      req.body = body.dump();
    }
    http::Response resp = api_.handle(req);
    if (expect != 0) {
      EXPECT_EQ(resp.status, expect) << method << " " << path << ": " << resp.body;
    }
    return resp.body.empty() ? json() : json::parse(resp.body, nullptr, false);
  }

  std::string provider(const std::string& name, const std::string& parent, const json& traits,
                       const json& inventories) {
    json body = {{"name", name}};
    if (!parent.empty()) body["parent_provider_uuid"] = parent;
    const std::string uuid = placement("POST", "/resource_providers", body, 200)["uuid"];
    if (!traits.empty()) {
      for (const auto& t : traits) placement("PUT", "/traits/" + t.get<std::string>(), nullptr);
      placement("PUT", "/resource_providers/" + uuid + "/traits",
                {{"resource_provider_generation", 0}, {"traits", traits}}, 200);
    }
    if (!inventories.empty()) {
      const int64_t gen = placement("GET", "/resource_providers/" + uuid)["generation"];
      placement("PUT", "/resource_providers/" + uuid + "/inventories",
                {{"resource_provider_generation", gen}, {"inventories", inventories}}, 200);
    }
    return uuid;
  }

  // scenario.md: br-test 1500/1500 (physnet0, normal+direct), ens5 under the SR-IOV agent.
  void buildScenarioTree() {
    const std::string root = provider(kHost, "", json::array(), json::object());
    const std::string ovs = provider("devstack0:Open vSwitch agent", root, {}, {});
    ovsAgent_ = ovs;
    brTest_ =
        provider("devstack0:Open vSwitch agent:br-test", ovs,
                 {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT"},
                 {{"NET_BW_EGR_KILOBIT_PER_SEC", {{"total", 1500}}},
                  {"NET_BW_IGR_KILOBIT_PER_SEC", {{"total", 1500}}}});
    ASSERT_TRUE(service_->heartbeat(
        {.host = kHost, .agentType = "Open vSwitch agent", .resourcesSynced = true}));
  }

  void scenarioObjects() {
    ASSERT_TRUE(
        service_->createNetwork({.name = "net0", .physnet = "physnet0", .segmentationId = 100}));
    ASSERT_TRUE(service_->createPolicy({.name = "qp0"}));
    for (Direction dir : {Direction::kEgress, Direction::kIngress}) {
      ASSERT_TRUE(service_->createRule(
          "qp0", {.type = RuleType::kMinimumBandwidth, .direction = dir, .kbps = 1000}));
    }
    for (const char* name : {"port-normal-qos", "port-normal-qos-2"}) {
      ASSERT_TRUE(service_->createPort({.name = name, .network = "net0", .qosPolicy = "qp0"}));
    }
  }

  // What bwfloor-agent does: long-poll the host's bindings (answered on the service's own
  // thread), then report `state` for every port it got.
  std::future<bindings::HostBindings> agentAnswers(uint64_t revision, bindings::BindingState state,
                                                   const std::string& detail = "") {
    auto done = std::make_shared<std::promise<bindings::HostBindings>>();
    service_->waitForBindings(
        kHost, revision, std::nullopt, std::chrono::steady_clock::now() + std::chrono::seconds(10),
        [this, done, state, detail] {
          auto desired = service_->hostBindings(kHost);  // takes the service's lock
          for (const auto& b : desired.bindings) {
            if (b.status.state != bindings::BindingState::kPending) continue;
            EXPECT_TRUE(service_->reportBindingStatus(b.portId, {state, detail, kHost, "ovs"}));
          }
          done->set_value(desired);
        });
    return done->get_future();
  }

  // The OVS agent provider reports `kpps` of packet processing, as the agent does with
  // resource_provider_packet_processing_without_direction (plus its vnic-type trait).
  void givePacketRate(int64_t kpps, const std::string& rc = "NET_PACKET_RATE_KILOPACKET_PER_SEC") {
    const int64_t gen = placement("GET", "/resource_providers/" + ovsAgent_)["generation"];
    placement("PUT", "/resource_providers/" + ovsAgent_ + "/inventories",
              {{"resource_provider_generation", gen}, {"inventories", {{rc, {{"total", kpps}}}}}},
              200);
    placement("PUT", "/resource_providers/" + ovsAgent_ + "/traits",
              {{"resource_provider_generation", gen + 1}, {"traits", {"CUSTOM_VNIC_TYPE_NORMAL"}}},
              200);
  }

  ApiResult<Server> createServer(const std::string& name, const std::string& port,
                                 const std::string& host = "") {
    return service_->createServer(ServerRequest{.name = name, .host = host, .ports = {port}});
  }

  json usage() { return placement("GET", "/resource_providers/" + brTest_ + "/usages")["usages"]; }
  size_t consumersOnBrTest() {
    return placement("GET", "/resource_providers/" + brTest_ + "/allocations")["allocations"]
        .size();
  }

  std::shared_ptr<JsonStore> docs_ = std::make_shared<MemoryJsonStore>();
  placement::PlacementModel model_{std::make_shared<placement::MemoryStore>()};
  placement::PlacementApi api_{model_, placement::ApiOptions{}};
  std::unique_ptr<PortsService> service_;
  std::string brTest_;
  std::string ovsAgent_;
};

TEST_F(PortsServiceTest, ScenarioVm0IsBoundAndVm1HasNoValidHost) {
  scenarioObjects();
  const uint64_t revision = service_->hostRevision(kHost);
  auto agent = agentAnswers(revision, BindingState::kEnforced);
  auto vm0 = createServer("vm0", "port-normal-qos");
  ASSERT_TRUE(vm0) << vm0.error().detail;
  EXPECT_EQ(vm0->status, ServerStatus::kActive);
  EXPECT_EQ(vm0->host, kHost);
  ASSERT_EQ(agent.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const bindings::HostBindings desired = agent.get();
  ASSERT_EQ(desired.bindings.size(), 1U);
  EXPECT_EQ(desired.bindings[0].allocation, brTest_);
  EXPECT_EQ(desired.bindings[0].device, "br-test");
  EXPECT_EQ(desired.bindings[0].agentType, "Open vSwitch agent");
  EXPECT_EQ(desired.bindings[0].minEgressKbps, 1000U);
  EXPECT_EQ(desired.bindings[0].minIngressKbps, 1000U);

  const json port = service_->show(Kind::kPort, "port-normal-qos").value();
  EXPECT_EQ(port["binding_profile"]["allocation"], brTest_);
  EXPECT_EQ(port["binding_status"]["state"], "enforced");
  EXPECT_EQ(port["status"], "ACTIVE");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1000);
  EXPECT_EQ(usage()["NET_BW_IGR_KILOBIT_PER_SEC"], 1000);

  auto vm1 = createServer("vm1", "port-normal-qos-2");
  ASSERT_FALSE(vm1);
  EXPECT_EQ(vm1.error().errc, placement::Errc::kConflict);
  EXPECT_THAT(vm1.error().detail, HasSubstr("No valid host was found"));
  EXPECT_THAT(vm1.error().detail, HasSubstr("has 500 NET_BW_EGR_KILOBIT_PER_SEC left"));
  EXPECT_EQ(consumersOnBrTest(), 1U) << "the failed boot left an allocation";
  EXPECT_EQ(service_->list(Kind::kServer).size(), 1U);

  ASSERT_TRUE(service_->deleteObject(Kind::kServer, "vm0"));
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 0);
  EXPECT_EQ(consumersOnBrTest(), 0U);
  EXPECT_TRUE(service_->hostBindings(kHost).bindings.empty());
}

// Issue 15: a create held one of the server's HTTP threads until the agent reported, and the
// report needed a thread of the same pool. Now the call returns at once and the agent's report
// (on its own thread) answers it.
TEST_F(PortsServiceTest, CreateReturnsAtOnceAndTheAgentsReportAnswersIt) {
  scenarioObjects();
  auto answer = std::make_shared<std::promise<ApiResult<Server>>>();
  auto answered = answer->get_future();
  service_->createServer({.name = "vm0", .ports = {"port-normal-qos"}},
                         [answer](ApiResult<Server> r) { answer->set_value(std::move(r)); });
  EXPECT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "answered before the agent reported";
  EXPECT_EQ(service_->show(Kind::kServer, "vm0").value()["status"], "BUILD");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1000) << "claimed before the agent reports";
  std::thread agent([this] {
    const auto desired = service_->hostBindings(kHost);
    ASSERT_EQ(desired.bindings.size(), 1U);
    EXPECT_TRUE(service_->reportBindingStatus(desired.bindings[0].portId,
                                              {BindingState::kEnforced, "", kHost, "ovs"}));
  });
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  agent.join();
  auto vm0 = answered.get();
  ASSERT_TRUE(vm0) << vm0.error().detail;
  EXPECT_EQ(vm0->status, ServerStatus::kActive);
}

// Issue 15: kill -9 between the claim and the documents left allocations without a server, and
// between the documents and the agent's report servers in BUILD forever. Start-up undoes both.
// An operator deletes one of a host's providers in placement: the host's long-poll answers at
// once with providers_deleted counted up (the agent re-creates), and a poll that already knows
// the count waits. Another host's waiter is not woken.
TEST_F(PortsServiceTest, AProviderDeletedInPlacementWakesItsHostsLongPoll) {
  const uint64_t revision = service_->hostRevision(kHost);
  ASSERT_EQ(service_->hostBindings(kHost).providersDeleted, 0U);
  ASSERT_TRUE(service_->heartbeat({.host = "other", .agentType = "Open vSwitch agent"}));
  auto answered = [&](const std::string& host, std::optional<uint64_t> deleted) {
    auto done = std::make_shared<std::promise<bindings::HostBindings>>();
    service_->waitForBindings(
        host, service_->hostRevision(host), deleted,
        std::chrono::steady_clock::now() + std::chrono::seconds(10),
        [this, done, host] { done->set_value(service_->hostBindings(host)); });
    return done->get_future();
  };
  auto mine = answered(kHost, 0);
  auto others = answered("other", 0);
  placement("DELETE", "/resource_providers/" + brTest_, nullptr, 204);
  ASSERT_EQ(mine.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const bindings::HostBindings after = mine.get();
  EXPECT_EQ(after.providersDeleted, 1U);
  EXPECT_EQ(after.revision, revision);
  EXPECT_EQ(others.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  // A poll with an old count answers at once; one with the current count waits.
  EXPECT_EQ(answered(kHost, 0).wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(answered(kHost, 1).wait_for(std::chrono::milliseconds(200)),
            std::future_status::timeout);
}

TEST_F(PortsServiceTest, StartUpUndoesWhatAnInterruptedCreateLeft) {
  scenarioObjects();
  // A create in flight when the process dies: claimed, documents written, no answer yet.
  service_->createServer({.name = "vm0", .ports = {"port-normal-qos"}},
                         [](const ApiResult<Server>&) { FAIL() << "answered after the crash"; });
  ASSERT_EQ(service_->show(Kind::kServer, "vm0").value()["status"], "BUILD");
  // A claim whose documents were never written.
  placement::AllocationWrite orphan;
  orphan.consumerUuid = "3f1e6a2c-5b7d-4c8e-9f0a-1b2c3d4e5f60";
  orphan.allocations[brTest_] = {{"NET_BW_EGR_KILOBIT_PER_SEC", 200}};
  orphan.projectId = "bwfloor";
  orphan.userId = "bwfloor";
  ASSERT_TRUE(model_.writeAllocations({orphan}));
  // Someone else's consumer is not bwfloor's business.
  placement::AllocationWrite foreign = orphan;
  foreign.consumerUuid = "4f1e6a2c-5b7d-4c8e-9f0a-1b2c3d4e5f60";
  foreign.projectId = "another-project";
  ASSERT_TRUE(model_.writeAllocations({foreign}));
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1400);

  service_.reset();  // the crash: nothing answers, nothing cleans up
  service_ = std::make_unique<PortsService>(model_, docs_, PortsOptions{});
  ASSERT_TRUE(service_->load());
  EXPECT_TRUE(service_->list(Kind::kServer).empty());
  const json port = service_->show(Kind::kPort, "port-normal-qos").value();
  EXPECT_EQ(port["device_id"], "");
  EXPECT_EQ(port["binding_host"], "");
  EXPECT_EQ(port["binding_status"]["state"], "unbound");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 200) << "only the foreign consumer is left";
  EXPECT_FALSE(model_.getConsumer(orphan.consumerUuid));
  EXPECT_TRUE(model_.getConsumer(foreign.consumerUuid));
}

// The objects survive a restart as the same typed values (the store keeps their JSON shape).
TEST_F(PortsServiceTest, StoredObjectsLoadBackAsTheyWere) {
  scenarioObjects();
  auto agent = agentAnswers(service_->hostRevision(kHost), BindingState::kEnforced);
  ASSERT_TRUE(createServer("vm0", "port-normal-qos"));
  const json before = {service_->list(Kind::kNetwork), service_->list(Kind::kPolicy),
                       service_->list(Kind::kPort), service_->list(Kind::kServer)};
  const auto bindingsBefore = service_->hostBindings(kHost);
  service_ = std::make_unique<PortsService>(model_, docs_, PortsOptions{});
  ASSERT_TRUE(service_->load());
  const json after = {service_->list(Kind::kNetwork), service_->list(Kind::kPolicy),
                      service_->list(Kind::kPort), service_->list(Kind::kServer)};
  EXPECT_EQ(after, before);
  EXPECT_EQ(service_->hostBindings(kHost).bindings, bindingsBefore.bindings);
}

// A document the store cannot turn back into an object stops the load and names itself.
TEST_F(PortsServiceTest, AnUnreadableStoredDocumentIsAnErrorNamingIt) {
  auto store = std::make_shared<MemoryJsonStore>();
  ASSERT_TRUE(store->apply({{"port", "p1",
                             json{{"id", "p1"},
                                  {"name", "p"},
                                  {"network_id", "n"},
                                  {"mac_address", "fa:16:3e:00:00:01"},
                                  {"vnic_type", "warp-drive"}}}}));
  PortsService service(model_, store, PortsOptions{});
  auto loaded = service.load();
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr("port \"p1\""));
  EXPECT_THAT(loaded.error().message(), HasSubstr("'vnic_type' must be one of normal, direct"));
  EXPECT_THAT(loaded.error().message(), HasSubstr("warp-drive"));
}

TEST_F(PortsServiceTest, PolicyChangeFollowsTheAllocationOrIsRefusedWithNothingChanged) {
  scenarioObjects();
  auto agent = agentAnswers(service_->hostRevision(kHost), BindingState::kEnforced);
  ASSERT_TRUE(createServer("vm0", "port-normal-qos"));
  std::string egressRule;
  const json policy = service_->show(Kind::kPolicy, "qp0").value();
  for (const auto& r : policy["rules"]) {
    if (r["direction"] == "egress") egressRule = r["id"];
  }
  ASSERT_FALSE(egressRule.empty());
  const uint64_t revision = service_->hostRevision(kHost);

  auto changed = service_->updateRule("qp0", egressRule, {.minKbps = 1400});
  ASSERT_TRUE(changed) << changed.error().detail;
  EXPECT_EQ(changed->kbps, 1400);
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1400);
  EXPECT_EQ(usage()["NET_BW_IGR_KILOBIT_PER_SEC"], 1000);
  EXPECT_GT(service_->hostRevision(kHost), revision) << "the agent is not told";
  EXPECT_EQ(service_->hostBindings(kHost).bindings[0].minEgressKbps, 1400U);

  // 1600 > 1500: refused, allocation, policy and bindings as they were.
  auto tooMuch = service_->updateRule("qp0", egressRule, {.minKbps = 1600});
  ASSERT_FALSE(tooMuch);
  EXPECT_EQ(tooMuch.error().errc, placement::Errc::kConflict);
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1400);
  EXPECT_EQ(service_->hostBindings(kHost).bindings[0].minEgressKbps, 1400U);
  const json after = service_->show(Kind::kPolicy, "qp0").value();
  for (const auto& r : after["rules"]) {
    if (r["id"] == egressRule) {
      EXPECT_EQ(r["min_kbps"], 1400);
    }
  }
  // A minimum rule's rate is min_kbps: a max_kbps for it is refused and names the field.
  auto wrongField = service_->updateRule("qp0", egressRule, {.maxKbps = 100});
  ASSERT_FALSE(wrongField);
  EXPECT_EQ(wrongField.error().errc, placement::Errc::kInvalid);
  EXPECT_THAT(wrongField.error().detail, HasSubstr("'min_kbps'"));
}

TEST_F(PortsServiceTest, AgentThatCannotEnforceRollsTheClaimBack) {
  scenarioObjects();
  auto agent = agentAnswers(service_->hostRevision(kHost), BindingState::kFailed,
                            "RTNETLINK: No such device");
  auto vm0 = createServer("vm0", "port-normal-qos");
  ASSERT_FALSE(vm0);
  EXPECT_EQ(vm0.error().errc, placement::Errc::kConflict);
  EXPECT_THAT(vm0.error().detail, HasSubstr("RTNETLINK: No such device"));
  EXPECT_EQ(consumersOnBrTest(), 0U);
  EXPECT_EQ(service_->list(Kind::kServer).size(), 0U);
  const json port = service_->show(Kind::kPort, "port-normal-qos").value();
  EXPECT_EQ(port["binding_host"], "");
  EXPECT_TRUE(service_->hostBindings(kHost).bindings.empty());
}

TEST_F(PortsServiceTest, BadRequestsAreRefusedPreciselyAndChangeNothing) {
  scenarioObjects();
  const json before = {service_->list(Kind::kNetwork), service_->list(Kind::kPolicy),
                       service_->list(Kind::kPort), service_->list(Kind::kServer)};

  auto unknownNet = service_->createPort({.name = "p", .network = "nope"});
  ASSERT_FALSE(unknownNet);
  EXPECT_EQ(unknownNet.error().errc, placement::Errc::kInvalid);
  EXPECT_THAT(unknownNet.error().detail, HasSubstr("nope"));

  // A port on a physnet no agent serves: nothing to schedule on.
  ASSERT_TRUE(service_->createNetwork({.name = "net9", .physnet = "physnet9"}));
  ASSERT_TRUE(service_->createPort({.name = "p9", .network = "net9", .qosPolicy = "qp0"}));
  auto nowhere = createServer("vm9", "p9");
  ASSERT_FALSE(nowhere);
  EXPECT_THAT(nowhere.error().detail, HasSubstr("No valid host was found"));
  EXPECT_THAT(nowhere.error().detail, HasSubstr("CUSTOM_PHYSNET_PHYSNET9"));
  ASSERT_TRUE(service_->deleteObject(Kind::kPort, "p9"));
  ASSERT_TRUE(service_->deleteObject(Kind::kNetwork, "net9"));

  // Binding to a host whose agent is dead (never sent a heartbeat).
  auto dead = createServer("vmx", "port-normal-qos", "compute9");
  ASSERT_FALSE(dead);
  EXPECT_THAT(dead.error().detail, HasSubstr("compute9"));

  const json after = {service_->list(Kind::kNetwork), service_->list(Kind::kPolicy),
                      service_->list(Kind::kPort), service_->list(Kind::kServer)};
  EXPECT_EQ(after, before);
  EXPECT_EQ(consumersOnBrTest(), 0U);
}

// Issue 15: wrong JSON types and non-UTF-8 paths reached nlohmann's throwing accessors and
// serializer and aborted the server. Through the /v1 handler they are 400 / 404 answers.
TEST_F(PortsServiceTest, WrongJsonTypesAndNonUtf8PathsAreAnswersNotAborts) {
  scenarioObjects();
  const json before = {service_->list(Kind::kPort), service_->list(Kind::kServer)};
  V1Api v1(*service_, placement::ApiOptions{});
  auto send = [&](const std::string& method, const std::string& path, const std::string& body) {
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.headers.add("X-Auth-Token", "admin");
    req.body = body;
    http::Response out;
    v1.handle(std::move(req), [&](http::Response r) { out = std::move(r); });
    return out;
  };
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/servers", R"({"name":"x","host":5,"ports":[]})"},
           {"/v1/agents", R"({"host":5})"},
           {"/v1/ports", R"({"name":"p","network":5})"},
           {"/v1/qos_policies/qp0/rules", R"({"type":"minimum_bandwidth","direction":5})"}}) {
    SCOPED_TRACE(path + " " + body);
    const http::Response r = send("POST", path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_THAT(r.body, HasSubstr("' must be "));
    EXPECT_THAT(r.body, HasSubstr(", got 5\""));
  }
  // Each body is parsed into its typed request at the edge: the 400 names the field, what it
  // must be and what it was.
  const std::string ruleUrl = "/v1/qos_policies/qp0/rules";
  for (const auto& [method, path, body, detail] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"POST", "/v1/servers", R"({"name":"x","ports":["a",7]})",
            "'ports' must be a list of strings, got [\"a\",7]"},
           {"POST", "/v1/servers", R"({"name":"x"})",
            "'ports' is required (a list of port names or ids)"},
           {"POST", "/v1/servers", R"({"name":"x","ports":[],"strategy":"random"})",
            "'strategy' must be one of spread, pack, got \"random\""},
           {"POST", ruleUrl, R"({"type":"minimum_bandwidth","min_kbps":-5})",
            "'min_kbps' must be a whole number of kbit/s from 1 to 2147483647, got -5"},
           {"POST", ruleUrl, R"({"type":"minimum_bandwidth","min_kbps":5,"max_kbps":6})",
            "unknown field \"max_kbps\" (known: id, type, direction, min_kbps)"},
           {"POST", ruleUrl, R"({"type":"dscp_marking"})",
            "'type' must be one of minimum_bandwidth, bandwidth_limit, minimum_packet_rate, got "
            "\"dscp_marking\""},
           {"PUT", ruleUrl + "/x", R"({"min_kbps":4611686018427387904})",
            "'min_kbps' must be a whole number of kbit/s from 1 to 2147483647, got "
            "4611686018427387904"},
           {"POST", "/v1/ports", R"({"name":"p","network":"net0","vnic_type":"vdpa"})",
            "'vnic_type' must be one of normal, direct, macvtap, direct-physical, got \"vdpa\""},
           {"POST", "/v1/ports", R"({"name":"p","network":"net0","mac_address":"nope"})",
            "'mac_address' must be a MAC address like fa:16:3e:00:00:01, got \"nope\""},
           {"POST", "/v1/ports", R"({"name":"","network":"net0"})",
            "'name' must be a non-empty string of at most 255 characters, got \"\""},
           {"POST", "/v1/networks",
            R"({"name":"n","physnet":"p","network_type":"flat","segmentation_id":5})",
            "'segmentation_id' must be absent on a flat network, got 5"},
           {"POST", "/v1/networks", R"({"name":"n","physnet":"p","segmentation_id":4095})",
            "'segmentation_id' must be a VLAN id from 1 to 4094, got 4095"},
           {"POST", "/v1/agents", R"({"host":"h","agent_type":"x","configurations":[]})",
            "'configurations' must be an object, got []"},
           {"PUT", "/v1/ports/x/binding_status", R"({"state":"pending"})",
            "state: expected one of enforced, placement-only, failed, removed, got \"pending\""},
           {"POST", "/v1/networks", "[1]", "the body must be a JSON object, got [1]"},
       }) {
    SCOPED_TRACE(method + " " + path + " " + body);
    const http::Response r = send(method, path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body)["errors"][0]["detail"], detail);
  }
  const http::Response bad = send("GET", std::string("/v1/\xff"), "");
  EXPECT_EQ(bad.status, 404) << bad.body;
  EXPECT_TRUE(json::accept(bad.body)) << bad.body;
  const json after = {service_->list(Kind::kPort), service_->list(Kind::kServer)};
  EXPECT_EQ(after, before);
}

// Found by the HTTP fuzzer: a port without a QoS policy (null) made every rule create a 400.
TEST_F(PortsServiceTest, ARuleCanBeAddedWhileAPortHasNoPolicy) {
  scenarioObjects();
  ASSERT_TRUE(service_->createPort({.name = "plain", .network = "net0"}));
  ASSERT_TRUE(service_->createPolicy({.name = "qp1"}));
  auto rule = service_->createRule("qp1", {.type = RuleType::kMinimumBandwidth, .kbps = 10});
  EXPECT_TRUE(rule) << rule.error().detail;
}

// Issue 15: any compute node could heartbeat as another host and mark any port enforced. An
// agent's token acts as its host only.
TEST_F(PortsServiceTest, AnAgentTokenActsOnlyAsItsHost) {
  scenarioObjects();
  // vm0 bound to devstack0, its port pending.
  service_->createServer({.name = "vm0", .ports = {"port-normal-qos"}},
                         [](const ApiResult<Server>&) {});
  const std::string portId = service_->show(Kind::kPort, "port-normal-qos").value()["id"];
  placement::ApiOptions options;
  options.auth = placement::AuthStrategy::kToken;
  options.adminTokens = {"admin-secret"};
  options.agentTokens = {{"agent-devstack0", kHost}, {"agent-other", "other"}};
  V1Api v1(*service_, options);
  auto send = [&](const std::string& token, const std::string& method, const std::string& path,
                  const json& body = nullptr) {
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.headers.add("X-Auth-Token", token);
    if (!body.is_null()) req.body = body.dump();
    http::Response out;
    v1.handle(std::move(req), [&](http::Response r) { out = std::move(r); });
    return out.status;
  };
  const json beat = {{"host", kHost}, {"agent_type", "Open vSwitch agent"}};
  EXPECT_EQ(send("agent-devstack0", "POST", "/v1/agents", beat), 200);
  EXPECT_EQ(send("agent-other", "POST", "/v1/agents", beat), 403);
  EXPECT_EQ(send("agent-devstack0", "GET", std::string("/v1/hosts/") + kHost + "/bindings"), 200);
  EXPECT_EQ(send("agent-other", "GET", std::string("/v1/hosts/") + kHost + "/bindings"), 403);
  const json enforced = {{"state", "enforced"}, {"host", kHost}};
  EXPECT_EQ(send("agent-other", "PUT", "/v1/ports/" + portId + "/binding_status", enforced), 403);
  EXPECT_EQ(service_->show(Kind::kPort, portId).value()["binding_status"]["state"], "pending");
  EXPECT_EQ(
      send("agent-devstack0", "POST", "/v1/servers", {{"name", "x"}, {"ports", json::array()}}),
      403);
  EXPECT_EQ(send("agent-devstack0", "DELETE", "/v1/servers/vm0"), 403);
  EXPECT_EQ(send("agent-devstack0", "PUT", "/v1/ports/" + portId + "/binding_status", enforced),
            200);
  EXPECT_EQ(service_->show(Kind::kServer, "vm0").value()["status"], "ACTIVE");
  EXPECT_EQ(send("nobody", "GET", "/v1/ports"), 401);
}

// Issue 17: with the host's agent dead, "No valid host" said "no resource provider has those
// traits" although br-test has them; and the server logged nothing when the agent went dead.
TEST(PortsServiceLivenessTest, ADeadAgentIsTheReasonGivenAndItsDeathIsLogged) {
  std::ostringstream logged;
  LogOptions capture;
  capture.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
  initLogging(capture);
  placement::PlacementModel model(std::make_shared<placement::MemoryStore>());
  ASSERT_TRUE(model.load());
  auto p = model.createProvider(kHost, std::nullopt, std::nullopt);  // a one-provider tree
  ASSERT_TRUE(p);
  for (const char* t : {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL"}) {
    ASSERT_TRUE(model.createTrait(t));
  }
  ASSERT_TRUE(model.setTraits(p->uuid, p->generation,
                              {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL"}));
  placement::Inventory inv;
  inv.total = 1500;
  ASSERT_TRUE(
      model.setInventories(p->uuid, p->generation + 1, {{"NET_BW_EGR_KILOBIT_PER_SEC", inv}}));
  PortsOptions options;
  options.agentDownTime = std::chrono::seconds(1);
  PortsService service(model, std::make_shared<MemoryJsonStore>(), options);
  ASSERT_TRUE(service.load());
  ASSERT_TRUE(service.heartbeat({.host = kHost, .agentType = "Open vSwitch agent"}));
  ASSERT_TRUE(service.createNetwork({.name = "net0", .physnet = "physnet0"}));
  ASSERT_TRUE(service.createPolicy({.name = "qp0"}));
  ASSERT_TRUE(service.createRule(
      "qp0", {.type = RuleType::kMinimumBandwidth, .direction = Direction::kEgress, .kbps = 1000}));
  ASSERT_TRUE(service.createPort({.name = "port0", .network = "net0", .qosPolicy = "qp0"}));
  service.expireWaiters();
  EXPECT_THAT(logged.str(), Not(HasSubstr("is dead")));

  // No heartbeat for longer than agent_down_time (1 s here).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (service.stats().agentsAlive > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(service.stats().agentsDead, 1);
  service.expireWaiters();
  EXPECT_THAT(logged.str(), HasSubstr("agent Open vSwitch agent on host devstack0 is dead"));
  auto refused = service.createServer(ServerRequest{.name = "vm0", .ports = {"port0"}});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().detail,
              HasSubstr("devstack0 has room but its agent is not alive (last heartbeat"));
  EXPECT_THAT(refused.error().detail, Not(HasSubstr("no resource provider has those traits")));

  ASSERT_TRUE(service.heartbeat({.host = kHost, .agentType = "Open vSwitch agent"}));
  service.expireWaiters();
  EXPECT_THAT(logged.str(), HasSubstr("agent Open vSwitch agent on host devstack0 is alive again"));
  initLogging(LogOptions{});
}

// Issue 18, minimum packet rate: the agent provider has room for one port's 600 kpps; the
// bandwidth (500 kbit/s egress each) has room for both. Port 1 lands with its packet rate on the
// agent provider and its bandwidth on br-test, groups tied by same_subtree; port 2 is refused
// with a reason that names the packet rate, not the bandwidth.
// Six concurrent server creates, each port asking 300 kpps of the agent provider's 1000: three
// land, three are refused with "No valid host", and placement holds exactly three claims.
TEST_F(PortsServiceTest, ConcurrentPacketRateClaimsNeverOvercommitTheAgentProvider) {
  givePacketRate(1000);
  ASSERT_TRUE(service_->createNetwork({.name = "net0", .physnet = "physnet0"}));
  ASSERT_TRUE(service_->createPolicy({.name = "pps"}));
  ASSERT_TRUE(service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kAny, .kpps = 300}));
  constexpr int kServers = 6;
  for (int i = 0; i < kServers; ++i) {
    ASSERT_TRUE(service_->createPort(
        {.name = "p" + std::to_string(i), .network = "net0", .qosPolicy = "pps"}));
  }
  // The host's agent: reports every pending binding enforced, as it polls.
  std::atomic<bool> stop{false};
  std::thread agent([&] {
    while (!stop) {
      for (const auto& b : service_->hostBindings(kHost).bindings) {
        if (b.status.state == BindingState::kPending) {
          (void)service_->reportBindingStatus(b.portId,
                                              {BindingState::kEnforced, "", kHost, "ovs"});
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the agent's poll period
    }
  });
  std::vector<std::future<ApiResult<Server>>> creates;
  for (int i = 0; i < kServers; ++i) {
    creates.push_back(std::async(std::launch::async, [this, i] {
      return createServer("vm" + std::to_string(i), "p" + std::to_string(i));
    }));
  }
  int landed = 0;
  int refused = 0;
  for (auto& c : creates) {
    auto server = c.get();
    if (server) {
      ++landed;
    } else {
      ++refused;
      EXPECT_EQ(server.error().errc, placement::Errc::kConflict);
      EXPECT_THAT(server.error().detail, HasSubstr("No valid host was found"));
    }
  }
  stop = true;
  agent.join();
  EXPECT_EQ(landed, 3);
  EXPECT_EQ(refused, 3);
  const json usages = placement("GET", "/resource_providers/" + ovsAgent_ + "/usages")["usages"];
  EXPECT_EQ(usages["NET_PACKET_RATE_KILOPACKET_PER_SEC"], 900);
}

TEST_F(PortsServiceTest, PacketRateLandsOnTheAgentProviderAndTheSecondPortHasNoValidHost) {
  givePacketRate(1000);
  ASSERT_TRUE(service_->createNetwork({.name = "net0", .physnet = "physnet0"}));
  ASSERT_TRUE(service_->createPolicy({.name = "pps"}));
  auto bw = service_->createRule("pps", {.type = RuleType::kMinimumBandwidth, .kbps = 500});
  ASSERT_TRUE(bw);
  auto pps = service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kAny, .kpps = 600});
  ASSERT_TRUE(pps) << pps.error().detail;
  auto p1 = service_->createPort({.name = "p1", .network = "net0", .qosPolicy = "pps"});
  ASSERT_TRUE(p1);
  ASSERT_TRUE(service_->createPort({.name = "p2", .network = "net0", .qosPolicy = "pps"}));

  // Neutron's request groups: ids uuid5(port id, rule id), bandwidth first.
  const json rr = service_->show(Kind::kPort, "p1").value()["resource_request"];
  const Uuid portUuid = Uuid::parse(p1->id).value();
  const std::string bwGroup = uuid5(portUuid, bw->id).toString();
  const std::string ppGroup = uuid5(portUuid, pps->id).toString();
  EXPECT_EQ(rr,
            json::parse(R"({"request_groups": [
      {"id": ")" + bwGroup +
                        R"(", "required": ["CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL"],
       "resources": {"NET_BW_EGR_KILOBIT_PER_SEC": 500}},
      {"id": ")" + ppGroup +
                        R"(", "required": ["CUSTOM_VNIC_TYPE_NORMAL"],
       "resources": {"NET_PACKET_RATE_KILOPACKET_PER_SEC": 600}}],
      "same_subtree": [")" +
                        bwGroup + R"(", ")" + ppGroup + R"("]})"));

  auto agent = agentAnswers(service_->hostRevision(kHost), BindingState::kEnforced);
  auto vm0 = createServer("vm0", "p1");
  ASSERT_TRUE(vm0) << vm0.error().detail;
  ASSERT_EQ(agent.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const bindings::HostBindings desired = agent.get();
  ASSERT_EQ(desired.bindings.size(), 1U);
  EXPECT_EQ(desired.bindings[0].allocation, brTest_);
  EXPECT_EQ(desired.bindings[0].packetRateAllocation, ovsAgent_);
  EXPECT_EQ(desired.bindings[0].minEgressKbps, 500U);
  EXPECT_EQ(desired.bindings[0].minAnyKpps, 600U);
  const json allocations = placement("GET", "/allocations/" + vm0->id)["allocations"];
  EXPECT_EQ(allocations[ovsAgent_]["resources"],
            json({{"NET_PACKET_RATE_KILOPACKET_PER_SEC", 600}}));
  EXPECT_EQ(allocations[brTest_]["resources"], json({{"NET_BW_EGR_KILOBIT_PER_SEC", 500}}));
  EXPECT_EQ(service_->show(Kind::kPort, "p1").value()["binding_profile"]["packet_rate_allocation"],
            ovsAgent_);

  auto vm1 = createServer("vm1", "p2");
  ASSERT_FALSE(vm1);
  EXPECT_EQ(vm1.error().errc, placement::Errc::kConflict);
  EXPECT_THAT(vm1.error().detail, HasSubstr("No valid host was found"));
  EXPECT_THAT(vm1.error().detail,
              HasSubstr("not enough packet rate (needs NET_PACKET_RATE_KILOPACKET_PER_SEC:600"));
  EXPECT_THAT(vm1.error().detail,
              HasSubstr("devstack0:Open vSwitch agent has 400 NET_PACKET_RATE_KILOPACKET_PER_SEC "
                        "left"));
  EXPECT_THAT(vm1.error().detail, Not(HasSubstr("not enough bandwidth")));
  EXPECT_EQ(service_->list(Kind::kServer).size(), 1U);

  // A bound port's packet rate does not change under it (Neutron refuses it too).
  auto change = service_->updateRule("pps", pps->id, {.minKpps = 100});
  ASSERT_FALSE(change);
  EXPECT_THAT(change.error().detail, HasSubstr("backed by resources tracked in Placement"));
  ASSERT_TRUE(service_->deleteObject(Kind::kServer, "vm0"));
  EXPECT_TRUE(placement("GET", "/resource_providers/" + ovsAgent_ +
                                   "/usages")["usages"]["NET_PACKET_RATE_KILOPACKET_PER_SEC"] == 0);
  auto unbound = service_->updateRule("pps", pps->id, {.minKpps = 100});
  ASSERT_TRUE(unbound) << unbound.error().detail;
  EXPECT_EQ(unbound->kpps, 100);
}

// Neutron's check_min_pps_rule_conflict and the direction "any" of packet rate only.
TEST_F(PortsServiceTest, PacketRateRulesAreValidatedAsNeutronDoes) {
  ASSERT_TRUE(service_->createPolicy({.name = "pps"}));
  ASSERT_TRUE(service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kEgress, .kpps = 10}));
  auto mixed = service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kAny, .kpps = 10});
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().errc, placement::Errc::kConflict);
  const std::string policyId = service_->show(Kind::kPolicy, "pps").value()["id"];
  EXPECT_EQ(mixed.error().detail, "Unable to add the rule with value any to the policy " +
                                      policyId +
                                      " as the existing rule of type minimum_packet_rate has "
                                      "value egress.");
  // The other direction is fine; a second egress is a duplicate.
  EXPECT_TRUE(service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kIngress, .kpps = 10}));
  auto twice = service_->createRule(
      "pps", {.type = RuleType::kMinimumPacketRate, .direction = Direction::kEgress, .kpps = 20});
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error().detail, HasSubstr("already has a minimum_packet_rate egress rule"));
}

// A packet-rate-only port lands on the agent provider alone (no device, the agent reports it
// placement-only); a port whose bandwidth is what runs out is refused naming the bandwidth.
TEST_F(PortsServiceTest, PacketRateOnlyPortAndABandwidthShortfallNamedAsSuch) {
  givePacketRate(1000, "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC");
  ASSERT_TRUE(service_->createNetwork({.name = "net0", .physnet = "physnet0"}));
  ASSERT_TRUE(service_->createPolicy({.name = "pps"}));
  ASSERT_TRUE(service_->createRule("pps", {.type = RuleType::kMinimumPacketRate, .kpps = 100}));
  ASSERT_TRUE(service_->createPort({.name = "p1", .network = "net0", .qosPolicy = "pps"}));
  auto agent = agentAnswers(service_->hostRevision(kHost), BindingState::kPlacementOnly);
  auto vm0 = createServer("vm0", "p1");
  ASSERT_TRUE(vm0) << vm0.error().detail;
  ASSERT_EQ(agent.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const bindings::HostBindings desired = agent.get();
  ASSERT_EQ(desired.bindings.size(), 1U);
  EXPECT_EQ(desired.bindings[0].allocation, "");
  EXPECT_EQ(desired.bindings[0].packetRateAllocation, ovsAgent_);
  EXPECT_EQ(desired.bindings[0].minEgressKpps, 100U);
  EXPECT_EQ(placement("GET", "/allocations/" + vm0->id)["allocations"].size(), 1U);
  EXPECT_EQ(consumersOnBrTest(), 0U);

  ASSERT_TRUE(service_->createPolicy({.name = "big"}));
  ASSERT_TRUE(service_->createRule("big", {.type = RuleType::kMinimumBandwidth, .kbps = 2000}));
  ASSERT_TRUE(service_->createRule("big", {.type = RuleType::kMinimumPacketRate, .kpps = 100}));
  ASSERT_TRUE(service_->createPort({.name = "p2", .network = "net0", .qosPolicy = "big"}));
  auto vm1 = createServer("vm1", "p2");
  ASSERT_FALSE(vm1);
  EXPECT_THAT(vm1.error().detail,
              HasSubstr("not enough bandwidth (needs NET_BW_EGR_KILOBIT_PER_SEC:2000 with traits "
                        "[\"CUSTOM_PHYSNET_PHYSNET0\",\"CUSTOM_VNIC_TYPE_NORMAL\"]): "
                        "devstack0:Open vSwitch agent:br-test has 1500 NET_BW_EGR_KILOBIT_PER_SEC "
                        "left"));
  EXPECT_THAT(vm1.error().detail, Not(HasSubstr("not enough packet rate")));
}

}  // namespace
}  // namespace bwfloor::ports
