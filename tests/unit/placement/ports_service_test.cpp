// The /v1 service (PortsService) over the real placement model: the scenario's scheduling, the
// agent's long-poll hand-over, rollbacks, and bad requests that must change nothing.
#include "placement/ports/ports_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <future>
#include <thread>

#include "core/logging.h"
#include "placement/api/placement_api.h"
#include "placement/ports/json_store.h"
#include "placement/ports/v1_api.h"
#include "placement/store/store.h"

namespace bwfloor::ports {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

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
    brTest_ =
        provider("devstack0:Open vSwitch agent:br-test", ovs,
                 {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT"},
                 {{"NET_BW_EGR_KILOBIT_PER_SEC", {{"total", 1500}}},
                  {"NET_BW_IGR_KILOBIT_PER_SEC", {{"total", 1500}}}});
    ASSERT_TRUE(service_->heartbeat(
        {{"host", kHost}, {"agent_type", "Open vSwitch agent"}, {"resources_synced", true}}));
  }

  void scenarioObjects() {
    ASSERT_TRUE(service_->createNetwork(
        {{"name", "net0"}, {"physnet", "physnet0"}, {"segmentation_id", 100}}));
    ASSERT_TRUE(service_->createPolicy({{"name", "qp0"}}));
    for (const char* dir : {"egress", "ingress"}) {
      ASSERT_TRUE(service_->createRule(
          "qp0", {{"type", "minimum_bandwidth"}, {"direction", dir}, {"min_kbps", 1000}}));
    }
    for (const char* name : {"port-normal-qos", "port-normal-qos-2"}) {
      ASSERT_TRUE(service_->createPort(
          {{"name", name}, {"network", "net0"}, {"vnic_type", "normal"}, {"qos_policy", "qp0"}}));
    }
  }

  // What bwfloor-agent does: long-poll the host's bindings (answered on the service's own
  // thread), then report `state` for every port it got.
  std::future<json> agentAnswers(uint64_t revision, const std::string& state,
                                 const std::string& detail = "") {
    auto done = std::make_shared<std::promise<json>>();
    service_->waitForBindings(
        kHost, revision, std::chrono::steady_clock::now() + std::chrono::seconds(10),
        [this, done, state, detail] {
          json bindings = service_->hostBindings(kHost);  // takes the service's lock
          for (const auto& b : bindings["bindings"]) {
            if (b["status"]["state"] != "pending") continue;
            EXPECT_TRUE(service_->reportBindingStatus(
                b["port_id"], {{"state", state}, {"detail", detail}, {"host", kHost}}));
          }
          done->set_value(bindings);
        });
    return done->get_future();
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
};

TEST_F(PortsServiceTest, ScenarioVm0IsBoundAndVm1HasNoValidHost) {
  scenarioObjects();
  const uint64_t revision = service_->hostRevision(kHost);
  auto agent = agentAnswers(revision, "enforced");
  auto vm0 = service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}});
  ASSERT_TRUE(vm0) << vm0.error().detail;
  EXPECT_EQ((*vm0)["status"], "ACTIVE");
  EXPECT_EQ((*vm0)["host"], kHost);
  ASSERT_EQ(agent.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const json desired = agent.get();
  ASSERT_EQ(desired["bindings"].size(), 1U);
  EXPECT_EQ(desired["bindings"][0]["device"], "br-test");
  EXPECT_EQ(desired["bindings"][0]["agent_type"], "Open vSwitch agent");
  EXPECT_EQ(desired["bindings"][0]["min_egress_kbps"], 1000);
  EXPECT_EQ(desired["bindings"][0]["min_ingress_kbps"], 1000);

  const json port = service_->show("port", "port-normal-qos").value();
  EXPECT_EQ(port["binding_profile"]["allocation"], brTest_);
  EXPECT_EQ(port["binding_status"]["state"], "enforced");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1000);
  EXPECT_EQ(usage()["NET_BW_IGR_KILOBIT_PER_SEC"], 1000);

  auto vm1 = service_->createServer({{"name", "vm1"}, {"ports", {"port-normal-qos-2"}}});
  ASSERT_FALSE(vm1);
  EXPECT_EQ(vm1.error().errc, placement::Errc::kConflict);
  EXPECT_THAT(vm1.error().detail, HasSubstr("No valid host was found"));
  EXPECT_THAT(vm1.error().detail, HasSubstr("has 500 NET_BW_EGR_KILOBIT_PER_SEC left"));
  EXPECT_EQ(consumersOnBrTest(), 1U) << "the failed boot left an allocation";
  EXPECT_EQ(service_->list("server").size(), 1U);

  ASSERT_TRUE(service_->deleteObject("server", "vm0"));
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 0);
  EXPECT_EQ(consumersOnBrTest(), 0U);
  EXPECT_TRUE(service_->hostBindings(kHost)["bindings"].empty());
}

