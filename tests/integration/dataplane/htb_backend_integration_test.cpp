// HtbBackend + LibnlTcApi on the real kernel, in a network namespace made for the test (root; the
// tests fail, never skip, without it). What the backend programs is checked with `tc`, the
// operator's view, and drift is made with `tc` too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <iostream>
#include <regex>
#include <sstream>

#include "core/logging.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "tests/integration/dataplane/netns_rig.h"

namespace bwfloor::dataplane::tc {
namespace {

using test::Netns;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr const char* kPortA = "7a1c2e4f-8d3b-4c5e-9f10-1122334455aa";
constexpr const char* kPortB = "7a1c2e4f-8d3b-4c5e-9f10-1122334455bb";
constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";

QosSpec spec(const std::string& port, const std::string& mac, uint64_t egr, uint64_t igr) {
  QosSpec s;
  s.port = PortIdentity{port, mac, "up0", std::nullopt};
  s.minEgress = Kbps(egr);
  s.minIngress = Kbps(igr);
  return s;
}

// Forwards to the real TcApi and counts the calls that change something.
class CountingTcApi : public TcApi {
 public:
  explicit CountingTcApi(std::unique_ptr<TcApi> inner) : inner_(std::move(inner)) {}
  int mutations() const { return mutations_; }

  Result<std::optional<TcLink>> getLink(const std::string& n) override {
    return inner_->getLink(n);
  }
  Status addIfb(const std::string& n, uint32_t q, const std::string& a) override {
    return count(inner_->addIfb(n, q, a));
  }
  Status setLinkUp(const std::string& n) override { return count(inner_->setLinkUp(n)); }
  Status deleteLink(const std::string& n) override { return count(inner_->deleteLink(n)); }
  Result<std::vector<Qdisc>> listQdiscs(const std::string& d) override {
    return inner_->listQdiscs(d);
  }
  Status addQdisc(const std::string& d, const Qdisc& q) override {
    return count(inner_->addQdisc(d, q));
  }
  Status deleteQdisc(const std::string& d, const Qdisc& q) override {
    return count(inner_->deleteQdisc(d, q));
  }
  Result<std::vector<HtbClass>> listClasses(const std::string& d) override {
    return inner_->listClasses(d);
  }
  Status addClass(const std::string& d, const HtbClass& c) override {
    return count(inner_->addClass(d, c));
  }
  Status changeClass(const std::string& d, const HtbClass& c) override {
    return count(inner_->changeClass(d, c));
  }
  Status deleteClass(const std::string& d, uint32_t h) override {
    return count(inner_->deleteClass(d, h));
  }
  Result<std::vector<U32Filter>> listFilters(const std::string& d, uint32_t p) override {
    return inner_->listFilters(d, p);
  }
  Status addFilter(const std::string& d, const U32Filter& f) override {
    return count(inner_->addFilter(d, f));
  }
  Status changeFilter(const std::string& d, const U32Filter& f) override {
    return count(inner_->changeFilter(d, f));
  }
  Status deleteFilter(const std::string& d, const U32Filter& f) override {
    return count(inner_->deleteFilter(d, f));
  }

