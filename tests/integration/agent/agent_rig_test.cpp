// The real bwfloor-server and bwfloor-agent in a private network namespace (root), with
// scenario.md's configuration adapted to the rig: br-test and br-ex are OVS bridges in a private
// ovsdb-server (no ovs-vswitchd, so no kernel netdevs for them: the agent finds them through
// OVSDB), veth pairs stand in for the NICs ens5 and ens6, and a Linux bridge holds one veth.
// Checked through the Placement API: the tree, names, uuids, traits, inventories; then the OVS
// agent's providers are deleted (children first) and must come back; then a SIGHUP reload.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "http/client.h"
#include "tests/integration/agent/rig.h"
#include "tests/integration/ovs/ovsdb_server_rig.h"
#include "tests/integration/ovs/subprocess.h"

namespace bwfloor::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kDeadline{15000};

// python3: uuid.uuid5(uuid.UUID("87ee7d5c-73bb-11e8-9008-c4d987b2a692"), "devstack0") etc.
constexpr const char* kOvsAgentUuid = "89ca1421-5117-5348-acab-6d0e2054239c";
constexpr const char* kBrTestUuid = "f9c9ce07-679d-5d72-ac5f-31720811629a";
constexpr const char* kBrExUuid = "193134fd-464c-5545-9d20-df7d58c0166f";
constexpr const char* kSriovAgentUuid = "4a8a819d-61f9-5822-8c5c-3e9c7cb942d6";
constexpr const char* kEns5Uuid = "1c7e83f0-108d-5c35-ada7-7ebebbe43aad";
constexpr const char* kEns6Uuid = "e87a3e44-94ae-5ae9-8d2a-1f367971d771";

struct AgentOptions {
  std::string brTestBandwidth = "1500:1500";
  int resyncSeconds = 1;
  std::string extraSriov;  // appended to the SR-IOV mappings / bandwidths, e.g. ",physnet2:ens7"
  std::string extraSriovBandwidth;
  std::string extraOvs;  // more [ovs] lines, e.g. packet processing
};

std::string agentIni(const std::string& endpoint, const std::string& ovsdb,
                     const AgentOptions& options) {
  return "[DEFAULT]\nlog_level = debug\n"
         "[agent]\nhost = devstack0\nreport_interval = 1\nresync_interval = " +
         std::to_string(options.resyncSeconds) +
         "\n"
         "[placement]\nendpoint = " +
         endpoint +
         "\ntoken = admin\n"
         "[ovs]\novsdb_connection = " +
         ovsdb +
         "\nbridge_mappings = public:br-ex,physnet0:br-test\n"
         "resource_provider_bandwidths = br-test:" +
         options.brTestBandwidth + ",br-ex::1\n" + options.extraOvs +
         "[sriov_nic]\nphysical_device_mappings = physnet0:ens5,physnet1:ens6" +
         options.extraSriov + "\nresource_provider_bandwidths = ens5:100000:100000,ens6:auto:auto" +
         options.extraSriovBandwidth + "\n";
}

struct Provider {
  std::string name;
  std::string parent;
  std::set<std::string> traits;
  json inventories = json::object();  // rc -> {total, max_unit, ...}
};

class AgentRigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0U) << "integration tests need root (network namespaces, ovsdb-server)";
    ASSERT_TRUE(netns_.ok());
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(ip({"link", "set", "lo", "up"}));
    for (const char* nic : {"ens5", "ens6"}) {
      ASSERT_TRUE(
          ip({"link", "add", nic, "type", "veth", "peer", "name", std::string(nic) + "-p"}));
      ASSERT_TRUE(ip({"link", "set", nic, "up"}));
    }
    ASSERT_TRUE(ip({"link", "add", "br-lnx", "type", "bridge"}));
    ASSERT_TRUE(ip({"link", "add", "lnx-a", "type", "veth", "peer", "name", "lnx-b"}));
    ASSERT_TRUE(ip({"link", "set", "lnx-a", "master", "br-lnx"}));
    ASSERT_TRUE(ovsdb_.start()) << ovsdb_.logTail();
    ASSERT_TRUE(ovsdb_.vsctl({"add-br", "br-test", "--", "add-br", "br-ex"}));
    ASSERT_TRUE(ip({"link", "add", "eth-ex", "type", "veth", "peer", "name", "eth-ex-p"}));
    ASSERT_TRUE(ovsdb_.vsctl({"add-port", "br-ex", "eth-ex"}));
    startServer();
  }

  void startServer() {
    const std::string config =
        dir_.write("server.ini",
                   "[DEFAULT]\nlog_level = info\n[api]\nbind = 127.0.0.1:0\n"
                   "auth_strategy = noauth2\n[placement_database]\nconnection = sqlite:///" +
                       dir_.path() + "/placement.db\n");
    ASSERT_TRUE(
        server_.start({BWFLOOR_SERVER_BIN, "--config", config}, dir_.path() + "/server.log"));
    const std::regex serving(R"(serving http://127\.0\.0\.1:([0-9]+)/placement)");
    std::smatch match;
    std::string log;
    ASSERT_TRUE(waitUntil(
        [&] {
          log = server_.log();
          return std::regex_search(log, match, serving) || !server_.running();
        },
        kDeadline));
    ASSERT_TRUE(std::regex_search(log, match, serving)) << "bwfloor-server did not start:\n" << log;
    port_ = static_cast<uint16_t>(std::stoi(match[1]));
    client_ = std::make_unique<http::HttpClient>(http::Url{false, "127.0.0.1", port_, ""},
                                                 std::chrono::seconds(5));
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/placement";
  }

  void startAgent(const AgentOptions& options = {}) {
    agentConfig_ = dir_.write("agent.ini", agentIni(endpoint(), ovsdb_.remote(), options));
    ASSERT_TRUE(
        agent_.start({BWFLOOR_AGENT_BIN, "--config", agentConfig_}, dir_.path() + "/agent.log"));
  }

  // METHOD /placement+path at microversion 1.37; the parsed body (null when empty or not JSON).
  std::pair<int, json> call(const std::string& method, const std::string& path) {
    http::Headers headers;
    headers.add("X-Auth-Token", "admin");
    headers.add("Accept", "application/json");
    headers.add("OpenStack-API-Version", "placement 1.37");
    auto resp = client_->send(method, "/placement" + path, headers);
    if (!resp) return {0, nullptr};
    json body = json::parse(resp->body, nullptr, false);
    return {resp->status, body.is_discarded() ? json(nullptr) : body};
  }

  CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BWFLOOR_CTL_BIN, "--server",
                               "http://127.0.0.1:" + std::to_string(port_), "--token", "admin"});
    return runCommand(args, milliseconds(30000));
  }

  // METHOD /v1+path with a JSON body, as bwfloorctl sends it (a server create waits for the
  // agent's report: 30 s).
  std::pair<int, json> v1(const std::string& method, const std::string& path,
                          const json& body = nullptr) {
    http::Headers headers;
    headers.add("X-Auth-Token", "admin");
    headers.add("Accept", "application/json");
    headers.add("Content-Type", "application/json");
    client_->setTimeout(std::chrono::seconds(30));
    auto resp = client_->send(method, "/v1" + path, headers, body.is_null() ? "" : body.dump());
    client_->setTimeout(std::chrono::seconds(5));
    if (!resp) return {0, nullptr};
    json parsed = json::parse(resp->body, nullptr, false);
    return {resp->status, parsed.is_discarded() ? json(resp->body) : parsed};
  }

  std::optional<Provider> provider(const std::string& uuid) {
    auto [status, rp] = call("GET", "/resource_providers/" + uuid);
    if (status != 200) return std::nullopt;
    Provider out;
    out.name = rp["name"];
    if (rp["parent_provider_uuid"].is_string()) out.parent = rp["parent_provider_uuid"];
    auto [ts, traits] = call("GET", "/resource_providers/" + uuid + "/traits");
    if (ts != 200) return std::nullopt;
    for (const auto& t : traits["traits"]) out.traits.insert(t.get<std::string>());
    auto [is, invs] = call("GET", "/resource_providers/" + uuid + "/inventories");
    if (is != 200) return std::nullopt;
    out.inventories = invs["inventories"];
    return out;
  }

  std::string rootUuid() {
    auto [status, list] = call("GET", "/resource_providers?name=devstack0");
    if (status != 200 || list["resource_providers"].empty()) return "";
    return list["resource_providers"][0]["uuid"];
  }

  // True when placement holds the whole tree with traits and inventories, br-test at `brTest`.
  bool treeComplete(int64_t brTest = 1500) {
    auto p = provider(kBrTestUuid);
    auto e = provider(kEns6Uuid);
    return provider(kOvsAgentUuid) && p &&
           p->inventories.value("NET_BW_EGR_KILOBIT_PER_SEC", json::object()).value("total", 0) ==
               brTest &&
           provider(kBrExUuid).has_value() && provider(kEns5Uuid).has_value() && e &&
           e->inventories.contains("NET_BW_IGR_KILOBIT_PER_SEC") && !e->traits.empty();
  }

  void expectScenarioTree() {
    const std::string root = rootUuid();
    ASSERT_FALSE(root.empty());
    const json inv1500 = {{"total", 1500},    {"reserved", 0},  {"min_unit", 1},
                          {"max_unit", 1500}, {"step_size", 1}, {"allocation_ratio", 1.0}};
    auto ovs = provider(kOvsAgentUuid);
    ASSERT_TRUE(ovs);
    EXPECT_EQ(ovs->name, "devstack0:Open vSwitch agent");
    EXPECT_EQ(ovs->parent, root);
    EXPECT_TRUE(ovs->traits.empty());
    EXPECT_EQ(ovs->inventories, json::object());
    auto brTest = provider(kBrTestUuid);
    ASSERT_TRUE(brTest);
    EXPECT_EQ(brTest->name, "devstack0:Open vSwitch agent:br-test");
    EXPECT_EQ(brTest->parent, kOvsAgentUuid);
    EXPECT_EQ(brTest->traits,
              (std::set<std::string>{"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_DIRECT",
                                     "CUSTOM_VNIC_TYPE_NORMAL"}));
    EXPECT_EQ(brTest->inventories, (json{{"NET_BW_EGR_KILOBIT_PER_SEC", inv1500},
                                         {"NET_BW_IGR_KILOBIT_PER_SEC", inv1500}}));
    auto brEx = provider(kBrExUuid);
    ASSERT_TRUE(brEx);
    EXPECT_EQ(brEx->name, "devstack0:Open vSwitch agent:br-ex");
    EXPECT_EQ(brEx->parent, kOvsAgentUuid);
    EXPECT_EQ(brEx->traits,
              (std::set<std::string>{"CUSTOM_PHYSNET_PUBLIC", "CUSTOM_VNIC_TYPE_DIRECT",
                                     "CUSTOM_VNIC_TYPE_NORMAL"}));
    ASSERT_EQ(brEx->inventories.size(), 1U);  // ingress only
    EXPECT_EQ(brEx->inventories["NET_BW_IGR_KILOBIT_PER_SEC"]["total"], 1);
    auto sriov = provider(kSriovAgentUuid);
    ASSERT_TRUE(sriov);
    EXPECT_EQ(sriov->name, "devstack0:NIC Switch agent");
    EXPECT_EQ(sriov->parent, root);
    const std::set<std::string> sriovVnics{
        "CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP"};
    auto ens5 = provider(kEns5Uuid);
    ASSERT_TRUE(ens5);
    EXPECT_EQ(ens5->name, "devstack0:NIC Switch agent:ens5");
    EXPECT_EQ(ens5->parent, kSriovAgentUuid);
    std::set<std::string> ens5Traits = sriovVnics;
    ens5Traits.insert("CUSTOM_PHYSNET_PHYSNET0");
    EXPECT_EQ(ens5->traits, ens5Traits);
    EXPECT_EQ(ens5->inventories["NET_BW_EGR_KILOBIT_PER_SEC"]["total"], 100000);
    EXPECT_EQ(ens5->inventories["NET_BW_IGR_KILOBIT_PER_SEC"]["total"], 100000);
    // ens6:auto:auto: a veth's ethtool speed, 10 Gbit/s = 10000000 kbit/s.
    auto ens6 = provider(kEns6Uuid);
    ASSERT_TRUE(ens6);
    EXPECT_EQ(ens6->name, "devstack0:NIC Switch agent:ens6");
    std::set<std::string> ens6Traits = sriovVnics;
    ens6Traits.insert("CUSTOM_PHYSNET_PHYSNET1");
    EXPECT_EQ(ens6->traits, ens6Traits);
    EXPECT_EQ(ens6->inventories["NET_BW_EGR_KILOBIT_PER_SEC"]["total"], 10000000);
    EXPECT_EQ(ens6->inventories["NET_BW_IGR_KILOBIT_PER_SEC"]["total"], 10000000);
    auto [status, tree] = call("GET", "/resource_providers?in_tree=" + root);
    EXPECT_EQ(tree["resource_providers"].size(), 7U) << tree.dump();
    for (const char* trait :
         {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_PHYSNET_PHYSNET1", "CUSTOM_PHYSNET_PUBLIC",
          "CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP",
          "CUSTOM_VNIC_TYPE_NORMAL"}) {
      EXPECT_EQ(call("GET", std::string("/traits/") + trait).first, 204) << trait;
    }
  }

  void TearDown() override {
    if (getenv("BWFLOOR_SHOW_LOGS") != nullptr) std::cout << logs() << "\n";
  }

  std::string logs() {
    return "--- agent log ---\n" + agent_.log() + "\n--- server log ---\n" + server_.log();
  }

  // Destroyed in reverse: the agent and server stop first, the namespace goes last.
  NetnsGuard netns_;
  TempDir dir_;
  OvsdbServerRig ovsdb_;
  BackgroundProcess server_;
  BackgroundProcess agent_;
  uint16_t port_ = 0;
  std::unique_ptr<http::HttpClient> client_;
  std::string agentConfig_;
};

