// BindingLoop and the enforcement points, through the real HtbBackend over FakeTcApi and a fake
// bwfloor-server that keeps each port's status as the real one does.
#include "agent/binding/binding_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cerrno>
#include <filesystem>

#include "agent/metrics/agent_metrics.h"
#include "agent/status/status_socket.h"
#include "core/logging.h"
#include "dataplane/sriov/testing/fake_vf_api.h"
#include "dataplane/sriov/vf_rate_backend.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/htb_layout.h"
#include "dataplane/tc/testing/fake_tc_api.h"

namespace bwfloor::agent {
namespace {

using dataplane::tc::EthernetHeader;
using dataplane::tc::FakeTcApi;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kHost = "devstack0";
constexpr const char* kOvs = "Open vSwitch agent";
constexpr const char* kSriov = "NIC Switch agent";
constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacA = "fa:16:3e:00:00:0a";
constexpr const char* kMacB = "fa:16:3e:00:00:0b";

EthernetHeader fromVm(const std::string& mac) {
  EthernetHeader eth{};
  const auto src = dataplane::tc::parseMac(mac).value();
  std::fill(eth.begin(), eth.begin() + 6, 0x02);
  std::copy(src.begin(), src.end(), eth.begin() + 6);
  eth[12] = 0x08;
  return eth;
}

json binding(const std::string& port, const std::string& mac, int64_t egr, int64_t igr,
             const std::string& device = "br-test", const std::string& type = kOvs) {
  return {{"port_id", port},
          {"port_name", "port-" + port.substr(port.size() - 2)},
          {"mac_address", mac},
          {"server_id", "srv"},
          {"device", device},
          {"agent_type", type},
          {"min_egress_kbps", egr},
          {"min_ingress_kbps", igr},
          {"max_egress_kbps", nullptr},
          {"max_ingress_kbps", nullptr},
          {"status", {{"state", "pending"}, {"detail", ""}}}};
}

// GET /v1/hosts/devstack0/bindings and PUT /v1/ports/{id}/binding_status, like bwfloor-server.
class FakeBindingServer : public RestTransport {
 public:
  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body) override {
    if (down) return makeError(ErrorCode::kUnavailable, "connection refused");
    http::Response resp;
    if (method == "GET" && path.starts_with(std::string("/v1/hosts/") + kHost + "/bindings")) {
      resp.status = 200;
      if (!rawAnswer.empty()) {
        resp.body = rawAnswer;
        return resp;
      }
      resp.body = json{{"host", kHost}, {"revision", revision}, {"bindings", bindings}}.dump();
      return resp;
    }
    if (method == "PUT" && path.starts_with("/v1/ports/")) {
      const std::string id = path.substr(10, path.find('/', 10) - 10);
      reports.push_back({id, json::parse(body)});
      for (auto& b : bindings) {
        if (b["port_id"] == id) b["status"] = json::parse(body);
      }
      resp.status = 200;
      return resp;
    }
    resp.status = 404;
    return resp;
  }
  void set(json list) {
    bindings = std::move(list);
    ++revision;
  }

  bool down = false;
  std::string rawAnswer;  // when set, GET answers this body as is
  uint64_t revision = 1;
  json bindings = json::array();
  std::vector<std::pair<std::string, json>> reports;
};

EnforcementPoints htbOn(const std::string& uplink) {
  EnforcementPoints points;
  points[{kOvs, "br-test"}] = {"htb", uplink, Kbps(100000), Kbps(100000), ""};
  points[{kSriov, "ens5"}] = {"", "", Kbps(0), Kbps(0), "SR-IOV VF rates are not programmed"};
  return points;
}

class BindingLoopTest : public ::testing::Test {
 protected:
  BindingLoopTest() {
    LogOptions quiet;
    quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
    initLogging(quiet);
    kernel_->addDeviceForTest("eth-test");
    kernel_->addDeviceForTest("eth-new");
    board_.publish(htbOn("eth-test"));
    options_.host = kHost;
    options_.resync = std::chrono::seconds(3600);
    restart();
  }
  ~BindingLoopTest() override { initLogging(LogOptions{}); }

