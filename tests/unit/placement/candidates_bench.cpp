// Benchmark (figures, not a test): GET /allocation_candidates through PlacementApi::handle (query
// parsing, search and JSON text; no socket) on bench_placement.py's topology built in memory, to
// compare engine changes without HTTP and Python noise.
//
//   build/tests/placement_candidates_bench [hosts=1000] [samples=30] [claimable-hosts=0] [only]
//
// Each host is a root (VCPU 8, MEMORY_MB 65536 - 2048 reserved, DISK_GB 1000) with an OVS agent
// and a NIC Switch agent child and 2 bridges + 2 NICs (NET_BW_EGR/IGR, physnet and vnic traits)
// below them. With claimable-hosts > 0 every other host's VCPU is used up (as the benchmark's
// prefill does before its claims). Then the wide tree (1 root, 8 single-unit children, 8 groups,
// isolate, limit 1000). Prints median / p99 / max / min milliseconds per query. `only` runs just
// that query (e.g. "vm_bw&limit=1000"), for a profiler.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/uuid.h"
#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"
#include "placement/store/store.h"

namespace bwfloor::placement {
namespace {

constexpr const char* kEgr = "NET_BW_EGR_KILOBIT_PER_SEC";
constexpr const char* kIgr = "NET_BW_IGR_KILOBIT_PER_SEC";

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "setup failed: %s\n", what);
    std::exit(1);
  }
}

std::string add(PlacementModel& m, const std::string& name, const std::string& parent,
                const std::map<std::string, Inventory>& inv, const std::set<std::string>& traits) {
  auto p = m.createProvider(name, std::nullopt,
                            parent.empty() ? std::nullopt : std::optional<std::string>(parent));
  check(p.has_value(), "provider");
  int64_t gen = p->generation;
  if (!inv.empty()) {
    auto r = m.setInventories(p->uuid, gen, inv);
    check(r.has_value(), "inventories");
    gen = r->generation;
  }
  if (!traits.empty()) check(m.setTraits(p->uuid, gen, traits).has_value(), "traits");
  return p->uuid;
}

void buildHosts(PlacementModel& m, int hosts, int claimable) {
  for (const char* t : {"CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_PHYSNET_PHYSNET1",
                        "CUSTOM_VNIC_TYPE_NORMAL", "CUSTOM_VNIC_TYPE_DIRECT",
                        "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP"}) {
    check(m.createTrait(t).has_value(), "trait");
  }
  const std::set<std::string> rootTraits = {"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE",
                                            "HW_CPU_X86_SSE2", "COMPUTE_VOLUME_MULTI_ATTACH"};
  const std::set<std::string> sriov = {
      "CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL", "CUSTOM_VNIC_TYPE_MACVTAP"};
  auto bw = [](int64_t total) {
    return std::map<std::string, Inventory>{{kEgr, Inventory{.total = total, .maxUnit = total}},
                                            {kIgr, Inventory{.total = total, .maxUnit = total}}};
  };
  for (int h = 0; h < hosts; ++h) {
    std::string host = "host" + std::to_string(h);
    std::string root = add(m, host, "",
                           {{"VCPU", Inventory{.total = 8, .maxUnit = 8}},
                            {"MEMORY_MB", Inventory{.total = 65536, .reserved = 2048}},
                            {"DISK_GB", Inventory{.total = 1000}}},
                           rootTraits);
    std::string ovs = add(m, host + ":ovs", root, {}, {"CUSTOM_VNIC_TYPE_NORMAL"});
    std::string nics = add(m, host + ":sriov", root, {}, sriov);
    for (int n = 0; n < 2; ++n) {
      std::string physnet = "CUSTOM_PHYSNET_PHYSNET" + std::to_string(n);
      add(m, host + ":br" + std::to_string(n), ovs, bw(10000000),
          {physnet, "CUSTOM_VNIC_TYPE_NORMAL"});
      std::set<std::string> t = sriov;
      t.insert(physnet);
      add(m, host + ":nic" + std::to_string(n), nics, bw(25000000), t);
    }
    if (claimable > 0 && h >= claimable) {
      AllocationWrite w;
      w.consumerUuid = uuid4().toString();
      w.allocations[root] = {{"VCPU", 8}};
      w.projectId = "filler";
      w.userId = "filler";
      check(m.writeAllocations({w}).has_value(), "prefill");
    }
  }
}

struct Figures {
  double min, median, p99, max;
  size_t bytes;
};