 private:
  Status count(Status s) {
    ++mutations_;
    return s;
  }
  std::unique_ptr<TcApi> inner_;
  int mutations_ = 0;
};

class HtbKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0) << "integration tests need root (network namespaces, tc)";
    ASSERT_TRUE(ns_.created()) << "ip netns add " << ns_.name();
    ASSERT_TRUE(
        ns_.exec({"ip", "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "up0", "up"}).ok());
    ASSERT_TRUE(ns_.exec({"ip", "link", "set", "up0p", "up"}).ok());
    quantumWarningsBefore_ = test::kernelQuantumWarnings();
    LogOptions options;
    options.pattern = "%n %l %v";
    options.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    initLogging(options);
    backend_ = makeBackend();
  }

  void TearDown() override {
    initLogging(LogOptions{});
    EXPECT_EQ(test::kernelQuantumWarnings(), quantumWarningsBefore_) << "kernel warned (dmesg)";
    EXPECT_THAT(log_.str(), Not(HasSubstr("kernel warning"))) << log_.str();
  }

  // A backend with its own netlink socket in the test namespace (a fresh one = an agent restart).
  std::unique_ptr<HtbBackend> makeBackend() {
    test::EnterNetns inside(ns_.name());
    EXPECT_TRUE(inside.ok());
    Result<std::unique_ptr<LibnlTcApi>> api = LibnlTcApi::open();
    EXPECT_TRUE(api) << api.error();
    counting_ = std::make_shared<CountingTcApi>(std::move(api).value());
    HtbBackendConfig config;
    config.devices = {HtbDeviceConfig{"up0", Kbps(100000), Kbps(80000)}};
    return std::make_unique<HtbBackend>(config, counting_);
  }

  std::string tc(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"tc"};
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandResult r = ns_.exec(argv);
    EXPECT_TRUE(r.ok()) << test::describe(argv) << ": " << r.output;
    return r.output;
  }

  Netns ns_{test::uniqueName("k")};
  std::ostringstream log_;
  int quantumWarningsBefore_ = 0;
  std::shared_ptr<CountingTcApi> counting_;
  std::unique_ptr<HtbBackend> backend_;
};

std::string classIdOf(const AppliedDirection& dir) {
  std::smatch m;
  std::regex re("classid=(1:[0-9a-f]+)");
  return std::regex_search(dir.location, m, re) ? m[1].str() : "";
}

TEST_F(HtbKernelTest, ProgramObserveRemoveAsTcSeesIt) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000, 40000));
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_TRUE(applied->overall().isEnforced()) << applied->overall().toString();
  const std::string cls = classIdOf(*applied->egress);
  ASSERT_FALSE(cls.empty());

  const std::string classes = tc({"-s", "class", "show", "dev", "up0"});
  EXPECT_THAT(classes, HasSubstr("class htb 1:1 root rate 100Mbit ceil 100Mbit"));
  EXPECT_THAT(classes, HasSubstr("class htb 1:2 parent 1:1 prio 0 rate 1Mbit ceil 100Mbit"));
  EXPECT_THAT(classes,
              HasSubstr("class htb " + cls + " parent 1:1 prio 0 rate 60Mbit ceil 100Mbit"));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("qdisc htb 1: root"));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("default 0x2"));
  // Quanta are set explicitly (no kernel "quantum is big" warnings), buckets at least 64 KiB.
  EXPECT_THAT(tc({"-d", "class", "show", "dev", "up0"}), HasSubstr("quantum 200000"));
  EXPECT_THAT(classes, HasSubstr("burst 64Kb"));

  const std::string filters = tc({"filter", "show", "dev", "up0"});
  EXPECT_THAT(filters, HasSubstr("fh 10: ht divisor 256"));
  EXPECT_THAT(filters, HasSubstr("link 10:"));
  EXPECT_THAT(filters, HasSubstr("hash mask 00ff0000 at -4"));
  EXPECT_THAT(filters, HasSubstr("fh 10:a:" + cls.substr(2)));
  EXPECT_THAT(filters, HasSubstr("flowid " + cls));
  EXPECT_THAT(filters, HasSubstr("match 02000000/ffffffff at -8"));
  EXPECT_THAT(filters, HasSubstr("match 000a0000/ffff0000 at -4"));

  const std::string ifbClasses = tc({"class", "show", "dev", "ifb-up0"});
  EXPECT_THAT(ifbClasses, HasSubstr("class htb 1:1 root rate 80Mbit ceil 80Mbit"));
  EXPECT_THAT(ifbClasses, HasSubstr("class htb " + classIdOf(*applied->ingress) +
                                    " parent 1:1 prio 0 rate 40Mbit ceil 80Mbit"));
  const std::string ifbFilters = tc({"filter", "show", "dev", "ifb-up0"});
  EXPECT_THAT(ifbFilters, HasSubstr("match 00000200/0000ffff at -16"));
  EXPECT_THAT(ifbFilters, HasSubstr("match 0000000a/ffffffff at -12"));
  EXPECT_THAT(ifbFilters, HasSubstr("hash mask 000000ff at -12"));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0", "ingress"}),
              HasSubstr("mirred (Egress Redirect to device ifb-up0) stolen"));
  test::CommandResult link = ns_.exec({"ip", "-d", "link", "show", "ifb-up0"});
  EXPECT_THAT(link.output, HasSubstr("state UNKNOWN"));
  EXPECT_THAT(link.output, HasSubstr("qlen 1000"));
  EXPECT_THAT(link.output, HasSubstr("alias bwfloor ingress of up0"));

  // Idempotent on the real kernel too: the read-back equals what was programmed.
  const int before = counting_->mutations();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_EQ(counting_->mutations(), before);

  // A restart adopts: the port id comes back from the kernel (the tag keys survive a dump).
  backend_ = makeBackend();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed) << observed.error();
  ASSERT_THAT(*observed, SizeIs(1));
  EXPECT_EQ(observed->front().port.portId, kPortA);
  EXPECT_EQ(observed->front().port.mac, kMacA);
  EXPECT_EQ(observed->front().egress->minKbps, Kbps(60000));
  EXPECT_EQ(observed->front().ingress->minKbps, Kbps(40000));
  EXPECT_TRUE(observed->front().overall().isEnforced());
  const size_t logBefore = log_.str().size();
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_EQ(counting_->mutations(), 0) << log_.str().substr(logBefore);

  // A change of rate is one class change.
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 30000, 40000)));
  EXPECT_EQ(counting_->mutations(), 1);
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}),
              HasSubstr("class htb " + cls + " parent 1:1 prio 0 rate 30Mbit ceil 100Mbit"));

  ASSERT_TRUE(backend_->program(spec(kPortB, kMacB, 10000, 0)));
  ASSERT_TRUE(backend_->remove(kPortA));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}), Not(HasSubstr("class htb " + cls + " ")));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("qdisc htb 1: root"));
  // The last ingress guarantee went with A: its IFB and redirect went too.
  EXPECT_FALSE(ns_.exec({"ip", "link", "show", "ifb-up0"}).ok());
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), Not(HasSubstr("ingress")));

  ASSERT_TRUE(backend_->remove(kPortB));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), Not(HasSubstr("htb")));
  EXPECT_EQ(tc({"class", "show", "dev", "up0"}), "");
  EXPECT_THAT(backend_->observe().value(), ::testing::IsEmpty());
  EXPECT_THAT(log_.str(), HasSubstr("tc info op=add-class port=" + std::string(kPortA) +
                                    " direction=egress dev=up0 classid=" + cls +
                                    " min_kbps=60000 max_kbps=100000"));
}