  // A new loop (and backends) over the same kernel: the agent after a restart.
  void restart() {
    loop_ = std::make_unique<BindingLoop>(options_, server_, board_, [this](const auto& points) {
      std::vector<std::unique_ptr<dataplane::QosBackend>> backends;
      dataplane::tc::HtbBackendConfig config;
      for (const auto& [key, p] : points) {
        if (p.backend == "htb") config.devices.push_back({p.uplink, p.egressTotal, p.ingressTotal});
      }
      ++factoryCalls_;
      if (!config.devices.empty()) {
        backends.push_back(std::make_unique<dataplane::tc::HtbBackend>(config, kernel_));
      }
      return backends;
    });
  }
  void step() { ASSERT_TRUE(loop_->step()) << "step failed"; }
  uint32_t classOf(const std::string& dev, const std::string& mac) {
    return kernel_->classifyForTest(dev, fromVm(mac));
  }
  const BindingStatus* status(const std::string& port) {
    static BindingStatus found;
    for (const auto& s : loop_->statuses()) {
      if (s.portId == port) return &(found = s);
    }
    return nullptr;
  }

  std::shared_ptr<FakeTcApi> kernel_ = std::make_shared<FakeTcApi>();
  FakeBindingServer server_;
  EnforcementBoard board_;
  BindingLoopOptions options_;
  int factoryCalls_ = 0;
  std::unique_ptr<BindingLoop> loop_;
};

TEST_F(BindingLoopTest, EnforcesOnTheBridgeUplinkAndReportsOnce) {
  server_.set({binding(kPortA, kMacA, 60000, 60000)});
  step();
  EXPECT_NE(classOf("eth-test", kMacA), 0U) << "A's egress traffic is not classified";
  EXPECT_EQ(classOf("eth-test", kMacB), 0U);
  ASSERT_EQ(server_.reports.size(), 1U);
  EXPECT_EQ(server_.reports[0].first, kPortA);
  EXPECT_EQ(server_.reports[0].second["state"], "enforced");
  EXPECT_EQ(server_.reports[0].second["backend"], "htb");
  ASSERT_TRUE(status(kPortA));
  EXPECT_EQ(status(kPortA)->uplink, "eth-test");
  EXPECT_EQ(status(kPortA)->minEgress, Kbps(60000));

  // Level-triggered and idempotent: the same desired set again changes and reports nothing.
  const int mutations = kernel_->mutationsForTest();
  step();
  step();
  EXPECT_EQ(kernel_->mutationsForTest(), mutations);
  EXPECT_EQ(server_.reports.size(), 1U);
}

TEST_F(BindingLoopTest, APortThatLeavesTheDesiredSetIsRemoved) {
  server_.set({binding(kPortA, kMacA, 60000, 0), binding(kPortB, kMacB, 10000, 0)});
  step();
  ASSERT_NE(classOf("eth-test", kMacA), 0U);
  server_.set({binding(kPortB, kMacB, 10000, 0)});
  step();
  EXPECT_EQ(classOf("eth-test", kMacA), 0U);
  EXPECT_NE(classOf("eth-test", kMacB), 0U);
  server_.set(json::array());
  step();
  EXPECT_EQ(classOf("eth-test", kMacB), 0U);
  // The last guarantee gone: no HTB tree left on the uplink.
  EXPECT_TRUE(kernel_->listClasses("eth-test").value().empty());
}

TEST_F(BindingLoopTest, RestartAdoptsWhatTheKernelHoldsAndRemovesLeftovers) {
  server_.set({binding(kPortA, kMacA, 60000, 0), binding(kPortB, kMacB, 10000, 0)});
  step();
  // While the agent is down, B's server is deleted.
  server_.set({binding(kPortA, kMacA, 60000, 0)});
  restart();
  const int mutationsBefore = kernel_->mutationsForTest();
  step();
  EXPECT_NE(classOf("eth-test", kMacA), 0U);
  EXPECT_EQ(classOf("eth-test", kMacB), 0U);
  // A was adopted as it was: the only changes are B's removal (filter, class).
  EXPECT_LE(kernel_->mutationsForTest() - mutationsBefore, 2);
  EXPECT_GE(kernel_->mutationsForTest() - mutationsBefore, 1);
}

TEST_F(BindingLoopTest, DriftIsRepairedAtTheResync) {
  server_.set({binding(kPortA, kMacA, 60000, 0)});
  step();
  const uint32_t cls = classOf("eth-test", kMacA);
  ASSERT_NE(cls, 0U);
  // Someone deletes A's filter by hand.
  const auto filters = kernel_->listFilters("eth-test", dataplane::tc::kHtbQdiscHandle).value();
  for (const auto& f : filters) {
    if (f.classId == cls) {
      ASSERT_TRUE(kernel_->deleteFilter("eth-test", f));
    }
  }
  ASSERT_EQ(classOf("eth-test", kMacA), 0U);
  step();  // not yet a resync: the loop trusts its last view
  EXPECT_EQ(classOf("eth-test", kMacA), 0U);
  options_.resync = std::chrono::seconds(0);
  restart();
  step();
  EXPECT_NE(classOf("eth-test", kMacA), 0U);
}

TEST_F(BindingLoopTest, RateChangeReprogramsAndPlacementOnlyAndFailedAreReported) {
  server_.set(
      {binding(kPortA, kMacA, 60000, 0), binding(kPortB, kMacB, 0, 0),
       binding("7a1c2e4f-8d3b-4c5e-9f10-1122334455cc", "fa:16:3e:00:00:0c", 1000, 1000, "ens5",
               kSriov),
       binding("7a1c2e4f-8d3b-4c5e-9f10-1122334455dd", "fa:16:3e:00:00:0d", 1000, 0, "br-gone")});
  step();
  std::map<std::string, json> last;
  for (const auto& [id, body] : server_.reports) last[id] = body;
  EXPECT_EQ(last[kPortA]["state"], "enforced");
  EXPECT_EQ(last[kPortB]["state"], "placement-only");
  EXPECT_EQ(last[kPortB]["detail"], "no minimum requested");
  EXPECT_EQ(last["7a1c2e4f-8d3b-4c5e-9f10-1122334455cc"]["state"], "placement-only");
  EXPECT_THAT(last["7a1c2e4f-8d3b-4c5e-9f10-1122334455cc"]["detail"].get<std::string>(),
              HasSubstr("SR-IOV"));
  EXPECT_EQ(last["7a1c2e4f-8d3b-4c5e-9f10-1122334455dd"]["state"], "failed");
  EXPECT_THAT(last["7a1c2e4f-8d3b-4c5e-9f10-1122334455dd"]["detail"].get<std::string>(),
              HasSubstr("br-gone"));

  const uint32_t cls = classOf("eth-test", kMacA);
  server_.set({binding(kPortA, kMacA, 80000, 0)});
  step();
  const auto classes = kernel_->listClasses("eth-test").value();
  const auto it =
      std::find_if(classes.begin(), classes.end(), [&](const auto& c) { return c.handle == cls; });
  ASSERT_NE(it, classes.end());
  EXPECT_EQ(it->rateBytesPerSec, 80000U * 1000 / 8);
}

TEST_F(BindingLoopTest, ANewUplinkMovesTheGuarantee) {
  server_.set({binding(kPortA, kMacA, 60000, 0)});
  step();
  ASSERT_NE(classOf("eth-test", kMacA), 0U);
  board_.publish(htbOn("eth-new"));
  step();
  EXPECT_EQ(factoryCalls_, 2);
  EXPECT_NE(classOf("eth-new", kMacA), 0U);
  // The old uplink is no longer configured: the new backend does not see it, so what stays
  // there is only what the old backend had (nothing is deleted on a device no longer managed).
  EXPECT_EQ(status(kPortA)->uplink, "eth-new");
}

TEST_F(BindingLoopTest, ANonsenseAnswerIsAnErrorAndChangesNothing) {
  server_.set({binding(kPortA, kMacA, 60000, 0)});
  step();
  const int mutations = kernel_->mutationsForTest();
  for (const char* body : {"<html>oops</html>", R"({"bindings": 3})", "[]"}) {
    server_.rawAnswer = body;
    const auto st = loop_->step();
    ASSERT_FALSE(st) << body;
    EXPECT_THAT(st.error().message(), HasSubstr("not a bindings document"));
  }
  EXPECT_EQ(kernel_->mutationsForTest(), mutations);
  EXPECT_NE(classOf("eth-test", kMacA), 0U) << "a bad answer removed what was programmed";
}

TEST_F(BindingLoopTest, ServerDownIsAnErrorAndChangesNothing) {
  server_.down = true;
  const auto st = loop_->step();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("connection refused"));
  EXPECT_EQ(kernel_->mutationsForTest(), 0);
}

