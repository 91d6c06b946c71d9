#include "agent/binding/binding_loop.h"

#include <algorithm>
#include <set>
#include <thread>

#include "agent/binding/retry_backoff.h"
#include "core/json_depth.h"
#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using nlohmann::json;

}  // namespace

BindingLoop::BindingLoop(BindingLoopOptions options, RestTransport& server,
                         const EnforcementBoard& board, BackendFactory factory)
    : options_(std::move(options)), server_(server), board_(board), factory_(std::move(factory)) {}

void BindingLoop::refreshBackends() {
  auto [version, points] = board_.snapshot();
  if (version == pointsVersion_) return;
  std::lock_guard lock(backendsMutex_);
  backends_ = factory_(points);
  points_ = std::move(points);
  pointsVersion_ = version;
  observed_ = false;  // new backends: read the kernel again before trusting anything
  reprogramAll_ = true;
  heldSpecs_.clear();  // what is programmed next follows the new points, not drift
  logger("agent")->info("binding: enforcement points changed (version {}), {} backend(s)", version,
                        backends_.size());
}

dataplane::QosBackend* BindingLoop::backendNamed(const std::string& name) const {
  for (const auto& b : backends_) {
    if (b->name() == name) return b.get();
  }
  return nullptr;
}

void BindingLoop::observeAll() {
  applied_.byPort.clear();
  applied_.untagged.clear();
  for (const auto& backend : backends_) {
    auto found = backend->observe();
    if (!found) {
      logger("agent")->warn("binding: observe {} failed: {}", backend->name(),
                            found.error().toString());
      continue;
    }
    for (auto& a : *found) {
      if (a.port.portId.empty()) {
        applied_.untagged.push_back(std::move(a));
      } else {
        applied_.byPort[a.port.portId] = std::move(a);
      }
    }
  }
  observed_ = true;
  lastObserve_ = std::chrono::steady_clock::now();
}

namespace {

// "egress 1000 kbit/s enforced, ingress missing": what a backend read back, for the drift log.
std::string heldText(const dataplane::AppliedQos& held) {
  std::string out;
  for (const auto& [name, dir] : {std::pair{"egress", &held.egress}, {"ingress", &held.ingress}}) {
    if (!out.empty()) out += ", ";
    out += name;
    out += *dir ? " " + std::to_string((*dir)->minKbps.kbps()) + " kbit/s " +
                      (*dir)->enforcement.toString()
                : " missing";
  }
  return out;
}

}  // namespace

BindingStatus BindingLoop::apply(const PortStep& step, const std::string& trigger) {
  if (!step.program) {
    if (step.held) {
      heldSpecs_[step.status.portId] = *step.held;
    } else {
      heldSpecs_.erase(step.status.portId);
    }
    return step.status;
  }
  const dataplane::QosSpec& spec = *step.program;
  dataplane::QosBackend* backend = backendNamed(step.status.backend);
  if (step.moveFrom) {
    removePort(*step.moveFrom, spec.port.portId);
    applied_.byPort.erase(spec.port.portId);
  }
  const auto held = heldSpecs_.find(spec.port.portId);
  const bool drift = held != heldSpecs_.end() && held->second == spec;
  const auto found = applied_.byPort.find(spec.port.portId);
  const std::string before = found == applied_.byPort.end() ? "nothing of it was left"
                                                            : "found " + heldText(found->second);
  const auto started = std::chrono::steady_clock::now();
  auto result = backend->program(spec);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (metrics_ != nullptr) {
    metrics_
        ->histogram("bwfloor_agent_program_seconds",
                    "Time to program one port's guarantee into its backend.",
                    {{"backend", backend->name()}}, latencyBuckets())
        .observe(seconds);
  }
  BindingStatus status = programOutcome(step, result);
  if (!result) {
    logger("agent")->warn("binding: program failed {}: {}", dataplane::describe(spec),
                          result.error().toString());
    if (metrics_ != nullptr) {
      metrics_
          ->counter("bwfloor_agent_program_failures_total", "Programs a backend refused (retried).",
                    {{"backend", backend->name()}})
          .add();
    }
    heldSpecs_.erase(spec.port.portId);
    return status;
  }
  if (drift) {
    ++driftRepairs_;
    logger("agent")->warn(
        "binding: drift on port={} ({}): the kernel no longer held its guarantee on {} ({}); "
        "re-programmed by {} in {} us ({})",
        status.portName, status.portId, spec.port.device, before, backend->name(),
        static_cast<int64_t>(seconds * 1e6), trigger);
    if (metrics_ != nullptr) {
      metrics_
          ->counter("bwfloor_agent_drift_repairs_total",
                    "Ports re-programmed because the data plane no longer held what the agent "
                    "had programmed (changed or deleted by hand).",
                    {{"backend", backend->name()}})
          .add();
    }
  } else {
    logger("agent")->debug("binding: programmed {} backend={} status={} in {} us",
                           dataplane::describe(spec), backend->name(), result->overall().toString(),
                           static_cast<int64_t>(seconds * 1e6));
  }
  heldSpecs_[spec.port.portId] = spec;
  applied_.byPort[spec.port.portId] = std::move(*result);
  return status;
}