// Issue 15: a create held one of the server's HTTP threads until the agent reported, and the
// report needed a thread of the same pool. Now the call returns at once and the agent's report
// (on its own thread) answers it.
TEST_F(PortsServiceTest, CreateReturnsAtOnceAndTheAgentsReportAnswersIt) {
  scenarioObjects();
  auto answer = std::make_shared<std::promise<ApiResult<json>>>();
  auto answered = answer->get_future();
  service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}},
                         [answer](ApiResult<json> r) { answer->set_value(std::move(r)); });
  EXPECT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "answered before the agent reported";
  EXPECT_EQ(service_->show("server", "vm0").value()["status"], "BUILD");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1000) << "claimed before the agent reports";
  std::thread agent([this] {
    const json bindings = service_->hostBindings(kHost);
    ASSERT_EQ(bindings["bindings"].size(), 1U);
    EXPECT_TRUE(service_->reportBindingStatus(bindings["bindings"][0]["port_id"],
                                              {{"state", "enforced"}, {"host", kHost}}));
  });
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  agent.join();
  auto vm0 = answered.get();
  ASSERT_TRUE(vm0) << vm0.error().detail;
  EXPECT_EQ((*vm0)["status"], "ACTIVE");
}

// Issue 15: kill -9 between the claim and the documents left allocations without a server, and
// between the documents and the agent's report servers in BUILD forever. Start-up undoes both.
TEST_F(PortsServiceTest, StartUpUndoesWhatAnInterruptedCreateLeft) {
  scenarioObjects();
  // A create in flight when the process dies: claimed, documents written, no answer yet.
  service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}},
                         [](const ApiResult<json>&) { FAIL() << "answered after the crash"; });
  ASSERT_EQ(service_->show("server", "vm0").value()["status"], "BUILD");
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
  EXPECT_TRUE(service_->list("server").empty());
  const json port = service_->show("port", "port-normal-qos").value();
  EXPECT_EQ(port["device_id"], "");
  EXPECT_EQ(port["binding_host"], "");
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 200) << "only the foreign consumer is left";
  EXPECT_FALSE(model_.getConsumer(orphan.consumerUuid));
  EXPECT_TRUE(model_.getConsumer(foreign.consumerUuid));
}

TEST_F(PortsServiceTest, PolicyChangeFollowsTheAllocationOrIsRefusedWithNothingChanged) {
  scenarioObjects();
  auto agent = agentAnswers(service_->hostRevision(kHost), "enforced");
  ASSERT_TRUE(service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}}));
  std::string egressRule;
  const json policy = service_->show("policy", "qp0").value();
  for (const auto& r : policy["rules"]) {
    if (r["direction"] == "egress") egressRule = r["id"];
  }
  ASSERT_FALSE(egressRule.empty());
  const uint64_t revision = service_->hostRevision(kHost);

  ASSERT_TRUE(service_->updateRule("qp0", egressRule, {{"min_kbps", 1400}}));
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1400);
  EXPECT_EQ(usage()["NET_BW_IGR_KILOBIT_PER_SEC"], 1000);
  EXPECT_GT(service_->hostRevision(kHost), revision) << "the agent is not told";
  EXPECT_EQ(service_->hostBindings(kHost)["bindings"][0]["min_egress_kbps"], 1400);

  // 1600 > 1500: refused, allocation, policy and bindings as they were.
  auto tooMuch = service_->updateRule("qp0", egressRule, {{"min_kbps", 1600}});
  ASSERT_FALSE(tooMuch);
  EXPECT_EQ(tooMuch.error().errc, placement::Errc::kConflict);
  EXPECT_EQ(usage()["NET_BW_EGR_KILOBIT_PER_SEC"], 1400);
  EXPECT_EQ(service_->hostBindings(kHost)["bindings"][0]["min_egress_kbps"], 1400);
  const json after = service_->show("policy", "qp0").value();
  for (const auto& r : after["rules"]) {
    if (r["id"] == egressRule) {
      EXPECT_EQ(r["min_kbps"], 1400);
    }
  }
}

TEST_F(PortsServiceTest, AgentThatCannotEnforceRollsTheClaimBack) {
  scenarioObjects();
  auto agent = agentAnswers(service_->hostRevision(kHost), "failed", "RTNETLINK: No such device");
  auto vm0 = service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}});
  ASSERT_FALSE(vm0);
  EXPECT_EQ(vm0.error().errc, placement::Errc::kConflict);
  EXPECT_THAT(vm0.error().detail, HasSubstr("RTNETLINK: No such device"));
  EXPECT_EQ(consumersOnBrTest(), 0U);
  EXPECT_EQ(service_->list("server").size(), 0U);
  const json port = service_->show("port", "port-normal-qos").value();
  EXPECT_EQ(port["binding_host"], "");
  EXPECT_TRUE(service_->hostBindings(kHost)["bindings"].empty());
}