TEST_F(BindingLoopTest, StatusDocumentHasStatesCountersAndRates) {
  server_.set({binding(kPortA, kMacA, 60000, 0), binding(kPortB, kMacB, 0, 0)});
  step();
  const uint32_t cls = classOf("eth-test", kMacA);
  kernel_->setClassStatsForTest("eth-test", cls, {1000000, 1000, 3, 7});
  step();
  loop_->sample();  // first sample of the class: counters, no rate yet
  json doc = loop_->statusDocument();
  ASSERT_EQ(doc["bindings"].size(), 2U);
  const json& a = doc["bindings"][0];
  EXPECT_EQ(a["port_id"], kPortA);
  EXPECT_EQ(a["uplink"], "eth-test");
  EXPECT_EQ(a["backend"], "htb");
  EXPECT_EQ(a["state"], "enforced");
  EXPECT_EQ(a["min_egress_kbps"], 60000);
  ASSERT_TRUE(a["egress"].is_object()) << doc.dump();
  EXPECT_EQ(a["egress"]["bytes"], 1000000);
  EXPECT_EQ(a["egress"]["drops"], 3);
  EXPECT_TRUE(a["ingress"].is_null());
  EXPECT_EQ(doc["bindings"][1]["state"], "placement-only");
  kernel_->setClassStatsForTest("eth-test", cls, {2000000, 2000, 3, 7});
  loop_->sample();
  doc = loop_->statusDocument();
  ASSERT_TRUE(doc["bindings"][0]["egress"]["rate_kbps"].is_number());
  EXPECT_GT(doc["bindings"][0]["egress"]["rate_kbps"].get<int64_t>(), 0);
}

