#pragma once
// bwfloor-server's Prometheus metrics (GET /metrics) and its /healthcheck: requests by route and
// status with latency histograms, providers and the capacity and usage of each resource class,
// allocations, agents alive and dead, waiting long-polls, store commit latency, replica lag.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/metrics.h"
#include "http/message.h"
#include "placement/model/placement_model.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::placement {

// A request path with its ids replaced by placeholders, so that a route is one series:
// "/placement/resource_providers/{id}/inventories/{id}".
std::string routeTemplate(const std::string& path);

class ServerMetrics {
 public:
  // `staleness`: why this replica refuses reads now (nullopt: it serves); may be empty.
  ServerMetrics(PlacementModel& model, ports::PortsService& ports,
                std::function<std::optional<std::string>()> staleness = {});

  void observeRequest(const std::string& method, const std::string& path, int status,
                      double seconds);
  // GET /metrics.
  http::Response metrics() const;
  // GET or HEAD /healthcheck, as oslo.middleware's healthcheck answers: 200 "OK" (204 to HEAD),
  // 503 with the reason when this replica may not serve.
  http::Response healthcheck(const http::Request& req) const;

 private:
  MetricsRegistry registry_;
  std::function<std::optional<std::string>()> staleness_;
};

}  // namespace bwfloor::placement