TEST_F(AgentRigTest, ReportsTheScenarioTreeAndHealsAnOperatorsDeletion) {
  startAgent();
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  expectScenarioTree();

  // Discovery saw the rig: OVS bridges from OVSDB, the Linux bridge through its port's master.
  const std::string log = agent_.log();
  EXPECT_THAT(log, ::testing::HasSubstr("linux bridge=br-lnx ports=[lnx-a]"));
  EXPECT_THAT(log, ::testing::HasSubstr("ovs bridge=br-ex ports=[br-ex,eth-ex]"));
  EXPECT_THAT(log,
              ::testing::HasSubstr("device=ens6 present=true source=netlink speed_mbps=10000"));
  // Each placement call at debug, each change at info.
  EXPECT_THAT(log, ::testing::HasSubstr("placement call: POST /resource_providers {"));
  EXPECT_THAT(log, ::testing::HasSubstr("created provider name=\"devstack0:Open vSwitch agent\""));

  // An operator deletes the OVS agent's providers, children first.
  for (const char* uuid : {kBrTestUuid, kBrExUuid, kOvsAgentUuid}) {
    ASSERT_EQ(call("DELETE", std::string("/resource_providers/") + uuid).first, 204) << uuid;
  }
  ASSERT_FALSE(provider(kOvsAgentUuid));
  // resync_interval = 1 s: back well within the deadline, with traits and inventories.
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  expectScenarioTree();
  EXPECT_EQ(countOf(agent_.log(), "created provider name=\"devstack0:Open vSwitch agent\""), 2);
}