// The agent's /metrics and /healthcheck over the same loop: per port and direction the
// guarantee, the kernel's counters and the state; health names what is missing.
TEST_F(BindingLoopTest, AgentMetricsAndHealthFollowTheLoop) {
  MetricsRegistry metrics;
  loop_->setMetrics(&metrics);
  addBindingCollector(metrics, *loop_);
  AgentHealth health(*loop_);
  http::Request get;
  get.method = "GET";
  get.path = "/healthcheck";
  http::Response unhealthy = agentMetricsResponse(get, metrics, health);
  EXPECT_EQ(unhealthy.status, 503);
  EXPECT_THAT(unhealthy.body, HasSubstr("placement not in sync"));
  EXPECT_THAT(unhealthy.body, HasSubstr("no binding poll of bwfloor-server has succeeded yet"));

  server_.set({binding(kPortA, kMacA, 60000, 0)});
  step();
  kernel_->setClassStatsForTest("eth-test", classOf("eth-test", kMacA), {4096, 8, 1, 2});
  health.setPlacementSynced(true);
  EXPECT_EQ(agentMetricsResponse(get, metrics, health).status, 200);
  get.path = "/metrics";
  const http::Response resp = agentMetricsResponse(get, metrics, health);
  ASSERT_EQ(resp.status, 200);
  const std::string labels = std::string("{port_id=\"") + kPortA +
                             "\",port_name=\"port-aa\",direction=\"egress\",device=\"br-test\","
                             "backend=\"htb\"";
  EXPECT_THAT(resp.body,
              HasSubstr("bwfloor_agent_port_guaranteed_bits_per_second" + labels + "} 60000000"));
  EXPECT_THAT(resp.body, HasSubstr("bwfloor_agent_port_sent_bytes_total" + labels + "} 4096"));
  EXPECT_THAT(resp.body, HasSubstr("bwfloor_agent_port_drops_total" + labels + "} 1"));
  EXPECT_THAT(resp.body, HasSubstr("bwfloor_agent_port_state" + labels + ",state=\"enforced\"} 1"));
  EXPECT_THAT(resp.body, HasSubstr("bwfloor_agent_reconcile_passes_total"));
  EXPECT_THAT(resp.body, HasSubstr("bwfloor_agent_program_seconds_count{backend=\"htb\"} 1"));
  get.path = "/nothing";
  EXPECT_EQ(agentMetricsResponse(get, metrics, health).status, 404);
}