Figures time(PlacementApi& api, const std::string& query, int samples) {
  http::Request req;
  req.method = "GET";
  req.path = "/placement/allocation_candidates";
  req.query = query;
  req.target = req.path + "?" + query;
  req.headers.add("X-Auth-Token", "admin");
  req.headers.add("Accept", "application/json");
  req.headers.add("OpenStack-API-Version", "placement 1.36");
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i <= samples; ++i) {  // the first one warms up
    auto t0 = std::chrono::steady_clock::now();
    http::Response resp = api.handle(req);
    auto t1 = std::chrono::steady_clock::now();
    check(resp.status == 200, query.c_str());
    bytes = resp.body.size();
    if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)],
          ms.back(), bytes};
}

int run(int hosts, int samples, int claimable, const std::string& only) {
  auto store = std::make_shared<MemoryStore>();
  PlacementModel model(store);
  check(model.load().has_value(), "load");
  auto t0 = std::chrono::steady_clock::now();
  buildHosts(model, hosts, claimable);
  std::printf("%d hosts (%d providers) built in %.1f s, %d claimable\n", hosts, 7 * hosts,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              claimable);
  PlacementApi api(model, ApiOptions{});
  const std::string base = "resources=VCPU:1,MEMORY_MB:512";
  const std::string bw1 = "&resources1=" + std::string(kEgr) + ":1000," + kIgr +
                          ":1000&required1=CUSTOM_PHYSNET_PHYSNET0,CUSTOM_VNIC_TYPE_NORMAL";
  const std::string bw2 = "&resources2=" + std::string(kEgr) + ":1000," + kIgr +
                          ":1000&required2=CUSTOM_PHYSNET_PHYSNET1,CUSTOM_VNIC_TYPE_NORMAL";
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"vm_only", base},
      {"vm_bw", base + bw1 + "&group_policy=none"},
      {"vm_bw_same_subtree", base + bw1 +
                                 "&required_agent=CUSTOM_VNIC_TYPE_NORMAL&same_subtree=1,_agent" +
                                 "&group_policy=none"},
      {"vm_2ports_isolate", base + bw1 + bw2 + "&group_policy=isolate"},
  };
  std::printf("%-32s %10s %10s %10s %10s %12s\n", "query", "median ms", "p99 ms", "max ms",
              "min ms", "bytes");
  for (const auto& [name, query] : variants) {
    for (const char* limit : {"", "&limit=1000", "&limit=10"}) {
      if (!only.empty() && only != name + limit) continue;
      Figures f = time(api, query + limit, samples);
      std::printf("%-32s %10.3f %10.3f %10.3f %10.3f %12zu\n", (name + limit).c_str(), f.median,
                  f.p99, f.max, f.min, f.bytes);
    }
  }
  return 0;
}

int runWide(int samples) {
  auto store = std::make_shared<MemoryStore>();
  PlacementModel model(store);
  check(model.load().has_value(), "load");
  check(model.createResourceClass("CUSTOM_WIDE_DEV", false).has_value(), "class");
  std::string root = add(model, "wide", "", {{"VCPU", Inventory{.total = 8}}}, {});
  for (int i = 0; i < 8; ++i) {
    add(model, "dev" + std::to_string(i), root,
        {{"CUSTOM_WIDE_DEV", Inventory{.total = 1, .maxUnit = 1}}}, {});
  }
  PlacementApi api(model, ApiOptions{});
  std::string query = "group_policy=isolate&limit=1000";
  for (int g = 1; g <= 8; ++g) query += "&resources" + std::to_string(g) + "=CUSTOM_WIDE_DEV:1";
  Figures f = time(api, query, samples);
  std::printf("%-32s %10.3f %10.3f %10.3f %10.3f %12zu\n", "wide 8x8 isolate limit=1000", f.median,
              f.p99, f.max, f.min, f.bytes);
  return 0;
}

}  // namespace
}  // namespace bwfloor::placement

int main(int argc, char** argv) {
  int hosts = argc > 1 ? std::atoi(argv[1]) : 1000;
  int samples = argc > 2 ? std::atoi(argv[2]) : 30;
  int claimable = argc > 3 ? std::atoi(argv[3]) : 0;
  std::string only = argc > 4 ? argv[4] : "";
  int rc = bwfloor::placement::run(hosts, samples, claimable, only);
  return rc != 0 || !only.empty() ? rc : bwfloor::placement::runWide(samples);
}
