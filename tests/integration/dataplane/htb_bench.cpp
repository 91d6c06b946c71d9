// dataplane_tc_bench: program and then remove N guaranteed ports (egress and ingress) on one veth
// uplink, with HtbBackend (netlink) and with the same objects made by a loop of `tc` commands, in
// the same run; and the latency of a single program() call. Prints figures; it is not a test.
//
//   sudo build/bin/dataplane_tc_bench [ports=1000]
//
// The bwfloor side logs every change at info, as in production, into a sink that discards it (the
// formatting is paid, the terminal is not). The tc side creates the same classes and MAC filters
// (without bwfloor's port tag) and deletes them again one by one, as a script would.
#include <spdlog/sinks/null_sink.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "core/logging.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::dataplane::tc {
namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Port {
  std::string id;
  std::string mac;
  uint32_t minor;
};

std::vector<Port> makePorts(int n) {
  std::vector<Port> ports;
  for (int i = 0; i < n; ++i) {
    char id[40];
    char mac[18];
    std::snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
    std::snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
    ports.push_back(Port{id, mac, kFirstPortMinor + static_cast<uint32_t>(i)});
  }
  return ports;
}

QosSpec spec(const Port& port) {
  QosSpec s;
  s.port = PortIdentity{port.id, port.mac, "up0", std::nullopt};
  s.minEgress = Kbps(100);
  s.minIngress = Kbps(100);
  return s;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "dataplane_tc_bench: %s\n", what.c_str());
  std::exit(1);
}

// Forwards to the real TcApi, timing each kind of call: where a program() spends its time.
class TimedTcApi : public TcApi {
  struct Stat {
    int calls = 0;
    double totalUs = 0;
  };
  template <typename F>
  auto timed(const char* name, F call) -> decltype(call()) {
    auto start = Clock::now();
    auto result = call();
    Stat& stat = stats_[name];
    ++stat.calls;
    stat.totalUs += std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    return result;
  }

 public:
  explicit TimedTcApi(std::unique_ptr<TcApi> inner) : inner_(std::move(inner)) {}
  void print() const {
    for (const auto& [name, stat] : stats_) {
      std::printf("  %-12s %6d calls, mean %7.1f us\n", name.c_str(), stat.calls,
                  stat.totalUs / stat.calls);
    }
  }

  Result<std::optional<TcLink>> getLink(const std::string& n) override {
    return timed("getLink", [&] { return inner_->getLink(n); });
  }
  Status addIfb(const std::string& n, uint32_t q, const std::string& a) override {
    return timed("addIfb", [&] { return inner_->addIfb(n, q, a); });
  }
  Status setLinkUp(const std::string& n) override {
    return timed("setLinkUp", [&] { return inner_->setLinkUp(n); });
  }
  Status deleteLink(const std::string& n) override {
    return timed("deleteLink", [&] { return inner_->deleteLink(n); });
  }
  Result<std::vector<Qdisc>> listQdiscs(const std::string& d) override {
    return timed("listQdiscs", [&] { return inner_->listQdiscs(d); });
  }
  Status addQdisc(const std::string& d, const Qdisc& q) override {
    return timed("addQdisc", [&] { return inner_->addQdisc(d, q); });
  }
  Status deleteQdisc(const std::string& d, const Qdisc& q) override {
    return timed("deleteQdisc", [&] { return inner_->deleteQdisc(d, q); });
  }
  Result<std::vector<HtbClass>> listClasses(const std::string& d) override {
    return timed("listClasses", [&] { return inner_->listClasses(d); });
  }
  Status addClass(const std::string& d, const HtbClass& c) override {
    return timed("addClass", [&] { return inner_->addClass(d, c); });
  }
  Status changeClass(const std::string& d, const HtbClass& c) override {
    return timed("changeClass", [&] { return inner_->changeClass(d, c); });
  }
  Status deleteClass(const std::string& d, uint32_t h) override {
    return timed("deleteClass", [&] { return inner_->deleteClass(d, h); });
  }
  Result<std::vector<U32Filter>> listFilters(const std::string& d, uint32_t p) override {
    return timed("listFilters", [&] { return inner_->listFilters(d, p); });
  }
  Status addFilter(const std::string& d, const U32Filter& f) override {
    return timed("addFilter", [&] { return inner_->addFilter(d, f); });
  }
  Status changeFilter(const std::string& d, const U32Filter& f) override {
    return timed("changeFilter", [&] { return inner_->changeFilter(d, f); });
  }
  Status deleteFilter(const std::string& d, const U32Filter& f) override {
    return timed("deleteFilter", [&] { return inner_->deleteFilter(d, f); });
  }

 private:
  std::unique_ptr<TcApi> inner_;
  std::map<std::string, Stat> stats_;
};

struct Timing {
  double programMs = 0;
  double removeMs = 0;
  double total() const { return programMs + removeMs; }
};

