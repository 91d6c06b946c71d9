#include "fuzz/http_world.h"

#include <cstdio>
#include <cstdlib>

namespace bwfloor::fuzz {
namespace {

using nlohmann::json;
using placement::ApiResult;
using placement::Inventory;
using placement::Provider;

[[noreturn]] void fixtureFailed(const std::string& step, const std::string& why) {
  std::fprintf(stderr, "http_request_fuzzer: fixture step '%s' failed: %s\n", step.c_str(),
               why.c_str());
  std::abort();
}

template <typename T>
T must(ApiResult<T> r, const std::string& step) {
  if (!r) fixtureFailed(step, r.error().detail);
  return std::move(*r);
}

void must(const placement::ApiStatus& st, const std::string& step) {
  if (!st) fixtureFailed(step, st.error().detail);
}

Inventory inventory(int64_t total, int64_t reserved = 0, double ratio = 1.0, int64_t maxUnit = 0) {
  Inventory inv;
  inv.total = total;
  inv.reserved = reserved;
  inv.allocationRatio = ratio;
  inv.maxUnit = maxUnit == 0 ? total : maxUnit;
  return inv;
}

}  // namespace

struct HttpWorld::Stored {
  placement::StoreChanges placement;
  std::vector<ports::JsonDocChange> docs;
};

std::unique_ptr<HttpWorld> HttpWorld::make() {
  static const Stored stored = [] {
    HttpWorld built(nullptr);
    built.buildPlacementFixture();
    built.buildPortsFixture();
    Stored out;
    auto snap = built.store_->load();
    if (!snap) fixtureFailed("store snapshot", snap.error().message());
    out.placement.upsertProviders = std::move(snap->providers);  // parents first, as created
    out.placement.upsertConsumers = std::move(snap->consumers);
    out.placement.addTraits = std::move(snap->customTraits);
    out.placement.addResourceClasses = std::move(snap->customResourceClasses);
    for (const char* kind : {"network", "policy", "port", "server", "agent"}) {
      auto docs = built.docs_->loadKind(kind);
      if (!docs) fixtureFailed("docs snapshot", docs.error().message());
      for (auto& [id, body] : *docs) out.docs.push_back({kind, id, std::move(body)});
    }
    return out;
  }();
  std::unique_ptr<HttpWorld> world(new HttpWorld(&stored));
  world->startRuntime();
  return world;
}

HttpWorld::HttpWorld(const Stored* stored)
    : store_(std::make_shared<placement::MemoryStore>()),
      docs_(std::make_shared<ports::MemoryJsonStore>()) {
  if (stored != nullptr) {
    if (Status st = store_->apply(stored->placement); !st)
      fixtureFailed("copy", st.error().message());
    if (Status st = docs_->apply(stored->docs); !st)
      fixtureFailed("copy /v1", st.error().message());
  }
  model_ = std::make_unique<placement::PlacementModel>(store_);
  if (Status st = model_->load(); !st) fixtureFailed("load", st.error().message());
  placement::ApiOptions apiOptions;  // noauth2, candidates in order
  api_ = std::make_unique<placement::PlacementApi>(*model_, apiOptions);
  ports_ = std::make_unique<ports::PortsService>(*model_, docs_, ports::PortsOptions{});
  if (Status st = ports_->load(); !st) fixtureFailed("ports load", st.error().message());
  v1_ = std::make_unique<ports::V1Api>(*ports_, apiOptions);
  metrics_ = std::make_unique<placement::ServerMetrics>(*model_, *ports_);
  routes_ = std::make_unique<placement::ServerRoutes>(*api_, *v1_, nullptr, metrics_.get());
  placement::ApiOptions tokenOptions;
  tokenOptions.auth = placement::AuthStrategy::kToken;
  tokenOptions.adminTokens = {kAdminToken};
  tokenOptions.agentTokens = {{kAgentToken0, "compute0"}, {kAgentToken1, "compute1"}};
  tokenOptions.readerTokens = {{kReaderToken, "proj"}};
  tokenApi_ = std::make_unique<placement::PlacementApi>(*model_, tokenOptions);
  tokenV1_ = std::make_unique<ports::V1Api>(*ports_, tokenOptions);
  tokenRoutes_ =
      std::make_unique<placement::ServerRoutes>(*tokenApi_, *tokenV1_, nullptr, metrics_.get());
}

HttpWorld::~HttpWorld() {
  ports_.reset();  // joins the waker, which may still answer through v1_
  routes_.reset();
  v1_.reset();
  tokenRoutes_.reset();
  tokenV1_.reset();
}

// compute0 (the agent's host) with an OVS bridge and an SR-IOV PF below it, each with
// bandwidth, the physnet and vnic traits the /v1 ports ask for; compute1 with VCPU / MEMORY_MB
// (overcommitted, reserved) in an aggregate with a sharing DISK_GB provider; one consumer's
// allocations on compute1; a custom trait and a custom resource class.
void HttpWorld::buildPlacementFixture() {
  placement::PlacementModel& m = *model_;
  must(m.createTrait("CUSTOM_PHYSNET_PHYSNET0"), "trait physnet");
  must(m.createTrait("CUSTOM_VNIC_TYPE_NORMAL"), "trait normal");
  must(m.createTrait("CUSTOM_VNIC_TYPE_DIRECT"), "trait direct");
  must(m.createTrait("CUSTOM_FUZZ"), "trait fuzz");
  must(m.createResourceClass("CUSTOM_FUZZ_RC", true), "class fuzz");

  must(m.createProvider("compute0", std::string(kCompute0), std::nullopt), "compute0");
  struct Device {
    const char* uuid;
    const char* name;
    const char* vnicTrait;
  };
  for (const Device& d :
       {Device{kBridgeRp, "compute0:Open vSwitch agent:br-phys", "CUSTOM_VNIC_TYPE_NORMAL"},
        Device{kSriovRp, "compute0:NIC Switch agent:eth0", "CUSTOM_VNIC_TYPE_DIRECT"}}) {
    Provider p =
        must(m.createProvider(d.name, std::string(d.uuid), std::string(kCompute0)), d.name);
    p = must(m.setInventories(d.uuid, p.generation,
                              {{"NET_BW_EGR_KILOBIT_PER_SEC", inventory(1000000)},
                               {"NET_BW_IGR_KILOBIT_PER_SEC", inventory(1000000)}}),
             std::string(d.name) + " inventories");
    must(m.setTraits(d.uuid, p.generation, {"CUSTOM_PHYSNET_PHYSNET0", d.vnicTrait}),
         std::string(d.name) + " traits");
  }

  Provider c1 = must(m.createProvider("compute1", std::string(kCompute1), std::nullopt), "c1");
  c1 = must(m.setInventories(kCompute1, c1.generation,
                             {{"VCPU", inventory(8, 0, 16.0, 8)},
                              {"MEMORY_MB", inventory(16384, 512, 1.5)},
                              {"CUSTOM_FUZZ_RC", inventory(10)}}),
            "compute1 inventories");
  c1 = must(m.setTraits(kCompute1, c1.generation, {"HW_CPU_X86_AVX2", "CUSTOM_FUZZ"}),
            "compute1 traits");
  must(m.setAggregates(kCompute1, c1.generation, {kAggregate}), "compute1 aggregates");

  Provider sh = must(m.createProvider("shared-disk", std::string(kSharedRp), std::nullopt), "sh");
  sh = must(m.setInventories(kSharedRp, sh.generation, {{"DISK_GB", inventory(1000, 10)}}),
            "shared inventories");
  sh = must(m.setTraits(kSharedRp, sh.generation, {"MISC_SHARES_VIA_AGGREGATE"}), "shared traits");
  must(m.setAggregates(kSharedRp, sh.generation, {kAggregate}), "shared aggregates");

  placement::AllocationWrite w;
  w.consumerUuid = kConsumer;
  w.allocations = {{kCompute1, {{"VCPU", 2}, {"MEMORY_MB", 2048}}}, {kSharedRp, {{"DISK_GB", 20}}}};
  w.projectId = "proj";
  w.userId = "user";
  w.consumerType = "INSTANCE";
  must(m.writeAllocations({w}), "allocations");
}

// net0 on physnet0; policy "gold" (minimum egress and ingress, a limit) and "silver" (no rule);
// ports p0 (normal) and p1 (direct) on gold, p2 without policy, p3 on gold unbound; both agents
// of compute0; server vm0 ACTIVE on p0 (its agent reported). startRuntime() adds vm1.
void HttpWorld::buildPortsFixture() {
  using ports::Direction;
  using ports::RuleType;
  ports::PortsService& s = *ports_;
  must(s.createNetwork({.name = "net0", .physnet = "physnet0", .segmentationId = 100}), "net0");
  must(s.createPolicy({.name = "gold"}), "gold");
  must(s.createPolicy({.name = "silver"}), "silver");
  ports::QosRule egress = must(
      s.createRule("gold", {.type = RuleType::kMinimumBandwidth, .kbps = 10000}), "gold egress");
  must(s.createRule(
           "gold",
           {.type = RuleType::kMinimumBandwidth, .direction = Direction::kIngress, .kbps = 5000}),
       "gold ingress");
  must(s.createRule("gold", {.type = RuleType::kBandwidthLimit, .kbps = 50000}), "gold limit");
  ports::Port p0 = must(s.createPort({.name = "p0", .network = "net0", .qosPolicy = "gold"}), "p0");
  must(s.createPort({.name = "p1",
                     .network = "net0",
                     .vnicType = ports::VnicType::kDirect,
                     .macAddress = "fa:16:3e:00:00:01",
                     .qosPolicy = "gold"}),
       "p1");
  must(s.createPort({.name = "p2", .network = "net0"}), "p2");
  must(s.createPort({.name = "p3", .network = "net0", .qosPolicy = "gold"}), "p3");
  for (const char* type : {"Open vSwitch agent", "NIC Switch agent"}) {
    must(s.heartbeat({.host = "compute0", .agentType = type}), type);
  }
  bool settled = false;
  s.createServer({.name = "vm0", .ports = {"p0"}}, [&settled](const ApiResult<ports::Server>& r) {
    if (!r) fixtureFailed("vm0", r.error().detail);
    settled = true;
  });
  must(s.reportBindingStatus(p0.id, {bindings::BindingState::kEnforced, "", "compute0", "ovs"}),
       "p0 enforced");
  if (!settled) fixtureFailed("vm0", "not ACTIVE after its port was enforced");
  // A rate change of a bound port's rule moves vm0's allocation.
  must(s.updateRule("gold", egress.id, {.minKbps = 20000}), "gold egress rate");
}

// Liveness is not stored (heartbeats), and a server that waits for its agent would be rolled
// back by PortsService::load (start-up reconciliation): both are made anew in every world.
void HttpWorld::startRuntime() {
  ports::PortsService& s = *ports_;
  for (const char* type : {"Open vSwitch agent", "NIC Switch agent"}) {
    must(s.heartbeat({.host = "compute0", .agentType = type}), type);
  }
  // Answered later by a fuzzed request (its port's report, its deletion) or never.
  s.createServer({.name = "vm1", .ports = {"p1"}}, [](const ApiResult<ports::Server>&) {});
  json vm1 = must(s.show(ports::Kind::kServer, "vm1"), "vm1");
  if (vm1.value("status", "") != "BUILD") fixtureFailed("vm1", "not waiting: " + vm1.dump());
}

}  // namespace bwfloor::fuzz