// A QosBackend that refuses the first `refusals` programs with the kernel's EBUSY, then holds
// whatever it is given: the seam for testing the loop's retry without a kernel.
class FakeQosBackend : public dataplane::QosBackend {
 public:
  explicit FakeQosBackend(int refusals) : refusals_(refusals) {}
  std::string name() const override { return "htb"; }
  Result<std::vector<dataplane::AppliedQos>> observe() override {
    std::vector<dataplane::AppliedQos> out;
    for (const auto& [id, a] : held_) out.push_back(a);
    return out;
  }
  Result<dataplane::AppliedQos> program(const dataplane::QosSpec& spec) override {
    ++programs;
    if (refusals_ > 0) {
      --refusals_;
      return makeError(ErrorCode::kKernel, "RTM_NEWTCLASS: Device or resource busy", EBUSY);
    }
    dataplane::AppliedQos a;
    a.port = spec.port;
    a.backend = name();
    auto direction = [](Kbps min) {
      dataplane::AppliedDirection d;
      d.minKbps = min;
      return d;
    };
    if (!spec.minEgress.isZero()) a.egress = direction(spec.minEgress);
    if (!spec.minIngress.isZero()) a.ingress = direction(spec.minIngress);
    held_[spec.port.portId] = a;
    return a;
  }
  Status remove(const std::string& portId) override {
    held_.erase(portId);
    return {};
  }
  Result<std::vector<dataplane::QosCounters>> counters() override {
    return std::vector<dataplane::QosCounters>{};
  }
  int programs = 0;

 private:
  int refusals_;
  std::map<std::string, dataplane::AppliedQos> held_;
};

// A refused program is reported failed with the errno, and every following pass (long-poll
// answer or timeout) programs it again until it holds; then enforced is reported, once.
TEST(BindingLoopRetryTest, ARefusedProgramIsRetriedEachPassUntilItHolds) {
  LogOptions quiet;
  quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
  initLogging(quiet);
  FakeBindingServer server;
  EnforcementBoard board;
  board.publish(htbOn("eth-test"));
  BindingLoopOptions options;
  options.host = kHost;
  FakeQosBackend* backend = nullptr;
  BindingLoop loop(options, server, board, [&](const EnforcementPoints&) {
    std::vector<std::unique_ptr<dataplane::QosBackend>> backends;
    auto fake = std::make_unique<FakeQosBackend>(2);
    backend = fake.get();
    backends.push_back(std::move(fake));
    return backends;
  });
  server.set({binding(kPortA, kMacA, 60000, 0)});
  ASSERT_TRUE(loop.step());
  ASSERT_EQ(server.reports.size(), 1U);
  EXPECT_EQ(server.reports[0].second["state"], "failed");
  EXPECT_THAT(server.reports[0].second["detail"].get<std::string>(), HasSubstr("busy"));
  ASSERT_TRUE(loop.step());  // still refused: already reported, not again
  EXPECT_EQ(backend->programs, 2);
  EXPECT_EQ(server.reports.size(), 1U);
  ASSERT_TRUE(loop.step());
  EXPECT_EQ(backend->programs, 3);
  ASSERT_EQ(server.reports.size(), 2U);
  EXPECT_EQ(server.reports[1].second["state"], "enforced");
  ASSERT_TRUE(loop.step());
  EXPECT_EQ(backend->programs, 3) << "holding: not programmed again";
  EXPECT_EQ(server.reports.size(), 2U);
  initLogging(LogOptions{});
}

TEST(StatusSocketTest, EachConnectionGetsTheCurrentDocument) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("bwfloor-status-" + std::to_string(::getpid()));
  const std::string path = (dir / "agent.sock").string();
  int served = 0;
  {
    auto socket =
        StatusSocket::open(path, [&] { return "{\"n\":" + std::to_string(++served) + "}"; });
    ASSERT_TRUE(socket) << socket.error().message();
    EXPECT_EQ(json::parse(readStatusSocket(path).value())["n"], 1);
    EXPECT_EQ(json::parse(readStatusSocket(path).value())["n"], 2);
  }
  // Closed: the socket file is gone and a reader gets a precise error.
  EXPECT_FALSE(std::filesystem::exists(path));
  const auto gone = readStatusSocket(path);
  ASSERT_FALSE(gone);
  EXPECT_THAT(gone.error().message(), HasSubstr(path));
  std::filesystem::remove_all(dir);
  const auto tooLong = StatusSocket::open("/" + std::string(200, 'x'), [] { return ""; });
  ASSERT_FALSE(tooLong);
  EXPECT_THAT(tooLong.error().message(), HasSubstr("longer than 107"));
}