// With the default resync_interval (60 s), deleted providers come back within 2 s: the server
// sees placement delete them and wakes the agent's bindings long-poll, and the agent syncs
// after AgentService::kDeletionSettle.
TEST_F(AgentRigTest, DeletedProvidersComeBackWithinTwoSecondsWithoutWaitingForTheResync) {
  AgentOptions options;
  options.resyncSeconds = 60;
  startAgent(options);
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  // The agent's binding loop holds its long-poll once it has a revision.
  ASSERT_TRUE(waitUntil(
      [&] { return agent_.log().find("binding: host=devstack0 revision=") != std::string::npos; },
      kDeadline))
      << logs();
  const auto start = std::chrono::steady_clock::now();
  for (const char* uuid : {kBrTestUuid, kBrExUuid, kOvsAgentUuid}) {
    ASSERT_EQ(call("DELETE", std::string("/resource_providers/") + uuid).first, 204) << uuid;
  }
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, milliseconds(5000))) << logs();
  const auto healed = std::chrono::steady_clock::now() - start;
  std::printf("providers deleted in placement re-created after %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(healed).count()));
  EXPECT_LT(healed, milliseconds(2000));
  expectScenarioTree();
  EXPECT_THAT(server_.log(),
              ::testing::HasSubstr("placement deleted provider(s) of host devstack0"));
  EXPECT_THAT(agent_.log(), ::testing::HasSubstr("reports providers of this host deleted"));
}

