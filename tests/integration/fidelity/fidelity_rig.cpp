#include "tests/integration/fidelity/fidelity_rig.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>

#include "dataplane/api/qos_spec.h"
#include "dataplane/ovs/ovs_queue_backend.h"
#include "dataplane/ovs/ovsdb_idl_qos_api.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"

namespace bwfloor::test {
namespace {

// The kernel's net.core.wmem_default, which ovs-vswitchd's sending socket takes when it starts;
// what the agent reads in the same namespace (agent_main.cpp).
uint64_t wmemDefault() {
  if (const char* forced = std::getenv("BWFLOOR_FIDELITY_SENDER_BUFFER")) {
    return std::strtoull(forced, nullptr, 10);
  }
  std::ifstream in("/proc/sys/net/core/wmem_default");
  uint64_t bytes = 0;
  return in >> bytes && bytes > 0 ? bytes : 212992;
}

std::string vmAddress(int i) { return "10.77.0." + std::to_string(11 + i); }

}  // namespace

std::optional<Datapath> parseDatapath(const std::string& text) {
  if (text == "bridge") return Datapath::kLinuxBridge;
  if (text == "ovs-netdev") return Datapath::kOvsUserspace;
  if (text == "ovs-system") return Datapath::kOvsKernel;
  return std::nullopt;
}

std::string datapathName(Datapath datapath) {
  switch (datapath) {
    case Datapath::kLinuxBridge:
      return "bridge";
    case Datapath::kOvsUserspace:
      return "ovs-netdev";
    case Datapath::kOvsKernel:
      return "ovs-system";
  }
  return "?";
}

FidelityRig::FidelityRig(Datapath datapath, int ports) : datapath_(datapath), ports_(ports) {
  for (int i = 0; i <= ports_; ++i) {
    vms_.push_back(std::make_unique<Netns>(uniqueName("v")));
    if (datapath_ == Datapath::kLinuxBridge)
      apps_.push_back(std::make_unique<Netns>(uniqueName("p")));
  }
}

FidelityRig::~FidelityRig() = default;

const Netns& FidelityRig::vm(int i) const { return *vms_.at(i < 0 ? ports_ : i); }

const Netns& FidelityRig::portClient(int i) const {
  return datapath_ == Datapath::kLinuxBridge ? *apps_.at(i) : *vms_.at(i);
}

const Netns& FidelityRig::neighbourClient() const {
  return datapath_ == Datapath::kLinuxBridge ? *apps_.at(ports_) : *vms_.at(ports_);
}

std::string FidelityRig::portMac(int i) const {
  char mac[24];
  std::snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x",
                static_cast<unsigned>(i < 0 ? 0xbb : i & 0xff));
  return mac;
}

std::string FidelityRig::hostSide(int i) const {
  return i < 0 ? "vB-h" : "v" + std::to_string(i) + "-h";
}

std::string FidelityRig::serverAddress() const {
  return datapath_ == Datapath::kLinuxBridge ? "10.78.0.1" : "10.77.0.1";
}

::testing::AssertionResult FidelityRig::ip(const Netns& ns,
                                           const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = ns.exec(argv);
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << ns.name() << ": " << describe(argv) << ": " << r.output;
}

#define RIG_TRY(expr)                                           \
  do {                                                          \
    if (::testing::AssertionResult r_ = (expr); !r_) return r_; \
  } while (0)