// A loop whose only device is the PF ens5 (4 VFs), enforced by the real VfRateBackend.
class BindingLoopSriovTest : public ::testing::Test {
 protected:
  BindingLoopSriovTest() {
    initLogging(LogOptions{spdlog::level::warn});
    vfs_->addPfForTest("ens5", 4);
    EnforcementPoints points;
    points[{kSriov, "ens5"}] = {"sriov", "ens5", Kbps(100000), Kbps(100000), "", ""};
    board_.publish(points);
  }
  ~BindingLoopSriovTest() override { initLogging(LogOptions{}); }

  std::unique_ptr<BindingLoop> makeLoop() {
    BindingLoopOptions options;
    options.host = kHost;
    return std::make_unique<BindingLoop>(options, server_, board_, [this](const auto&) {
      std::vector<std::unique_ptr<dataplane::QosBackend>> backends;
      backends.push_back(std::make_unique<dataplane::sriov::VfRateBackend>(
          dataplane::sriov::VfRateBackendConfig{{"ens5"}}, vfs_));
      return backends;
    });
  }

  std::shared_ptr<dataplane::sriov::FakeVfApi> vfs_ =
      std::make_shared<dataplane::sriov::FakeVfApi>();
  FakeBindingServer server_;
  EnforcementBoard board_;
};

TEST_F(BindingLoopSriovTest, DirectPortWaitsForItsVfThenGetsMinTxRate) {
  auto& vfs = vfs_;
  auto& server = server_;
  auto loop = makeLoop();
  server.set({binding(kPortA, kMacA, 1500, 1000, "ens5", kSriov)});
  ASSERT_TRUE(loop->step());
  ASSERT_EQ(server.reports.size(), 1U);
  EXPECT_EQ(server.reports[0].second["state"], "placement-only");
  EXPECT_THAT(server.reports[0].second["detail"].get<std::string>(),
              HasSubstr("waiting for a VF of ens5 with MAC fa:16:3e:00:00:0a"));
  EXPECT_EQ(vfs->mutationsForTest(), 0);

  vfs->setVfMacForTest("ens5", 2, kMacA);  // the VM is plugged
  ASSERT_TRUE(loop->step());
  EXPECT_EQ(vfs->vfForTest("ens5", 2).minTxRateMbps, 2U);  // 1500 kbit/s, rounded up
  ASSERT_EQ(server.reports.size(), 2U);
  // Egress is enforced; a VF has no ingress minimum, which the status says.
  EXPECT_EQ(server.reports[1].second["state"], "placement-only");
  EXPECT_THAT(server.reports[1].second["detail"].get<std::string>(), HasSubstr("ingress"));
  EXPECT_EQ(server.reports[1].second["backend"], "sriov");

  server.set(json::array());  // server deleted
  ASSERT_TRUE(loop->step());
  EXPECT_EQ(vfs->vfForTest("ens5", 2).minTxRateMbps, 0U);
}

// A driver's refusal reaches the server (and so `port show` / `server create`) with its errno:
// the operator needs "Operation not supported" to tell a switchdev NIC from a bad rate.
TEST_F(BindingLoopSriovTest, ADriversRefusalIsReportedFailedWithTheErrno) {
  auto loop = makeLoop();
  vfs_->setVfMacForTest("ens5", 1, kMacA);
  vfs_->failNextForTest("setVfRate", makeError(ErrorCode::kUnavailable,
                                               "RTM_SETLINK ens5 vf 1 IFLA_VF_RATE", EOPNOTSUPP));
  server_.set({binding(kPortA, kMacA, 1500, 0, "ens5", kSriov)});
  ASSERT_TRUE(loop->step());
  ASSERT_EQ(server_.reports.size(), 1U);
  EXPECT_EQ(server_.reports[0].second["state"], "failed");
  const std::string detail = server_.reports[0].second["detail"].get<std::string>();
  EXPECT_THAT(detail, HasSubstr("VF 1 of ens5"));
  EXPECT_THAT(detail, HasSubstr("errno 95"));
  EXPECT_EQ(vfs_->vfForTest("ens5", 1).minTxRateMbps, 0U);
}

