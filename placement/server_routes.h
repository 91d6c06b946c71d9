#pragma once
// What bwfloor-server answers on its one port: /v1 (bwfloor's objects), /placement and / (the
// Placement API), /metrics and /healthcheck (with ServerMetrics), anything else 404. Shared by
// the server and the request fuzzer.

#include <functional>
#include <optional>
#include <string>

#include "http/cors.h"
#include "http/server.h"
#include "placement/api/placement_api.h"
#include "placement/ports/v1_api.h"
#include "placement/server_metrics.h"

namespace bwfloor::placement {

class ServerRoutes {
 public:
  // `staleness` (replicas on a shared database): why reads must be refused now, or nullopt.
  using Staleness = std::function<std::optional<std::string>()>;
  ServerRoutes(PlacementApi& placement, ports::V1Api& v1, Staleness staleness = {},
               ServerMetrics* metrics = nullptr, http::CorsOptions cors = {})
      : placement_(placement),
        v1_(v1),
        staleness_(std::move(staleness)),
        metrics_(metrics),
        cors_(std::move(cors)) {}
  // Calls `respond` exactly once, now or later (a /v1 long-poll).
  void handle(http::Request&& req, const http::Responder& respond);

 private:
  void route(http::Request&& req, const http::Responder& respond);

  PlacementApi& placement_;
  ports::V1Api& v1_;
  Staleness staleness_;
  ServerMetrics* metrics_;
  http::Cors cors_;  // [cors], for Placement's answers
};

}  // namespace bwfloor::placement