TEST_F(HtbKernelTest, DriftByHandIsObservedAndRepaired) {
  Result<AppliedQos> applied = backend_->program(spec(kPortA, kMacA, 60000, 40000));
  ASSERT_TRUE(applied) << applied.error();
  const std::string cls = classIdOf(*applied->egress);

  tc({"class", "del", "dev", "up0", "classid", cls});
  AppliedQos seen = backend_->observe().value().front();
  EXPECT_EQ(seen.egress->enforcement.toString(), "failed (class " + cls + " missing on up0)");
  EXPECT_TRUE(seen.ingress->enforcement.isEnforced());
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_THAT(tc({"class", "show", "dev", "up0"}), HasSubstr("class htb " + cls + " parent 1:1"));
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());

  // The redirect deleted by hand: ingress is no longer enforced, and comes back.
  tc({"filter", "del", "dev", "up0", "ingress", "prio", "10", "handle", "800::800", "u32"});
  seen = backend_->observe().value().front();
  EXPECT_EQ(seen.ingress->enforcement.toString(), "failed (redirect from up0 to ifb-up0 missing)");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_THAT(tc({"filter", "show", "dev", "up0", "ingress"}), HasSubstr("ifb-up0"));

  // The IFB set down by hand.
  ASSERT_TRUE(ns_.exec({"ip", "link", "set", "ifb-up0", "down"}).ok());
  seen = backend_->observe().value().front();
  EXPECT_EQ(seen.ingress->enforcement.toString(), "failed (ifb-up0 is down)");
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());

  // The whole tree replaced by someone else's qdisc.
  tc({"qdisc", "replace", "dev", "up0", "root", "tbf", "rate", "1mbit", "burst", "10k", "latency",
      "10ms"});
  seen = backend_->observe().value().front();
  EXPECT_EQ(seen.egress, std::nullopt);
  ASSERT_TRUE(backend_->program(spec(kPortA, kMacA, 60000, 40000)));
  EXPECT_THAT(tc({"qdisc", "show", "dev", "up0"}), HasSubstr("qdisc htb 1: root"));
  EXPECT_TRUE(backend_->observe().value().front().overall().isEnforced());
  ASSERT_TRUE(backend_->remove(kPortA));
}