struct Latency {
  double firstMs = 0;  // builds both trees and the IFB
  std::vector<double> perCallMs;
  std::vector<double> perCallCpuMs;  // this thread's CPU time, user + kernel: the work itself
};

double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

Timing runBwfloor(const test::Netns& ns, const std::vector<Port>& ports, Latency& latency) {
  std::unique_ptr<LibnlTcApi> api;
  {
    test::EnterNetns inside(ns.name());
    if (!inside.ok()) die("cannot enter " + ns.name());
    Result<std::unique_ptr<LibnlTcApi>> opened = LibnlTcApi::open();
    if (!opened) die(opened.error().toString());
    api = std::move(opened).value();
  }
  HtbBackendConfig config;
  config.devices = {HtbDeviceConfig{"up0", Kbps(10000000), Kbps(10000000)}};
  auto timed = std::make_shared<TimedTcApi>(std::move(api));
  HtbBackend backend(config, timed);

  Timing timing;
  auto start = Clock::now();
  for (const Port& port : ports) {
    const double cpuBefore = threadCpuMs();
    auto before = Clock::now();
    Result<AppliedQos> applied = backend.program(spec(port));
    auto took = Clock::now() - before;
    const double cpu = threadCpuMs() - cpuBefore;
    if (!applied) die("program: " + applied.error().toString());
    if (&port == &ports.front()) {
      latency.firstMs = ms(took);
    } else {
      latency.perCallMs.push_back(ms(took));
      latency.perCallCpuMs.push_back(cpu);
    }
  }
  timing.programMs = ms(Clock::now() - start);
  test::CommandResult classes = ns.exec({"tc", "class", "show", "dev", "up0"});
  const auto count = std::count(classes.output.begin(), classes.output.end(), '\n');
  if (count != static_cast<long>(ports.size()) + 2) {
    die("expected " + std::to_string(ports.size() + 2) + " classes on up0, found " +
        std::to_string(count));
  }
  start = Clock::now();
  for (const Port& port : ports) {
    Status removed = backend.remove(port.id);
    if (!removed) die("remove: " + removed.error().toString());
  }
  timing.removeMs = ms(Clock::now() - start);
  std::printf("netlink calls made by HtbBackend (program + remove of all ports):\n");
  timed->print();
  std::printf("\n");
  return timing;
}

void tc(const test::Netns& ns, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"tc", "-n", ns.name()};
  argv.insert(argv.end(), args.begin(), args.end());
  test::CommandResult r = test::run(argv);
  if (!r.ok()) die(test::describe(argv) + ": " + r.output);
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%x", v);
  return buf;
}

