#pragma once
// What http_request_fuzzer serves requests from: bwfloor-server's routes (placement/server_main.cpp
// wires the same objects) over an in-memory PlacementModel (MemoryStore) and PortsService
// (MemoryJsonStore), noauth2 and token mode side by side, and a fixture with fixed uuids that the
// seed corpus names, so that one request reaches deep code: provider trees with inventories,
// traits, an aggregate, a consumer's allocations, custom names, and on /v1 a network, a QoS policy
// with rules, ports, two agents, an ACTIVE server and one still waiting for its agent (BUILD).

#include <memory>
#include <string>

#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"
#include "placement/ports/json_store.h"
#include "placement/ports/ports_service.h"
#include "placement/ports/v1_api.h"
#include "placement/server_routes.h"
#include "placement/store/store.h"

namespace bwfloor::fuzz {

// The fixture's uuids and names (fuzz/corpus/http_request_fuzzer/ uses them).
inline constexpr const char* kCompute0 = "11111111-1111-4111-8111-111111111111";   // OVS + SR-IOV
inline constexpr const char* kBridgeRp = "22222222-2222-4222-8222-222222222222";   // br-phys
inline constexpr const char* kSriovRp = "33333333-3333-4333-8333-333333333333";    // eth0
inline constexpr const char* kCompute1 = "44444444-4444-4444-8444-444444444444";   // VCPU...
inline constexpr const char* kSharedRp = "55555555-5555-4555-8555-555555555555";   // DISK_GB
inline constexpr const char* kConsumer = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";   // on compute1
inline constexpr const char* kAggregate = "99999999-9999-4999-8999-999999999999";  // 1 and shared
inline constexpr const char* kTokenPrefix = "tok-";
inline constexpr const char* kAdminToken = "tok-admin";
inline constexpr const char* kAgentToken0 = "tok-agent-compute0";  // acts as compute0
inline constexpr const char* kAgentToken1 = "tok-agent-compute1";  // acts as compute1
inline constexpr const char* kReaderToken = "tok-reader-proj";     // reads project "proj"

class HttpWorld {
 public:
  // A world in the fixture's state. The first call builds the fixture through the model's and
  // the service's own calls and keeps what that leaves in the two stores; every world (the first
  // too) loads a copy of those stores (PlacementModel::load, PortsService::load), then makes what
  // is runtime-only: the agents' heartbeats and vm1, which waits for its agent. Aborts with the
  // reason if the fixture cannot be built: a harness bug or a regression, not a finding.
  static std::unique_ptr<HttpWorld> make();
  // The ports service goes first: its waker thread may still answer long-polls through v1_.
  ~HttpWorld();
  HttpWorld(const HttpWorld&) = delete;
  HttpWorld& operator=(const HttpWorld&) = delete;

  placement::ServerRoutes& routes() { return *routes_; }
  // The same objects served with auth_strategy = token: kAdminToken, an agent token per host
  // (kAgentToken0 acts as compute0 only), a reader token for project "proj". Requests whose
  // X-Auth-Token starts with "tok-" go here (an unknown "tok-..." is a 401).
  placement::ServerRoutes& tokenRoutes() { return *tokenRoutes_; }
  placement::PlacementModel& model() { return *model_; }
  placement::MemoryStore& store() { return *store_; }
  ports::PortsService& ports() { return *ports_; }
  ports::MemoryJsonStore& docs() { return *docs_; }

 private:
  struct Stored;  // what the fixture leaves in the stores
  explicit HttpWorld(const Stored* stored);
  void buildPlacementFixture();
  void buildPortsFixture();
  void startRuntime();

  std::shared_ptr<placement::MemoryStore> store_;
  std::unique_ptr<placement::PlacementModel> model_;
  std::unique_ptr<placement::PlacementApi> api_;
  std::shared_ptr<ports::MemoryJsonStore> docs_;
  std::unique_ptr<ports::PortsService> ports_;
  std::unique_ptr<placement::ServerMetrics> metrics_;  // /metrics, /healthcheck, request timing
  std::unique_ptr<ports::V1Api> v1_;
  std::unique_ptr<placement::ServerRoutes> routes_;
  std::unique_ptr<placement::PlacementApi> tokenApi_;
  std::unique_ptr<ports::V1Api> tokenV1_;
  std::unique_ptr<placement::ServerRoutes> tokenRoutes_;
};

}  // namespace bwfloor::fuzz