TEST_F(BindingLoopSriovTest, AfterARestartWantedVfsAreAdoptedAndStaleOnesCleared) {
  auto& vfs = vfs_;
  auto& server = server_;
  // What a previous agent left: VF 2 (still wanted, MAC A) and VF 1 (its server is gone).
  vfs->setVfMacForTest("ens5", 2, kMacA);
  vfs->setVfRateForTest("ens5", 2, 2, 0);
  vfs->setVfMacForTest("ens5", 1, "fa:16:3e:00:00:99");
  vfs->setVfRateForTest("ens5", 1, 5, 0);
  auto loop = makeLoop();
  server.set({binding(kPortA, kMacA, 1500, 0, "ens5", kSriov)});
  ASSERT_TRUE(loop->step());
  EXPECT_EQ(vfs->vfForTest("ens5", 2).minTxRateMbps, 2U) << "the wanted VF was changed";
  EXPECT_EQ(vfs->vfForTest("ens5", 1).minTxRateMbps, 0U) << "the stale VF kept its minimum";
  EXPECT_EQ(vfs->mutationsForTest(), 1);  // only the stale VF was written

  server.set(json::array());  // A's server deleted: adopted, so removable by port id
  ASSERT_TRUE(loop->step());
  EXPECT_EQ(vfs->vfForTest("ens5", 2).minTxRateMbps, 0U);
}

TEST(EnforcementPointsTest, EachPointKnowsItsDevicesProviderAlsoWhenTheDeviceIsMissing) {
  ProviderTree tree;
  tree.bandwidths[AgentKind::kOvs]["br-test"] = {1500, 1500};
  tree.bandwidths[AgentKind::kOvs]["br-gone"] = {1000, 1000};
  DesiredAgent agent;
  agent.kind = AgentKind::kOvs;
  DesiredProvider brTest;
  brTest.uuid = deviceProviderUuid(AgentKind::kOvs, kHost, "br-test");
  brTest.device = "br-test";
  agent.devices.push_back(brTest);
  agent.held.insert(deviceProviderUuid(AgentKind::kOvs, kHost, "br-gone"));
  tree.roots.push_back(DesiredRoot{kHost, {agent}});
  const auto points = computeEnforcementPoints(tree, HostView{});
  EXPECT_EQ(points.at({kOvs, "br-test"}).providerUuid, brTest.uuid.toString());
  EXPECT_EQ(points.at({kOvs, "br-gone"}).providerUuid,
            deviceProviderUuid(AgentKind::kOvs, kHost, "br-gone").toString());
}