TEST_F(AgentRigTest, SighupReloadsTheConfiguration) {
  startAgent();
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  AgentOptions reloaded;
  reloaded.brTestBandwidth = "2000:2000";
  dir_.write("agent.ini", agentIni(endpoint(), ovsdb_.remote(), reloaded));
  ASSERT_TRUE(agent_.signal(SIGHUP));
  ASSERT_TRUE(waitUntil([&] { return treeComplete(2000); }, kDeadline)) << logs();
  EXPECT_THAT(agent_.log(), ::testing::HasSubstr("configuration reloaded from"));

  // A bad file is refused and the running configuration kept.
  dir_.write("agent.ini", "[ovs]\nbridge_mappings = nonsense\n");
  ASSERT_TRUE(agent_.signal(SIGHUP));
  ASSERT_TRUE(waitUntil(
      [&] { return agent_.log().find("configuration reload refused") != std::string::npos; },
      kDeadline));
  EXPECT_TRUE(agent_.running());
  EXPECT_TRUE(treeComplete(2000));
}

TEST_F(AgentRigTest, ADeviceThatAppearsIsReportedFromTheLinkEventNotTheResync) {
  AgentOptions options;
  options.resyncSeconds = 300;  // far beyond the deadline below: only the link event can do it
  options.extraSriov = ",physnet2:ens7";
  options.extraSriovBandwidth = ",ens7:1000:2000";
  startAgent(options);
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  // python3: uuid.uuid5(uuid.UUID("87f1895c-73bb-11e8-9008-c4d987b2a692"), "devstack0:ens7")
  constexpr const char* kEns7Uuid = "e5b16f4a-025c-5f5b-84fd-38a4b52a18f0";
  EXPECT_FALSE(provider(kEns7Uuid));  // configured, missing on the host: no provider yet
  EXPECT_THAT(agent_.log(), ::testing::HasSubstr("device=ens7 present=false"));

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ip({"link", "add", "ens7", "type", "veth", "peer", "name", "ens7-p"}));
  ASSERT_TRUE(waitUntil(
      [&] { return provider(kEns7Uuid).has_value() && !provider(kEns7Uuid)->inventories.empty(); },
      milliseconds(3000)))
      << logs();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
  auto ens7 = provider(kEns7Uuid);
  EXPECT_EQ(ens7->name, "devstack0:NIC Switch agent:ens7");
  EXPECT_EQ(ens7->inventories["NET_BW_EGR_KILOBIT_PER_SEC"]["total"], 1000);
  EXPECT_EQ(ens7->inventories["NET_BW_IGR_KILOBIT_PER_SEC"]["total"], 2000);
  EXPECT_THAT(agent_.log(), ::testing::HasSubstr("placement sync requested: link change"));
}