TEST_F(HtbKernelTest, KernelRefusalIsACleanErrorWithErrno) {
  {
    // The libnl adapter reports the kernel's errno and its explanation.
    test::EnterNetns inside(ns_.name());
    std::unique_ptr<LibnlTcApi> api = LibnlTcApi::open().value();
    Status noQdisc = api->addClass("up0p", htbClass(0x12, kRootClassMinor, Kbps(1), Kbps(1)));
    ASSERT_FALSE(noQdisc);
    EXPECT_THAT(noQdisc.error().message(), HasSubstr("add class 1:12 on up0p"));
    EXPECT_EQ(noQdisc.error().sysErrno(), ENOENT) << noQdisc.error();
    ASSERT_TRUE(api->addQdisc("up0p", htbQdisc()));
    Status zeroRate = api->addClass("up0p", htbClass(0x12, kRootClassMinor, Kbps(0), Kbps(0)));
    ASSERT_FALSE(zeroRate);
    EXPECT_EQ(zeroRate.error().sysErrno(), EINVAL) << zeroRate.error();
    std::cout << "kernel refusal as reported: " << zeroRate.error() << "\n";
    // The kernel's extended ack text is part of the message.
    U32Filter orphan =
        portFilter(Uuid::parse(kPortA).value(), parseMac(kMacA).value(), MacField::kSource, 0x12);
    Status noTable = api->addFilter("up0p", orphan);
    ASSERT_FALSE(noTable);
    EXPECT_EQ(noTable.error().sysErrno(), EINVAL);
    EXPECT_THAT(noTable.error().message(),
                HasSubstr("add u32 filter 10:a:12 prio 10 parent 1: on up0p: "));
    std::cout << "kernel refusal as reported: " << noTable.error() << "\n";
    // A kernel warning on success is logged: the check in TearDown is not vacuous. (This
    // kernel sends the "quantum is big" warning as an extended ack, not to dmesg.)
    HtbClass noQuantum = htbClass(0x13, kRootClassMinor, Kbps(1000000), Kbps(1000000));
    noQuantum.quantumBytes = 0;  // let the kernel compute rate / r2q
    ASSERT_TRUE(api->addClass("up0p", noQuantum));
    EXPECT_THAT(log_.str(), HasSubstr("tc warning kernel warning: add class 1:13 on up0p: "
                                      "sch_htb: quantum of class 10013 is big"));
    log_.str("");
    Status exists = api->addQdisc("up0p", Qdisc{kIngressHandle, kParentIngress, "ingress"});
    ASSERT_TRUE(exists);
    exists = api->addQdisc("up0p", Qdisc{kIngressHandle, kParentIngress, "ingress"});
    EXPECT_EQ(exists.error().code(), ErrorCode::kAlreadyExists) << exists.error();
    Status gone = api->deleteClass("nosuchdev", makeHandle(1, 1));
    EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(gone.error().sysErrno(), ENODEV);
    Status noFilter = api->deleteFilter("up0p", portHashTable());
    EXPECT_EQ(noFilter.error().code(), ErrorCode::kNotFound) << noFilter.error();
  }
  // A device that does not exist (any more): the agent waits for it.
  ASSERT_TRUE(ns_.exec({"ip", "link", "del", "up0"}).ok());
  Result<AppliedQos> missing = backend_->program(spec(kPortA, kMacA, 60000, 0));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound) << missing.error();
}

TEST_F(HtbKernelTest, ThousandPortsProgramAndRemoveCleanly) {
  for (int i = 0; i < 1000; ++i) {
    char port[40];
    char mac[18];
    std::snprintf(port, sizeof(port), "00000000-0000-4000-8000-%012d", i);
    std::snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", i >> 8, i & 0xff);
    Result<AppliedQos> r = backend_->program(spec(port, mac, 50, 50));
    ASSERT_TRUE(r) << r.error();
  }
  backend_ = makeBackend();
  Result<std::vector<AppliedQos>> observed = backend_->observe();
  ASSERT_TRUE(observed);
  ASSERT_THAT(*observed, SizeIs(1000));
  for (const AppliedQos& a : *observed) ASSERT_TRUE(a.overall().isEnforced()) << a.port.portId;
  for (const AppliedQos& a : *observed) ASSERT_TRUE(backend_->remove(a.port.portId));
  EXPECT_EQ(tc({"class", "show", "dev", "up0"}), "");
  EXPECT_FALSE(ns_.exec({"ip", "link", "show", "ifb-up0"}).ok());
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