TEST(EnforcementPointsTest, OvsBridgeUplinkAndReasonsWhyNot) {
  ProviderTree tree;
  tree.bandwidths[AgentKind::kOvs]["br-test"] = {1500, 1500};
  tree.bandwidths[AgentKind::kOvs]["br-ex"] = {std::nullopt, 1};
  tree.bandwidths[AgentKind::kOvs]["br-bond"] = {1000, 1000};
  tree.bandwidths[AgentKind::kOvs]["br-lonely"] = {1000, 1000};
  tree.bandwidths[AgentKind::kSriov]["ens5"] = {100000, 100000};
  HostView view;
  auto bridge = [](const std::string& name, std::vector<std::string> ifaces,
                   const std::string& datapath = "system") {
    dataplane::OvsBridge b{name, datapath, {}};
    for (const auto& i : ifaces) b.ports.push_back({i, {{i, "", ""}}});
    return b;
  };
  view.ovsBridges = std::vector<dataplane::OvsBridge>{
      bridge("br-bond", {"eth1", "eth2"}), bridge("br-ex", {"eth-ex"}),
      bridge("br-lonely", {"br-lonely"}), bridge("br-test", {"br-test", "eth-test"}),
      bridge("br-user", {"eth-user"}, "netdev")};
  tree.bandwidths[AgentKind::kOvs]["br-user"] = {2000, 3000};
  const auto points = computeEnforcementPoints(tree, view);
  const auto& test = points.at({kOvs, "br-test"});
  EXPECT_EQ(test.backend, "htb");
  EXPECT_EQ(test.uplink, "eth-test");
  EXPECT_EQ(test.egressTotal, Kbps(1500));
  EXPECT_EQ(test.ingressTotal, Kbps(1500));
  EXPECT_EQ(test.ingressWhyNot, "");
  EXPECT_FALSE(test.sharedSender);
  // Userspace datapath: egress on the uplink's HTB, ingress honestly not enforced.
  const auto& user = points.at({kOvs, "br-user"});
  EXPECT_EQ(user.backend, "htb");
  EXPECT_EQ(user.egressTotal, Kbps(2000));
  EXPECT_EQ(user.ingressTotal, Kbps(0));
  EXPECT_THAT(user.ingressWhyNot, HasSubstr("userspace datapath"));
  EXPECT_TRUE(user.sharedSender);  // ovs-vswitchd's one socket feeds it: HTB needs short leaves
  // Above what ovs-vswitchd forwards (the limit), its forwarding decides: placement-only, why.
  const auto limited = computeEnforcementPoints(tree, view, "htb", Kbps(1999));
  EXPECT_EQ(limited.at({kOvs, "br-user"}).backend, "");
  EXPECT_THAT(limited.at({kOvs, "br-user"}).whyNot,
              HasSubstr("exceeds [ovs] userspace_datapath_max_kbps 1999 kbit/s"));
  EXPECT_EQ(limited.at({kOvs, "br-test"}).backend, "htb");  // the kernel datapath has no limit
  EXPECT_EQ(computeEnforcementPoints(tree, view, "ovs", Kbps(1999)).at({kOvs, "br-user"}).backend,
            "");
  EXPECT_EQ(computeEnforcementPoints(tree, view, "htb", Kbps(0)).at({kOvs, "br-user"}).backend,
            "htb");
  EXPECT_THAT(points.at({kOvs, "br-ex"}).whyNot, HasSubstr("no egress bandwidth"));
  EXPECT_THAT(points.at({kOvs, "br-bond"}).whyNot, HasSubstr("2 uplinks"));
  EXPECT_THAT(points.at({kOvs, "br-lonely"}).whyNot, HasSubstr("no uplink"));
  EXPECT_EQ(points.at({kSriov, "ens5"}).backend, "sriov");
  EXPECT_EQ(points.at({kSriov, "ens5"}).uplink, "ens5");
  tree.missing[AgentKind::kSriov] = {"ens5"};
  EXPECT_THAT(computeEnforcementPoints(tree, view).at({kSriov, "ens5"}).whyNot,
              HasSubstr("ens5 is missing"));

  // [ovs] qos_backend = ovs: OvsQueueBackend is given the bridge itself.
  const auto queues = computeEnforcementPoints(tree, view, "ovs").at({kOvs, "br-test"});
  EXPECT_EQ(queues.backend, "ovs");
  EXPECT_EQ(queues.uplink, "br-test");
  EXPECT_EQ(queues.egressTotal, Kbps(1500));

  view.ovsBridges.reset();
  view.ovsdbError = "connection refused";
  EXPECT_THAT(computeEnforcementPoints(tree, view).at({kOvs, "br-test"}).whyNot,
              HasSubstr("OVSDB unreadable: connection refused"));
}

TEST(EnforcementBoardTest, VersionMovesOnlyOnChange) {
  EnforcementBoard board;
  EXPECT_EQ(board.snapshot().first, 0U);
  EXPECT_FALSE(board.waitPublished(std::chrono::milliseconds(1)));
  board.publish(htbOn("eth0"));
  EXPECT_TRUE(board.waitPublished(std::chrono::milliseconds(1)));
  EXPECT_EQ(board.snapshot().first, 1U);
  board.publish(htbOn("eth0"));
  EXPECT_EQ(board.snapshot().first, 1U);
  board.publish(htbOn("eth1"));
  EXPECT_EQ(board.snapshot().first, 2U);
}

}  // namespace
}  // namespace bwfloor::agent