TEST_F(AgentRigTest, HeartbeatReachesTheServerOrIsLoggedOnceAsUnsupported) {
  startAgent();
  ASSERT_TRUE(waitUntil([&] { return treeComplete(); }, kDeadline)) << logs();
  http::Headers headers;
  headers.add("X-Auth-Token", "admin");
  headers.add("Accept", "application/json");
  // Let a few heartbeats (report_interval = 1 s) go by.
  ASSERT_TRUE(waitUntil([&] { return countOf(agent_.log(), "heartbeat: POST /v1/agents") >= 6; },
                        kDeadline))
      << logs();
  auto resp = client_->send("GET", "/v1/agents", headers);
  ASSERT_TRUE(resp);
  if (resp->status == 404) {
    // A bwfloor-server without the agents API: logged once, otherwise ignored.
    EXPECT_EQ(countOf(agent_.log(), "has no /v1/agents"), 1) << logs();
    return;
  }
  ASSERT_EQ(resp->status, 200) << resp->body;
  const std::string body = resp->body;
  EXPECT_THAT(body, ::testing::HasSubstr("devstack0"));
  EXPECT_THAT(body, ::testing::HasSubstr("Open vSwitch agent"));
  EXPECT_THAT(body, ::testing::HasSubstr("NIC Switch agent"));
}

TEST(AgentBinaryTest, CheckConfigNamesFileLineSectionKey) {
  TempDir dir;
  const std::string bad = dir.write("agent.ini",
                                    "[agent]\nhost = h\n[ovs]\nbridge_mappings = physnet0:br-test\n"
                                    "resource_provider_bandwidths = br-test:-1:1\n");
  CommandResult result =
      runCommand({BWFLOOR_AGENT_BIN, "--check-config", bad}, milliseconds(10000));
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_THAT(result.output, ::testing::HasSubstr(bad + ":5: [ovs] resource_provider_bandwidths: "
                                                        "egress of \"br-test:-1:1\""));
  const std::string good = dir.write("good.ini", "[agent]\nhost = h\n");
  result = runCommand({BWFLOOR_AGENT_BIN, "--check-config", good}, milliseconds(10000));
  EXPECT_TRUE(result.ok()) << result.output;
  EXPECT_THAT(result.output, ::testing::HasSubstr("ok (host h)"));
}