void BindingLoop::removePort(const std::string& backendName, const std::string& portId) {
  dataplane::QosBackend* backend = backendNamed(backendName);
  if (backend == nullptr) return;
  const auto held = applied_.byPort.find(portId);
  const std::string device = held != applied_.byPort.end() ? held->second.port.device : "";
  if (auto st = backend->remove(portId); !st) {
    logger("agent")->warn("binding: remove port={} from {} failed: {}; retried next pass", portId,
                          backendName, st.error().toString());
    return;
  }
  logger("agent")->info("binding: removed port={} from {} ({})", portId, device, backendName);
  if (held != applied_.byPort.end() && held->second.backend == backendName) {
    applied_.byPort.erase(held);
  }
}

bool BindingLoop::clearUntagged(const dataplane::AppliedQos& entry) {
  dataplane::QosBackend* backend = backendNamed(entry.backend);
  if (backend == nullptr) return true;
  dataplane::QosSpec clear;
  clear.port = entry.port;  // device, VF index, MAC as found; no port id, no minimum
  if (auto result = backend->program(clear); !result) {
    logger("agent")->warn("binding: clearing the stale {} entry on {} failed: {}; retried",
                          backend->name(), entry.port.device, result.error().toString());
    return false;
  }
  logger("agent")->info("binding: cleared a stale {} guarantee on {} (mac {}): no binding wants it",
                        backend->name(), entry.port.device, entry.port.mac);
  return true;
}

namespace {

std::optional<bindings::DirectionStatus> toContract(
    const std::optional<BindingStatus::DirectionState>& d) {
  if (!d) return std::nullopt;
  return bindings::DirectionStatus{
      bindings::parseState(d->state).value_or(bindings::BindingState::kFailed), d->detail};
}

}  // namespace

void BindingLoop::reportIfChanged(const bindings::Binding& binding, const BindingStatus& status) {
  bindings::StatusReport report;
  report.state = bindings::parseState(status.state).value_or(bindings::BindingState::kFailed);
  report.detail = status.detail;
  report.host = options_.host;
  report.backend = status.backend;
  report.egress = toContract(status.egress);
  report.ingress = toContract(status.ingress);
  report.packetRate = {toContract(status.packetRateEgress), toContract(status.packetRateIngress),
                       toContract(status.packetRateAny)};
  const bindings::BindingStatus& known = binding.status;
  if (known.state == report.state && known.detail == report.detail &&
      known.backend == report.backend && known.egress == report.egress &&
      known.ingress == report.ingress && known.packetRate == report.packetRate) {
    return;
  }
  const json body = bindings::toJson(report);
  auto resp = server_.send("PUT", "/v1/ports/" + status.portId + "/binding_status", body.dump());
  if (!resp || resp->status >= 300) {
    logger("agent")->warn("binding: status of port={} not reported ({}); retried next pass",
                          status.portId,
                          resp ? "HTTP " + std::to_string(resp->status) : resp.error().message());
    return;
  }
  logger("agent")->info("binding: port={} ({}) reported {}{}", status.portName, status.portId,
                        status.state, status.detail.empty() ? "" : " (" + status.detail + ")");
}