::testing::AssertionResult FidelityRig::build() {
  if (geteuid() != 0) return ::testing::AssertionFailure() << "needs root (netns, tc, OVS)";
  for (const Netns* ns : {&host_, &net_, &rtr_}) {
    if (!ns->created()) return ::testing::AssertionFailure() << "netns " << ns->name();
  }
  for (const auto& ns : vms_) {
    if (!ns->created()) return ::testing::AssertionFailure() << "netns " << ns->name();
  }
  RIG_TRY(datapath_ == Datapath::kLinuxBridge ? buildBridge() : buildOvs());
  EnterNetns inside(host_.name());
  if (!inside.ok()) return ::testing::AssertionFailure() << "cannot enter " << host_.name();
  Result<std::unique_ptr<dataplane::tc::LibnlTcApi>> tc = dataplane::tc::LibnlTcApi::open();
  if (!tc) return ::testing::AssertionFailure() << tc.error().toString();
  tc_ = std::shared_ptr<dataplane::tc::TcApi>(std::move(tc).value());
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FidelityRig::buildBridge() {
  RIG_TRY(ip(host_, {"link", "add", "up0", "type", "veth", "peer", "name", "rdown", "netns",
                     rtr_.name()}));
  RIG_TRY(ip(rtr_,
             {"link", "add", "rup", "type", "veth", "peer", "name", "netu", "netns", net_.name()}));
  RIG_TRY(ip(host_, {"link", "add", "br0", "type", "bridge"}));
  RIG_TRY(ip(host_, {"link", "set", "up0", "master", "br0"}));
  RIG_TRY(ip(host_, {"link", "set", "up0", "up"}));
  RIG_TRY(ip(host_, {"link", "set", "br0", "up"}));
  RIG_TRY(ip(rtr_, {"addr", "add", "10.77.0.254/24", "dev", "rdown"}));
  RIG_TRY(ip(rtr_, {"addr", "add", "10.78.0.254/24", "dev", "rup"}));
  RIG_TRY(ip(rtr_, {"link", "set", "rdown", "up"}));
  RIG_TRY(ip(rtr_, {"link", "set", "rup", "up"}));
  if (!rtr_.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).ok()) {
    return ::testing::AssertionFailure() << "ip_forward in " << rtr_.name();
  }
  for (int i = -1; i < ports_; ++i) {
    const Netns& v = vm(i);
    const Netns& app = *apps_.at(i < 0 ? ports_ : i);
    const std::string subnet = "10.79." + std::to_string(i < 0 ? 250 : i + 1);
    const std::string addr = i < 0 ? "10.77.0.250" : vmAddress(i);
    RIG_TRY(ip(host_, {"link", "add", hostSide(i), "type", "veth", "peer", "name", "eth0", "netns",
                       v.name()}));
    RIG_TRY(ip(host_, {"link", "set", hostSide(i), "master", "br0"}));
    RIG_TRY(ip(host_, {"link", "set", hostSide(i), "up"}));
    RIG_TRY(ip(v, {"link", "set", "eth0", "address", portMac(i)}));
    RIG_TRY(ip(v, {"addr", "add", addr + "/24", "dev", "eth0"}));
    RIG_TRY(ip(v, {"link", "set", "eth0", "up"}));
    RIG_TRY(ip(v, {"route", "add", "default", "via", "10.77.0.254"}));
    RIG_TRY(ip(
        v, {"link", "add", "inner", "type", "veth", "peer", "name", "eth0", "netns", app.name()}));
    RIG_TRY(ip(v, {"addr", "add", subnet + ".1/24", "dev", "inner"}));
    RIG_TRY(ip(v, {"link", "set", "inner", "up"}));
    if (!v.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).ok()) {
      return ::testing::AssertionFailure() << "ip_forward in " << v.name();
    }
    RIG_TRY(ip(app, {"addr", "add", subnet + ".2/24", "dev", "eth0"}));
    RIG_TRY(ip(app, {"link", "set", "eth0", "up"}));
    RIG_TRY(ip(app, {"route", "add", "default", "via", subnet + ".1"}));
    RIG_TRY(ip(rtr_, {"route", "add", subnet + ".0/24", "via", addr}));
  }
  RIG_TRY(ip(net_, {"addr", "add", serverAddress() + "/24", "dev", "netu"}));
  RIG_TRY(ip(net_, {"link", "set", "netu", "up"}));
  RIG_TRY(ip(net_, {"route", "add", "default", "via", "10.78.0.254"}));
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FidelityRig::buildOvs() {
  const bool userspace = datapath_ == Datapath::kOvsUserspace;
  auto noOffload = [&](const Netns& ns, const std::string& dev) -> ::testing::AssertionResult {
    if (!userspace) return ::testing::AssertionSuccess();
    CommandResult r = ns.exec({"ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off"});
    if (r.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << ns.name() << ": ethtool: " << r.output;
  };
  RIG_TRY(ip(host_,
             {"link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", net_.name()}));
  RIG_TRY(ip(host_, {"link", "set", "up0", "up"}));
  RIG_TRY(ip(net_, {"addr", "add", serverAddress() + "/24", "dev", "eth0"}));
  RIG_TRY(ip(net_, {"link", "set", "eth0", "up"}));
  RIG_TRY(noOffload(net_, "eth0"));
  std::vector<std::string> addPorts;
  for (int i = -1; i < ports_; ++i) {
    const Netns& v = vm(i);
    RIG_TRY(ip(host_, {"link", "add", hostSide(i), "type", "veth", "peer", "name", "eth0", "netns",
                       v.name()}));
    RIG_TRY(ip(host_, {"link", "set", hostSide(i), "up"}));
    RIG_TRY(ip(v, {"link", "set", "eth0", "address", portMac(i)}));
    RIG_TRY(ip(v, {"addr", "add", (i < 0 ? "10.77.0.250" : vmAddress(i)) + "/24", "dev", "eth0"}));
    RIG_TRY(ip(v, {"link", "set", "eth0", "up"}));
    RIG_TRY(noOffload(v, "eth0"));
    if (!addPorts.empty()) addPorts.emplace_back("--");
    addPorts.insert(addPorts.end(), {"add-port", "br-int", hostSide(i)});
  }
  EnterNetns inside(host_.name());  // the daemons live in the host namespace
  if (!inside.ok()) return ::testing::AssertionFailure() << "cannot enter " << host_.name();
  if (!userspace && !waitForOvsCpuCount()) {
    return ::testing::AssertionFailure() << "uptime stayed below 10.5 s";
  }
  RIG_TRY(ovs_.start());
  RIG_TRY(ovs_.startVswitchd());
  RIG_TRY(ovs_.addNeutronBridges("br-test", "up0", userspace ? "netdev" : "system"));
  RIG_TRY(ovs_.vsctl(addPorts));
  return ::testing::AssertionSuccess();
}

#undef RIG_TRY

std::string FidelityRig::backendDevice(const std::string& kind) const {
  return kind == "ovs" ? "br-test" : "up0";
}

std::unique_ptr<dataplane::QosBackend> FidelityRig::makeBackend(const std::string& kind,
                                                                Kbps total) {
  const bool userspace = datapath_ == Datapath::kOvsUserspace;
  if (kind == "htb") {
    dataplane::tc::HtbBackendConfig config;
    config.defaultClassRate = dataplane::unguaranteedFloor(total);
    // As the agent configures an uplink of this datapath (enforcement_points.cpp, agent_main.cpp).
    config.devices = {dataplane::tc::HtbDeviceConfig{
        "up0", total, userspace ? Kbps(0) : total,
        userspace ? "ingress not enforceable on OVS userspace datapath bridge br-test" : "",
        userspace ? wmemDefault() : 0}};
    return std::make_unique<dataplane::tc::HtbBackend>(config, tc_);
  }
  if (kind == "ovs" && datapath_ != Datapath::kLinuxBridge) {
    dataplane::OvsQueueBackendConfig config;
    config.bridges = {dataplane::OvsQueueBridgeConfig{"br-test", total}};
    config.defaultQueueRate = dataplane::unguaranteedFloor(total);
    config.netdevSenderBufferBytes = userspace ? wmemDefault() : 0;
    return std::make_unique<dataplane::OvsQueueBackend>(
        config, std::make_shared<dataplane::OvsdbIdlQosApi>(ovs_.remote()), tc_);
  }
  ADD_FAILURE() << "no backend " << kind << " on the " << datapathName(datapath_) << " datapath";
  return nullptr;
}

uint64_t FidelityRig::framesFromVm(int i) const {
  CommandResult r = host_.exec({"cat", "/sys/class/net/" + hostSide(i) + "/statistics/rx_packets"});
  return r.ok() ? std::stoull(r.output) : 0;
}

std::string FidelityRig::evidence() const {
  std::string out;
  for (const char* what : {"qdisc", "class"}) {
    out += host_.exec({"tc", "-s", what, "show", "dev", "up0"}).output;
  }
  if (datapath_ == Datapath::kLinuxBridge) return out;
  std::ifstream log(ovs_.dir() + "/ovs-vswitchd.log");
  std::set<std::string> warnings;
  for (std::string line; std::getline(log, line);) {
    const size_t w = line.find("|WARN|");
    if (w != std::string::npos) warnings.insert(line.substr(w));
  }
  for (const std::string& w : warnings) out += "ovs-vswitchd: " + w + "\n";
  return out;
}

}  // namespace bwfloor::test
