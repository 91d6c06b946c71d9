#pragma once
// The agent's Prometheus metrics and health, served on [agent] metrics_listen (loopback by
// default) as /metrics and /healthcheck. Counters that happen (reconcile passes, programming
// latency, placement syncs, drift repairs) are registered where they happen (BindingLoop,
// AgentService); the per-port series are read at scrape time: the bytes, packets, drops and
// overlimits live from the kernel, the guarantee-held seconds from the monitor's last second.

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/binding/binding_loop.h"
#include "core/metrics.h"
#include "http/message.h"

namespace bwfloor::agent {

// What the agent's threads publish for /healthcheck and the status document.
class AgentHealth {
 public:
  using Clock = std::chrono::steady_clock;
  // How long the binding loop may go without a successful poll of the server before the agent
  // counts as unhealthy (a long-poll answers at least every few seconds).
  static constexpr std::chrono::seconds kBindingPollStale{30};

  explicit AgentHealth(const BindingLoop& bindings) : bindings_(bindings) {}
  void setPlacementSynced(bool synced) { placementSynced_ = synced; }

  // nullopt: healthy; otherwise every reason it is not.
  std::optional<std::string> problems(Clock::time_point now) const;
  nlohmann::json toJson(Clock::time_point now) const;

 private:
  const BindingLoop& bindings_;
  std::atomic<bool> placementSynced_{false};
};

// Registers the per-port and per-device series of `loop` as a collector.
void addBindingCollector(MetricsRegistry& registry, BindingLoop& loop);

// GET /metrics, GET or HEAD /healthcheck (200/204, or 503 with the reasons), else 404.
http::Response agentMetricsResponse(const http::Request& req, const MetricsRegistry& registry,
                                    const AgentHealth& health);

}  // namespace bwfloor::agent
