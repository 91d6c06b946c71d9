// agent_metrics_bench: what the agent's metrics cost in CPU, on the real kernel. N ports (default
// 200) are bound and programmed by BindingLoop + HtbBackend on a veth uplink in a throwaway
// network namespace, then, on this thread's CPU clock (user + system, the netlink dumps
// included):
//   - one sample(): what DataplaneWatch does every second whether or not anyone scrapes (rates,
//     the guarantee-held signal);
//   - one /metrics render with the per-port collector (what each Prometheus scrape costs).
// Prints the figures and the share of one core at one sample (and one scrape) per second.
// Not a test; root.
//
//   sudo build/bin/agent_metrics_bench [ports=200]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "agent/binding/binding_loop.h"
#include "agent/metrics/agent_metrics.h"
#include "core/logging.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::agent {
namespace {

using nlohmann::json;

// The server's answer: `ports` bindings on br-test, both directions guaranteed.
class BindingsServer : public RestTransport {
 public:
  explicit BindingsServer(int ports) : ports_(ports) {}
  Result<http::Response> send(const std::string& method, const std::string&,
                              const std::string&) override {
    http::Response resp;
    if (method != "GET") return resp;
    json list = json::array();
    for (int i = 0; i < ports_; ++i) {
      char id[40];
      char mac[24];
      std::snprintf(id, sizeof(id), "5b2d3c4e-8d3b-4c5e-9f10-%012x", i + 1);
      std::snprintf(mac, sizeof(mac), "fa:16:3e:01:%02x:%02x", ((i + 1) >> 8) & 0xff,
                    (i + 1) & 0xff);
      list.push_back({{"port_id", id},
                      {"port_name", "p" + std::to_string(i)},
                      {"mac_address", mac},
                      {"device", "br-test"},
                      {"agent_type", "Open vSwitch agent"},
                      {"min_egress_kbps", 1000},
                      {"min_ingress_kbps", 1000},
                      {"status", {{"state", "enforced"}, {"backend", "htb"}}}});
    }
    resp.body = json{{"host", "bench"}, {"revision", 1}, {"bindings", list}}.dump();
    return resp;
  }

 private:
  int ports_;
};

double threadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <typename F>
double cpuMicrosPerCall(int calls, F f) {
  const double start = threadCpuMicros();
  for (int i = 0; i < calls; ++i) f();
  return (threadCpuMicros() - start) / calls;
}

int run(int ports) {
  initLogging(LogOptions{spdlog::level::warn});
  test::Netns ns(test::uniqueName("amb"));
  if (!ns.created() ||
      !ns.exec({"ip", "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).ok() ||
      !ns.exec({"ip", "link", "set", "up0", "up"}).ok()) {
    std::fprintf(stderr, "agent_metrics_bench: cannot build the namespace (root?)\n");
    return 1;
  }
  test::EnterNetns inside(ns.name());
  EnforcementBoard board;
  EnforcementPoints points;
  points[{"Open vSwitch agent", "br-test"}] = {"htb",          "up0", Kbps(10000000),
                                               Kbps(10000000), "",    ""};
  board.publish(points);
  BindingsServer server(ports);
  BindingLoop loop(BindingLoopOptions{"bench"}, server, board, [](const EnforcementPoints& pts) {
    std::vector<std::unique_ptr<dataplane::QosBackend>> backends;
    dataplane::tc::HtbBackendConfig config;
    for (const auto& [key, p] : pts)
      config.devices.push_back({p.uplink, p.egressTotal, p.ingressTotal});
    backends.push_back(std::make_unique<dataplane::tc::HtbBackend>(
        config, std::shared_ptr<dataplane::tc::TcApi>(dataplane::tc::LibnlTcApi::open().value())));
    return backends;
  });
  MetricsRegistry metrics;
  loop.setMetrics(&metrics);
  addBindingCollector(metrics, loop);
  if (auto st = loop.step(); !st) {
    std::fprintf(stderr, "agent_metrics_bench: %s\n", st.error().toString().c_str());
    return 1;
  }
  loop.sample();
  constexpr int kCalls = 100;
  const double sampleUs = cpuMicrosPerCall(kCalls, [&] { loop.sample(); });
  size_t bytes = 0;
  const double renderUs = cpuMicrosPerCall(kCalls, [&] { bytes = metrics.render().size(); });
  std::printf("agent, HtbBackend on a veth, %d ports bound (both directions: %d classes)\n", ports,
              2 * ports);
  std::printf("  sample() every second (always):  %8.0f us CPU each = %.3f %% of a core\n",
              sampleUs, sampleUs / 1e4);
  std::printf(
      "  /metrics render (each scrape):   %8.0f us CPU each = %.3f %% of a core at 1 s, "
      "%zu bytes\n",
      renderUs, renderUs / 1e4, bytes);
  std::printf("  without a scrape %.3f %%, with a 1 s scrape %.3f %% of a core (x%.2f)\n",
              sampleUs / 1e4, (sampleUs + renderUs) / 1e4, (sampleUs + renderUs) / sampleUs);
  return 0;
}

}  // namespace
}  // namespace bwfloor::agent

int main(int argc, char** argv) { return bwfloor::agent::run(argc > 1 ? std::atoi(argv[1]) : 200); }