void BindingLoop::reconcile(const bindings::HostBindings& desired, bool fullObserve) {
  std::lock_guard lock(backendsMutex_);
  lastDesired_ = desired;
  reconcileLocked(desired, fullObserve, true, fullObserve ? "periodic full observe" : "");
}

int BindingLoop::repair(const std::string& trigger) {
  std::lock_guard lock(backendsMutex_);
  if (!lastDesired_) return 0;
  reconcileLocked(*lastDesired_, true, false, trigger);
  return driftRepairs_;
}

void BindingLoop::reconcileLocked(const bindings::HostBindings& desired, bool fullObserve,
                                  bool report, const std::string& trigger) {
  driftRepairs_ = 0;
  if (metrics_ != nullptr) {
    metrics_
        ->counter("bwfloor_agent_reconcile_passes_total",
                  "Reconcile passes: desired bindings against what the backends hold.",
                  {{"observe", fullObserve || !observed_ ? "full" : "trusted"},
                   {"trigger", report ? "server" : "data plane event"}})
        .add();
  }
  if (fullObserve || !observed_) observeAll();
  std::set<std::string> available;
  for (const auto& b : backends_) available.insert(b->name());
  const Plan plan = planReconcile(desired, applied_, points_, available, reprogramAll_);
  std::vector<BindingStatus> all;
  for (const auto& step : plan.ports) {
    BindingStatus status = apply(step, trigger);
    // A program that failed leaves nothing half-done behind: what was there is taken away.
    if (step.program && status.state == "failed" && applied_.byPort.count(status.portId) != 0) {
      removePort(status.backend, status.portId);
    }
    all.push_back(std::move(status));
  }
  for (const auto& [backendName, portId] : plan.removals) {
    removePort(backendName, portId);
    heldSpecs_.erase(portId);
  }
  // Adopted entries are tagged now; cleared ones are gone; a failed clear is retried next pass.
  std::vector<dataplane::AppliedQos> stillStale;
  for (const auto& entry : plan.clears) {
    if (!clearUntagged(entry)) stillStale.push_back(entry);
  }
  applied_.untagged = std::move(stillStale);
  if (std::none_of(all.begin(), all.end(), [](const auto& st) { return st.state == "failed"; })) {
    reprogramAll_ = false;
  }
  std::vector<std::string> overCommitted = markOverCommitted(all, points_);
  if (overCommitted != overCommitted_) {
    for (const auto& line : overCommitted) {
      logger("agent")->warn(
          "binding: over-committed: {} (a total lowered below what is allocated; the kernel "
          "holds the new total, the guarantees cannot all hold)",
          line);
    }
    if (overCommitted.empty()) logger("agent")->info("binding: no device is over-committed now");
    overCommitted_ = std::move(overCommitted);
  }
  if (report) {
    for (size_t i = 0; i < all.size(); ++i) reportIfChanged(*plan.ports[i].binding, all[i]);
  }
  std::lock_guard statusLock(statusMutex_);
  for (const auto& status : all) {
    const auto before = std::find_if(statuses_.begin(), statuses_.end(),
                                     [&](const auto& s) { return s.portId == status.portId; });
    if (before != statuses_.end() && *before == status) continue;
    logger("agent")->info(
        "binding: port={} ({}) device={} uplink={} min_egr_kbps={} min_igr_kbps={} state={}{}",
        status.portName, status.portId, status.device, status.uplink, status.minEgress.kbps(),
        status.minIngress.kbps(), status.state,
        status.detail.empty() ? "" : " (" + status.detail + ")");
  }
  statuses_ = std::move(all);
}