// Issue 18, minimum packet rate end to end: the agent reports 1000 kpps on the Open vSwitch agent
// provider (resource_provider_packet_processing_without_direction = :1000); two ports each ask
// 600 kpps (any) and 500 kbit/s egress (br-test has 1500). Port 1 lands, with its packet rate
// allocated on the agent provider and its bandwidth on br-test, and its status says the packet
// rate is placement-only; port 2 is refused with a reason that names the packet rate.
TEST_F(AgentRigTest, PacketRateLandsOnTheAgentProviderAndTheSecondPortIsRefused) {
  AgentOptions options;
  options.extraOvs = "resource_provider_packet_processing_without_direction = :1000\n";
  startAgent(options);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto ovs = provider(kOvsAgentUuid);
        return treeComplete() && ovs &&
               ovs->inventories.contains("NET_PACKET_RATE_KILOPACKET_PER_SEC");
      },
      kDeadline))
      << logs();
  auto ovs = provider(kOvsAgentUuid);
  EXPECT_EQ(ovs->inventories["NET_PACKET_RATE_KILOPACKET_PER_SEC"]["total"], 1000);
  EXPECT_TRUE(ovs->traits.count("CUSTOM_VNIC_TYPE_NORMAL"));
  // The server must know the agent is alive before it schedules to its host.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto [status, list] = v1("GET", "/agents");
        if (status != 200 || !list.contains("agents")) return false;
        for (const auto& a : list["agents"]) {
          if (a.value("agent_type", "") == "Open vSwitch agent" && a.value("alive", false)) {
            return true;
          }
        }
        return false;
      },
      kDeadline))
      << logs();

  ASSERT_EQ(v1("POST", "/networks", {{"name", "net0"}, {"physnet", "physnet0"}}).first, 201);
  ASSERT_EQ(v1("POST", "/qos_policies", {{"name", "pps"}}).first, 201);
  ASSERT_EQ(v1("POST", "/qos_policies/pps/rules",
               {{"type", "minimum_bandwidth"}, {"direction", "egress"}, {"min_kbps", 500}})
                .first,
            201);
  // The packet-rate rule as an operator adds it, with bwfloorctl.
  const CommandResult rule = ctl({"qos", "rule", "create", "pps", "--type", "minimum-packet-rate",
                                  "--min-kpps", "600", "--direction", "any"});
  ASSERT_TRUE(rule.ok()) << rule.output;
  EXPECT_THAT(rule.output, ::testing::HasSubstr("minimum_packet_rate"));
  EXPECT_THAT(ctl({"qos", "policy", "show", "pps"}).output,
              ::testing::HasSubstr("\"min_kpps\":600"));
  for (const char* port : {"p1", "p2"}) {
    ASSERT_EQ(
        v1("POST", "/ports", {{"name", port}, {"network", "net0"}, {"qos_policy", "pps"}}).first,
        201);
  }

  auto [created, vm0] = v1("POST", "/servers", {{"name", "vm0"}, {"ports", {"p1"}}});
  ASSERT_EQ(created, 201) << vm0.dump() << "\n" << logs();
  EXPECT_EQ(vm0["status"], "ACTIVE");
  auto [as, allocations] = call("GET", "/allocations/" + vm0["id"].get<std::string>());
  ASSERT_EQ(as, 200);
  EXPECT_EQ(allocations["allocations"][kOvsAgentUuid]["resources"],
            (json{{"NET_PACKET_RATE_KILOPACKET_PER_SEC", 600}}))
      << allocations.dump();
  EXPECT_EQ(allocations["allocations"][kBrTestUuid]["resources"],
            (json{{"NET_BW_EGR_KILOBIT_PER_SEC", 500}}))
      << allocations.dump();
  auto [ps, p1] = v1("GET", "/ports/p1");
  ASSERT_EQ(ps, 200);
  EXPECT_EQ(p1["binding_profile"]["allocation"], kBrTestUuid);
  EXPECT_EQ(p1["binding_profile"]["packet_rate_allocation"], kOvsAgentUuid);
  EXPECT_EQ(p1["resource_request"]["same_subtree"].size(), 2U) << p1.dump();
  // The agent reports the packet rate placement-only: no data plane has a mechanism for it.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto [s, port] = v1("GET", "/ports/p1");
        const json::json_pointer state("/binding_status/packet_rate/any/state");
        return port.contains(state) && port[state] == "placement-only";
      },
      kDeadline))
      << v1("GET", "/ports/p1").second.dump() << "\n"
      << logs();

  const CommandResult shown = ctl({"port", "show", "p1"});
  EXPECT_THAT(shown.output,
              ::testing::ContainsRegex("binding_status.packet_rate.any.state +\\| placement-only"))
      << shown.output;

  auto [refused, vm1] = v1("POST", "/servers", {{"name", "vm1"}, {"ports", {"p2"}}});
  EXPECT_EQ(refused, 409) << vm1.dump();
  const std::string reason = vm1.dump();
  EXPECT_THAT(reason, ::testing::HasSubstr("No valid host was found"));
  EXPECT_THAT(reason, ::testing::HasSubstr("not enough packet rate"));
  EXPECT_THAT(reason, ::testing::HasSubstr("devstack0:Open vSwitch agent has 400 "
                                           "NET_PACKET_RATE_KILOPACKET_PER_SEC left"));
  EXPECT_THAT(reason, ::testing::Not(::testing::HasSubstr("not enough bandwidth")));
  const std::string usagesPath = std::string("/resource_providers/") + kOvsAgentUuid + "/usages";
  EXPECT_EQ(call("GET", usagesPath).second["usages"]["NET_PACKET_RATE_KILOPACKET_PER_SEC"], 600)
      << "vm1 left a claim";

  // Deleting vm0 frees its packet rate.
  EXPECT_EQ(v1("DELETE", "/servers/vm0").first, 204);
  EXPECT_EQ(call("GET", usagesPath).second["usages"]["NET_PACKET_RATE_KILOPACKET_PER_SEC"], 0);
}

}  // namespace
}  // namespace bwfloor::test