TEST_F(PortsServiceTest, BadRequestsAreRefusedPreciselyAndChangeNothing) {
  scenarioObjects();
  const json before = {service_->list("network"), service_->list("policy"), service_->list("port"),
                       service_->list("server")};

  auto unknownNet = service_->createPort({{"name", "p"}, {"network", "nope"}});
  ASSERT_FALSE(unknownNet);
  EXPECT_EQ(unknownNet.error().errc, placement::Errc::kInvalid);
  EXPECT_THAT(unknownNet.error().detail, HasSubstr("nope"));

  auto negative = service_->createRule(
      "qp0", {{"type", "minimum_bandwidth"}, {"direction", "egress"}, {"min_kbps", -5}});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().errc, placement::Errc::kInvalid);
  EXPECT_THAT(negative.error().detail, HasSubstr("min_kbps"));
  EXPECT_THAT(negative.error().detail, HasSubstr("-5"));

  // A port on a physnet no agent serves: nothing to schedule on.
  ASSERT_TRUE(service_->createNetwork({{"name", "net9"}, {"physnet", "physnet9"}}));
  ASSERT_TRUE(service_->createPort({{"name", "p9"}, {"network", "net9"}, {"qos_policy", "qp0"}}));
  auto nowhere = service_->createServer({{"name", "vm9"}, {"ports", {"p9"}}});
  ASSERT_FALSE(nowhere);
  EXPECT_THAT(nowhere.error().detail, HasSubstr("No valid host was found"));
  EXPECT_THAT(nowhere.error().detail, HasSubstr("CUSTOM_PHYSNET_PHYSNET9"));
  ASSERT_TRUE(service_->deleteObject("port", "p9"));
  ASSERT_TRUE(service_->deleteObject("network", "net9"));

  // Binding to a host whose agent is dead (never sent a heartbeat).
  auto dead = service_->createServer(
      {{"name", "vmx"}, {"ports", {"port-normal-qos"}}, {"host", "compute9"}});
  ASSERT_FALSE(dead);
  EXPECT_THAT(dead.error().detail, HasSubstr("compute9"));

  const json after = {service_->list("network"), service_->list("policy"), service_->list("port"),
                      service_->list("server")};
  EXPECT_EQ(after, before);
  EXPECT_EQ(consumersOnBrTest(), 0U);
}

// Issue 15: wrong JSON types and non-UTF-8 paths reached nlohmann's throwing accessors and
// serializer and aborted the server. Through the /v1 handler they are 400 / 404 answers.
TEST_F(PortsServiceTest, WrongJsonTypesAndNonUtf8PathsAreAnswersNotAborts) {
  scenarioObjects();
  const json before = {service_->list("port"), service_->list("server")};
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
           {"/v1/qos_policies/qp0/rules", R"({"type":5,"direction":"egress","min_kbps":1})"}}) {
    SCOPED_TRACE(path + " " + body);
    const http::Response r = send("POST", path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_THAT(r.body, HasSubstr("' must be a string, got 5"));
  }
  // A list of strings means strings.
  const http::Response ports = send("POST", "/v1/servers", R"({"name":"x","ports":["a",7]})");
  EXPECT_EQ(ports.status, 400) << ports.body;
  EXPECT_EQ(json::parse(ports.body)["errors"][0]["detail"],
            "'ports' must be a list of strings, got [\"a\",7]");
  const http::Response bad = send("GET", std::string("/v1/\xff"), "");
  EXPECT_EQ(bad.status, 404) << bad.body;
  EXPECT_TRUE(json::accept(bad.body)) << bad.body;
  const json after = {service_->list("port"), service_->list("server")};
  EXPECT_EQ(after, before);
}

// Found by the HTTP fuzzer: a port without a QoS policy (null) made every rule create a 400.
TEST_F(PortsServiceTest, ARuleCanBeAddedWhileAPortHasNoPolicy) {
  scenarioObjects();
  ASSERT_TRUE(service_->createPort({{"name", "plain"}, {"network", "net0"}}));
  ASSERT_TRUE(service_->createPolicy({{"name", "qp1"}}));
  auto rule = service_->createRule(
      "qp1", {{"type", "minimum_bandwidth"}, {"direction", "egress"}, {"min_kbps", 10}});
  EXPECT_TRUE(rule) << rule.error().detail;
}

// Issue 15: any compute node could heartbeat as another host and mark any port enforced. An
// agent's token acts as its host only.
TEST_F(PortsServiceTest, AnAgentTokenActsOnlyAsItsHost) {
  scenarioObjects();
  // vm0 bound to devstack0, its port pending.
  service_->createServer({{"name", "vm0"}, {"ports", {"port-normal-qos"}}},
                         [](const ApiResult<json>&) {});
  const std::string portId = service_->show("port", "port-normal-qos").value()["id"];
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
  EXPECT_EQ(service_->show("port", portId).value()["binding_status"]["state"], "pending");
  EXPECT_EQ(
      send("agent-devstack0", "POST", "/v1/servers", {{"name", "x"}, {"ports", json::array()}}),
      403);
  EXPECT_EQ(send("agent-devstack0", "DELETE", "/v1/servers/vm0"), 403);
  EXPECT_EQ(send("agent-devstack0", "PUT", "/v1/ports/" + portId + "/binding_status", enforced),
            200);
  EXPECT_EQ(service_->show("server", "vm0").value()["status"], "ACTIVE");
  EXPECT_EQ(send("nobody", "GET", "/v1/ports"), 401);
}

}  // namespace
}  // namespace bwfloor::ports