Status BindingLoop::step() {
  refreshBackends();
  std::string path = "/v1/hosts/" + options_.host + "/bindings";
  if (haveRevision_) {
    path += "?revision=" + std::to_string(revision_) +
            "&wait=" + std::to_string(options_.longPollWait.count()) +
            "&providers_deleted=" + std::to_string(providersDeleted_);
  }
  ASSIGN_OR_RETURN(http::Response resp, server_.send("GET", path, ""));
  const auto received = std::chrono::steady_clock::now();
  if (resp.status == 200) lastPoll_ = received;
  if (resp.status != 200) {
    return makeError(ErrorCode::kUnavailable,
                     "GET " + path + ": HTTP " + std::to_string(resp.status) + " " + resp.body);
  }
  const json doc = parseUntrustedJson(resp.body);
  if (doc.is_discarded()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "GET " + path + ": not a bindings document (not JSON, or nested too deep)");
  }
  auto desired = bindings::parseHostBindings(doc);
  if (!desired) {
    return makeError(ErrorCode::kInvalidArgument,
                     "GET " + path + ": not a bindings document: " + desired.error().message());
  }
  const uint64_t revision = desired->revision;
  const bool changed = !haveRevision_ || revision != revision_;
  if (changed) {
    logger("agent")->info("binding: host={} revision={} ports={}", options_.host, revision,
                          desired->bindings.size());
  }
  if (haveRevision_ && desired->providersDeleted != providersDeleted_ &&
      providersDeletedCallback_) {
    providersDeletedCallback_();
  }
  providersDeleted_ = desired->providersDeleted;
  revision_ = revision;
  haveRevision_ = true;
  const bool resyncDue = std::chrono::steady_clock::now() - lastObserve_ >= options_.resync;
  reconcile(*desired, resyncDue);
  if (changed) {
    // From the answer's arrival to every binding programmed and reported: the agent's share of
    // a boot's latency (its target is 5 ms for one binding).
    logger("agent")->info("binding: revision={} applied in {} us", revision,
                          std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - received)
                              .count());
  }
  return {};
}

void BindingLoop::run(const std::atomic<bool>& stop) {
  SystemClock clock;
  RetryBackoff backoff(clock, std::chrono::milliseconds(500),
                       std::chrono::milliseconds(options_.longPollWait));
  // Enforcing before the first discovery would call every binding "not configured here".
  while (!stop && !board_.waitPublished(std::chrono::milliseconds(200))) {
  }
  while (!stop) {
    if (auto st = step(); !st) {
      const auto wait = backoff.failed();
      logger("agent")->warn("binding: {}; retry in {} ms", st.error().message(), wait.count());
      while (!stop && !backoff.due()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bounds how long stop takes
      }
      continue;
    }
    backoff.succeeded();
  }
}

std::vector<WatchedDirection> BindingLoop::watchedLocked(
    const std::vector<BindingStatus>& statuses) const {
  std::vector<WatchedDirection> out;
  for (const BindingStatus& b : statuses) {
    if (b.uplink.empty()) continue;
    const EnforcementPoint* point = findPoint(points_, b.uplink, b.backend);
    const Kbps egressTotal = point != nullptr ? point->egressTotal : Kbps(0);
    const Kbps ingressTotal = point != nullptr ? point->ingressTotal : Kbps(0);
    if (!b.minEgress.isZero()) {
      out.push_back({b.portId, dataplane::Direction::kEgress, b.minEgress, egressTotal});
    }
    if (!b.minIngress.isZero()) {
      out.push_back({b.portId, dataplane::Direction::kIngress, b.minIngress, ingressTotal});
    }
  }
  return out;
}

void BindingLoop::sample(std::chrono::steady_clock::time_point at) {
  std::vector<dataplane::QosCounters> fresh;
  std::vector<WatchedDirection> watched;
  {
    std::lock_guard lock(backendsMutex_);
    fresh = countersLocked();
    watched = watchedLocked(statuses());
  }
  std::lock_guard lock(statusMutex_);
  monitor_.observe(watched, fresh, at);
}