void tcTree(const test::Netns& ns, const std::string& dev, const std::string& hashAt,
            const std::string& hashMask) {
  tc(ns, {"qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "2"});
  tc(ns, {"class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit",
          "ceil", "10gbit", "quantum", "200000"});
  tc(ns, {"class", "add", "dev", dev, "parent", "1:1", "classid", "1:2", "htb", "rate", "1mbit",
          "ceil", "10gbit", "quantum", "12500"});
  tc(ns, {"filter", "add", "dev", dev, "parent", "1:", "prio", "10", "handle", "10:", "protocol",
          "all", "u32", "divisor", "256"});
  tc(ns,
     {"filter",   "add",  "dev", dev,       "parent", "1:",     "prio", "10",  "handle", "800::800",
      "protocol", "all",  "u32", "ht",      "800::",  "match",  "u32",  "0",   "0",      "at",
      "0",        "link", "10:", "hashkey", "mask",   hashMask, "at",   hashAt});
}

void tcPort(const test::Netns& ns, const std::string& dev, const Port& port, bool source) {
  const MacAddress mac = parseMac(port.mac).value();
  const std::string minor = hex(port.minor);
  const std::string bucket = hex(mac[5]);
  tc(ns, {"class", "add", "dev", dev, "parent", "1:1", "classid", "1:" + minor, "htb", "rate",
          "100kbit", "ceil", "10gbit", "quantum", "1600"});
  std::vector<std::string> keys;
  for (const U32Key& key : macKeys(mac, source ? MacField::kSource : MacField::kDestination)) {
    keys.insert(keys.end(), {"match", "u32", "0x" + hex(key.value), "0x" + hex(key.mask), "at",
                             std::to_string(key.offset)});
  }
  std::vector<std::string> args{"filter",   "add",  "dev", dev,      "parent",
                                "1:",       "prio", "10",  "handle", "10:" + bucket + ":" + minor,
                                "protocol", "all",  "u32", "ht",     "10:" + bucket + ":"};
  args.insert(args.end(), keys.begin(), keys.end());
  args.insert(args.end(), {"classid", "1:" + minor});
  tc(ns, args);
}

void tcUnport(const test::Netns& ns, const std::string& dev, const Port& port) {
  const MacAddress mac = parseMac(port.mac).value();
  const std::string minor = hex(port.minor);
  tc(ns, {"filter", "del", "dev", dev, "parent", "1:", "prio", "10", "handle",
          "10:" + hex(mac[5]) + ":" + minor, "u32"});
  tc(ns, {"class", "del", "dev", dev, "classid", "1:" + minor});
}

Timing runTcLoop(const test::Netns& ns, const std::vector<Port>& ports) {
  Timing timing;
  auto start = Clock::now();
  tcTree(ns, "up0", "-4", "0x00ff0000");
  test::run(ns.execArgv({"ip", "link", "add", "ifb-up0", "txqueuelen", "1000", "type", "ifb"}));
  test::run(ns.execArgv({"ip", "link", "set", "ifb-up0", "up"}));
  tcTree(ns, "ifb-up0", "-12", "0x000000ff");
  tc(ns, {"qdisc", "add", "dev", "up0", "handle", "ffff:", "ingress"});
  tc(ns, {"filter",   "add",    "dev",    "up0",    "parent",   "ffff:", "prio",   "10",
          "protocol", "all",    "u32",    "match",  "u32",      "0",     "0",      "at",
          "0",        "action", "mirred", "egress", "redirect", "dev",   "ifb-up0"});
  for (const Port& port : ports) {
    tcPort(ns, "up0", port, true);
    tcPort(ns, "ifb-up0", port, false);
  }
  timing.programMs = ms(Clock::now() - start);
  start = Clock::now();
  for (const Port& port : ports) {
    tcUnport(ns, "up0", port);
    tcUnport(ns, "ifb-up0", port);
  }
  tc(ns, {"filter", "del", "dev", "up0", "parent", "ffff:", "prio", "10"});
  tc(ns, {"qdisc", "del", "dev", "up0", "handle", "ffff:", "ingress"});
  tc(ns, {"qdisc", "del", "dev", "up0", "root"});
  test::run(ns.execArgv({"ip", "link", "del", "ifb-up0"}));
  timing.removeMs = ms(Clock::now() - start);
  return timing;
}

std::string loadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f on %ld cores", load[0], sysconf(_SC_NPROCESSORS_ONLN));
  return buf;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

int benchMain(int argc, char** argv) {
  if (geteuid() != 0) die("needs root (network namespaces, tc)");
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (n < 2 || n > static_cast<int>(kPortMinorCount))
    die("ports must be 2.." + std::to_string(kPortMinorCount));
  LogOptions logs;
  logs.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
  initLogging(logs);

  test::Netns ns(test::uniqueName("bench"));
  if (!ns.created()) die("ip netns add failed");
  if (!ns.exec({"ip", "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).ok() ||
      !ns.exec({"ip", "link", "set", "up0", "up"}).ok() ||
      !ns.exec({"ip", "link", "set", "up0p", "up"}).ok()) {
    die("veth setup failed");
  }
  const std::vector<Port> ports = makePorts(n);
  Latency latency;
  const Timing bw = runBwfloor(ns, ports, latency);
  const Timing tcLoop = runTcLoop(ns, ports);

  std::printf("ports: %d on one veth uplink, each with an egress and an ingress minimum\n", n);
  std::printf("objects per port: 2 HTB classes + 2 u32 filters (uplink and IFB)\n\n");
  std::printf("%-26s %12s %12s %12s\n", "", "program ms", "remove ms", "total ms");
  std::printf("%-26s %12.1f %12.1f %12.1f\n", "bwfloor HtbBackend", bw.programMs, bw.removeMs,
              bw.total());
  std::printf("%-26s %12.1f %12.1f %12.1f\n", "tc command loop", tcLoop.programMs, tcLoop.removeMs,
              tcLoop.total());
  std::printf("%-26s %12.1fx %11.1fx %11.1fx   (target >= 20x)\n\n", "speed-up (tc / bwfloor)",
              tcLoop.programMs / bw.programMs, tcLoop.removeMs / bw.removeMs,
              tcLoop.total() / bw.total());
  std::printf("single program() call (target < 5 ms):\n");
  std::printf("  first port (creates both HTB trees, the IFB, the redirect): %.3f ms\n",
              latency.firstMs);
  std::printf("  next %zu ports, wall: median %.3f ms, p99 %.3f ms, max %.3f ms\n",
              latency.perCallMs.size(), percentile(latency.perCallMs, 0.5),
              percentile(latency.perCallMs, 0.99), percentile(latency.perCallMs, 1.0));
  std::printf(
      "  same calls, CPU of the calling thread (user + kernel): median %.3f ms, p99 %.3f ms,"
      " max %.3f ms\n",
      percentile(latency.perCallCpuMs, 0.5), percentile(latency.perCallCpuMs, 0.99),
      percentile(latency.perCallCpuMs, 1.0));
  std::printf("  (wall above CPU is time spent waiting for a core: load average %s)\n",
              loadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace bwfloor::dataplane::tc

int main(int argc, char** argv) { return bwfloor::dataplane::tc::benchMain(argc, argv); }
