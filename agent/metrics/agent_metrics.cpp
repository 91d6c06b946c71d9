#include "agent/metrics/agent_metrics.h"

#include <algorithm>
#include <map>

namespace bwfloor::agent {
namespace {

using dataplane::Direction;
using nlohmann::json;

const std::optional<BindingStatus::DirectionState>& directionState(const BindingStatus& b,
                                                                   Direction d) {
  return d == Direction::kEgress ? b.egress : b.ingress;
}

using LiveCounters = std::map<std::pair<std::string, Direction>, const dataplane::QosCounters*>;

void writePort(MetricsWriter& out, const BindingStatus& b, Direction d, const LiveCounters& live,
               const BindingLoop::Snapshot& snap) {
  const Kbps minimum = d == Direction::kEgress ? b.minEgress : b.minIngress;
  const auto& state = directionState(b, d);
  if (minimum.isZero() || !state) return;
  const MetricLabels labels{{"port_id", b.portId},
                            {"port_name", b.portName},
                            {"direction", dataplane::directionName(d)},
                            {"device", b.device},
                            {"backend", b.backend.empty() ? "none" : b.backend}};
  out.gauge("bwfloor_agent_port_guaranteed_bits_per_second",
            "The port's minimum in this direction (its allocation), bit/s.", labels,
            static_cast<double>(minimum.kbps()) * 1000);
  MetricLabels stateLabels = labels;
  stateLabels.emplace_back("state", state->state);
  out.gauge("bwfloor_agent_port_state",
            "1 for the port's state in this direction: enforced, placement-only, failed, "
            "over-committed.",
            stateLabels, 1);
  if (const auto found = live.find({b.portId, d}); found != live.end()) {
    const dataplane::QosCounters* counted = found->second;
    out.counter("bwfloor_agent_port_sent_bytes_total",
                "Bytes the port's class/queue sent in this direction (read from the kernel).",
                labels, static_cast<double>(counted->bytes));
    out.counter("bwfloor_agent_port_sent_packets_total",
                "Packets the port's class/queue sent in this direction.", labels,
                static_cast<double>(counted->packets));
    out.counter("bwfloor_agent_port_drops_total", "Packets the port's class/queue dropped.", labels,
                static_cast<double>(counted->drops));
    out.counter("bwfloor_agent_port_overlimits_total",
                "Times the port's class/queue was over its limit.", labels,
                static_cast<double>(counted->overlimits));
    out.gauge("bwfloor_agent_port_backlog_bytes", "Bytes queued in the port's class/queue.", labels,
              static_cast<double>(counted->backlogBytes));
  }
  if (auto g = snap.guarantees.find({b.portId, d}); g != snap.guarantees.end()) {
    out.counter("bwfloor_agent_port_guarantee_missed_seconds_total",
                "Seconds in which the port wanted more than it got, got less than its minimum, "
                "and its uplink was saturated: 0 while the guarantee holds.",
                labels, g->second.missedSeconds);
    out.counter("bwfloor_agent_port_guarantee_checked_seconds_total",
                "Seconds in which the guarantee was checked (a rate was known).", labels,
                g->second.checkedSeconds);
  }
}

}  // namespace

std::optional<std::string> AgentHealth::problems(Clock::time_point now) const {
  std::string why;
  if (!placementSynced_) why += "placement not in sync with this host's devices; ";
  const Clock::time_point last = bindings_.lastPoll();
  if (last == Clock::time_point{}) {
    why += "no binding poll of bwfloor-server has succeeded yet; ";
  } else if (now - last > kBindingPollStale) {
    why += "no binding poll of bwfloor-server has succeeded for " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - last).count()) +
           " s; ";
  }
  if (why.empty()) return std::nullopt;
  return why.substr(0, why.size() - 2);
}

json AgentHealth::toJson(Clock::time_point now) const {
  const auto why = problems(now);
  return {{"healthy", !why},
          {"problems", why ? json(*why) : json(nullptr)},
          {"placement_synced", placementSynced_.load()}};
}

void addBindingCollector(MetricsRegistry& registry, BindingLoop& loop) {
  registry.addCollector([&loop](MetricsWriter& out) {
    const BindingLoop::Snapshot snap = loop.snapshot();
    const std::vector<dataplane::QosCounters> counters = loop.counters();
    LiveCounters live;
    for (const auto& c : counters) live.emplace(std::pair{c.portId, c.direction}, &c);
    out.gauge("bwfloor_agent_bound_ports", "Ports bound to this host.", {},
              static_cast<double>(snap.statuses.size()));
    for (const BindingStatus& b : snap.statuses) {
      for (Direction d : {Direction::kEgress, Direction::kIngress})
        writePort(out, b, d, live, snap);
    }
    for (const auto& c : counters) {
      if (!c.portId.empty()) continue;
      out.counter("bwfloor_agent_unguaranteed_sent_bytes_total",
                  "Bytes sent by the device's default class (traffic without a guarantee).",
                  {{"device", c.device}, {"direction", dataplane::directionName(c.direction)}},
                  static_cast<double>(c.bytes));
    }
  });
}

http::Response agentMetricsResponse(const http::Request& req, const MetricsRegistry& registry,
                                    const AgentHealth& health) {
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/metrics" && read) return http::prometheusResponse(registry.render());
  if (req.path == "/healthcheck" && read) {
    return http::healthcheckResponse(req.method, health.problems(AgentHealth::Clock::now()));
  }
  http::Response resp;
  resp.status = 404;
  resp.headers.set("content-type", "text/plain; charset=UTF-8");
  resp.body = "bwfloor-agent serves GET /metrics and /healthcheck here";
  return resp;
}

}  // namespace bwfloor::agent
