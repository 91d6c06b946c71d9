#include "placement/server_metrics.h"

#include <set>

namespace bwfloor::placement {
namespace {

// Collections whose next path segment is an object's id or name.
const std::set<std::string> kCollections = {
    "resource_providers", "allocations", "traits", "resource_classes", "inventories", "networks",
    "policies",           "rules",       "ports",  "servers",          "agents",      "hosts"};

}  // namespace

std::string routeTemplate(const std::string& path) {
  std::string out;
  std::string previous;
  size_t start = 1;
  const std::string bare = path.substr(0, path.find('?'));
  while (start <= bare.size()) {
    size_t end = bare.find('/', start);
    if (end == std::string::npos) end = bare.size();
    std::string segment = bare.substr(start, end - start);
    if (!segment.empty() && kCollections.count(previous)) segment = "{id}";
    out += "/" + segment;
    previous = segment;
    start = end + 1;
  }
  return out.empty() ? "/" : out;
}

ServerMetrics::ServerMetrics(PlacementModel& model, ports::PortsService& ports,
                             std::function<std::optional<std::string>()> staleness)
    : staleness_(std::move(staleness)) {
  auto& commits = registry_.histogram("bwfloor_store_commit_seconds",
                                      "Time the store took to write one change (transaction).", {},
                                      latencyBuckets());
  model.setCommitObserver([&commits](double seconds) { commits.observe(seconds); });
  registry_.addCollector([&model](MetricsWriter& out) {
    std::map<std::string, std::pair<int64_t, int64_t>> byClass;  // capacity, used
    size_t providers = 0;
    model.withReadLock([&](const PlacementModel& m) {
      providers = m.providersUnlocked().size();
      for (const auto& [uuid, p] : m.providersUnlocked()) {
        auto used = m.usageUnlocked().find(uuid);
        for (const auto& [rc, inv] : p.inventories) {
          auto& [capacity, u] = byClass[rc];
          capacity += inv.capacity();
          if (used != m.usageUnlocked().end()) {
            if (auto it = used->second.find(rc); it != used->second.end()) u += it->second;
          }
        }
      }
    });
    out.gauge("bwfloor_resource_providers", "Resource providers in placement.", {},
              static_cast<double>(providers));
    for (const auto& [rc, cu] : byClass) {
      out.gauge("bwfloor_resource_capacity", "Capacity of a resource class over all providers.",
                {{"resource_class", rc}}, static_cast<double>(cu.first));
      out.gauge("bwfloor_resource_usage", "Allocated amount of a resource class.",
                {{"resource_class", rc}}, static_cast<double>(cu.second));
    }
    out.gauge("bwfloor_allocation_changes_applied",
              "The change-log sequence number this server has applied (replicas).", {},
              static_cast<double>(model.appliedSeq()));
    const double lag =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - model.currentAsOf())
            .count();
    out.gauge("bwfloor_replica_lag_seconds",
              "Seconds since this server last knew it held everything the database had (0 on "
              "SQLite).",
              {}, lag < 0 ? 0 : lag);
  });
  registry_.addCollector([&model, &ports](MetricsWriter& out) {
    const auto stats = ports.stats();
    out.gauge("bwfloor_agents", "Agents by liveness.", {{"state", "alive"}}, stats.agentsAlive);
    out.gauge("bwfloor_agents", "Agents by liveness.", {{"state", "dead"}}, stats.agentsDead);
    out.gauge("bwfloor_bindings_long_polls_waiting", "Agents' long-polls waiting for a change.", {},
              static_cast<double>(stats.longPollsWaiting));
    out.gauge("bwfloor_servers_waiting_for_agent",
              "Server creates claimed and waiting for their agent's report.", {},
              static_cast<double>(stats.serversWaitingForAgent));
    for (const auto& [state, n] : stats.portsByBindingState) {
      out.gauge("bwfloor_ports", "Ports by binding state.", {{"binding_state", state}}, n);
    }
    out.gauge("bwfloor_consumers", "Consumers holding allocations.", {},
              static_cast<double>(model.consumerCount()));
  });
}

void ServerMetrics::observeRequest(const std::string& method, const std::string& path, int status,
                                   double seconds) {
  const std::string route = routeTemplate(path);
  registry_
      .counter("bwfloor_http_requests_total", "HTTP requests answered, by route and status.",
               {{"method", method}, {"route", route}, {"code", std::to_string(status)}})
      .add();
  registry_
      .histogram("bwfloor_http_request_duration_seconds",
                 "Time from a request's arrival to its answer (a long-poll's wait included).",
                 {{"method", method}, {"route", route}}, latencyBuckets())
      .observe(seconds);
}

http::Response ServerMetrics::metrics() const {
  return http::prometheusResponse(registry_.render());
}

http::Response ServerMetrics::healthcheck(const http::Request& req) const {
  return http::healthcheckResponse(req.method, staleness_ ? staleness_() : std::nullopt);
}

}  // namespace bwfloor::placement