namespace {

json directionJson(const std::optional<BindingStatus::DirectionState>& d) {
  if (!d) return nullptr;
  return {{"state", d->state}, {"detail", d->detail}};
}

// {"egress": {"min_kpps", "state", "detail"}, ...} for the directions asked for; null for none.
json packetRateJson(const BindingStatus& b) {
  json out = json::object();
  const auto add = [&](const char* name, uint64_t kpps,
                       const std::optional<BindingStatus::DirectionState>& d) {
    if (!d) return;
    out[name] = directionJson(d);
    out[name]["min_kpps"] = kpps;
  };
  add("egress", b.minEgressKpps, b.packetRateEgress);
  add("ingress", b.minIngressKpps, b.packetRateIngress);
  add("any", b.minAnyKpps, b.packetRateAny);
  return out.empty() ? json(nullptr) : out;
}

}  // namespace

json BindingLoop::statusDocument() const {
  std::lock_guard lock(statusMutex_);
  auto countersOf = [&](const std::string& portId, dataplane::Direction d) -> json {
    for (const auto& s : monitor_.readings()) {
      if (s.counters.portId != portId || s.counters.direction != d) continue;
      json c = {{"device", s.counters.device},
                {"object", s.counters.object},
                {"bytes", s.counters.bytes},
                {"packets", s.counters.packets},
                {"drops", s.counters.drops},
                {"overlimits", s.counters.overlimits},
                {"backlog_bytes", s.counters.backlogBytes},
                {"rate_kbps", nullptr}};
      if (s.rateKbps) c["rate_kbps"] = static_cast<int64_t>(*s.rateKbps + 0.5);
      if (auto g = monitor_.records().find({portId, d}); g != monitor_.records().end()) {
        c["guarantee_checked_seconds"] = g->second.checkedSeconds;
        c["guarantee_missed_seconds"] = g->second.missedSeconds;
        c["guarantee_missing_now"] = g->second.missingNow;
      }
      return c;
    }
    return nullptr;
  };
  json bindings = json::array();
  for (const auto& b : statuses_) {
    bindings.push_back({{"port_id", b.portId},
                        {"port_name", b.portName},
                        {"server_id", b.serverId},
                        {"agent_type", b.agentType},
                        {"device", b.device},
                        {"uplink", b.uplink},
                        {"backend", b.backend},
                        {"min_egress_kbps", b.minEgress.kbps()},
                        {"min_ingress_kbps", b.minIngress.kbps()},
                        {"state", b.state},
                        {"detail", b.detail},
                        {"egress", countersOf(b.portId, dataplane::Direction::kEgress)},
                        {"ingress", countersOf(b.portId, dataplane::Direction::kIngress)},
                        {"egress_state", directionJson(b.egress)},
                        {"ingress_state", directionJson(b.ingress)},
                        {"packet_rate", packetRateJson(b)}});
  }
  json defaults = json::array();
  for (const auto& dir : {dataplane::Direction::kEgress, dataplane::Direction::kIngress}) {
    json c = countersOf("", dir);
    if (!c.is_null()) {
      c["direction"] = dataplane::directionName(dir);
      defaults.push_back(std::move(c));
    }
  }
  return {{"host", options_.host}, {"bindings", bindings}, {"unguaranteed", defaults}};
}

std::vector<BindingStatus> BindingLoop::statuses() const {
  std::lock_guard lock(statusMutex_);
  return statuses_;
}

BindingLoop::Snapshot BindingLoop::snapshot() const {
  std::lock_guard lock(statusMutex_);
  return {statuses_, monitor_.readings(), monitor_.records()};
}

std::vector<dataplane::QosCounters> BindingLoop::counters() {
  std::lock_guard lock(backendsMutex_);
  return countersLocked();
}

std::vector<dataplane::QosCounters> BindingLoop::countersLocked() {
  std::vector<dataplane::QosCounters> all;
  for (const auto& backend : backends_) {
    auto found = backend->counters();
    if (!found) {
      logger("agent")->warn("binding: counters of {} failed: {}", backend->name(),
                            found.error().toString());
      continue;
    }
    all.insert(all.end(), found->begin(), found->end());
  }
  return all;
}

}  // namespace bwfloor::agent
