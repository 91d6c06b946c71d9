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

BindingStatus BindingLoop::apply(const PortStep& step) {
  if (!step.program) return step.status;
  const dataplane::QosSpec& spec = *step.program;
  dataplane::QosBackend* backend = backendNamed(step.status.backend);
  if (step.moveFrom) {
    removePort(*step.moveFrom, spec.port.portId);
    applied_.byPort.erase(spec.port.portId);
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = backend->program(spec);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  BindingStatus status = programOutcome(step, result);
  if (!result) {
    logger("agent")->warn("binding: program failed {}: {}", dataplane::describe(spec),
                          result.error().toString());
    return status;
  }
  logger("agent")->debug("binding: programmed {} backend={} status={} in {} us",
                         dataplane::describe(spec), backend->name(), result->overall().toString(),
                         micros);
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

void BindingLoop::reportIfChanged(const bindings::Binding& binding, const BindingStatus& status) {
  const std::string_view known = bindings::stateName(binding.status.state);
  if (known == status.state && binding.status.detail == status.detail &&
      binding.status.backend == status.backend) {
    return;
  }
  bindings::StatusReport report;
  report.state = bindings::parseState(status.state).value_or(bindings::BindingState::kFailed);
  report.detail = status.detail;
  report.host = options_.host;
  report.backend = status.backend;
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
  if (fullObserve || !observed_) observeAll();
  std::set<std::string> available;
  for (const auto& b : backends_) available.insert(b->name());
  const Plan plan = planReconcile(desired, applied_, points_, available);
  std::vector<BindingStatus> all;
  for (const auto& step : plan.ports) {
    BindingStatus status = apply(step);
    // A program that failed leaves nothing half-done behind: what was there is taken away.
    if (step.program && status.state == "failed" && applied_.byPort.count(status.portId) != 0) {
      removePort(status.backend, status.portId);
    }
    reportIfChanged(*step.binding, status);
    all.push_back(std::move(status));
  }
  for (const auto& [backendName, portId] : plan.removals) removePort(backendName, portId);
  // Adopted entries are tagged now; cleared ones are gone; a failed clear is retried next pass.
  std::vector<dataplane::AppliedQos> stillStale;
  for (const auto& entry : plan.clears) {
    if (!clearUntagged(entry)) stillStale.push_back(entry);
  }
  applied_.untagged = std::move(stillStale);
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
            "&wait=" + std::to_string(options_.longPollWait.count());
  }
  ASSIGN_OR_RETURN(http::Response resp, server_.send("GET", path, ""));
  const auto received = std::chrono::steady_clock::now();
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
  sampleCounters();
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

void BindingLoop::sampleCounters() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<dataplane::QosCounters> fresh = counters();
  std::lock_guard lock(statusMutex_);
  const double seconds = std::chrono::duration<double>(now - sampledAt_).count();
  std::vector<Sample> next;
  next.reserve(fresh.size());
  for (auto& c : fresh) {
    Sample s{std::move(c), -1};
    const auto before = std::find_if(samples_.begin(), samples_.end(), [&](const Sample& o) {
      return o.counters.portId == s.counters.portId &&
             o.counters.direction == s.counters.direction &&
             o.counters.device == s.counters.device && o.counters.object == s.counters.object;
    });
    // A counter that went backwards is a re-created class: no rate until the next sample.
    if (before != samples_.end() && seconds > 0 && s.counters.bytes >= before->counters.bytes) {
      s.rateKbps =
          static_cast<double>(s.counters.bytes - before->counters.bytes) * 8 / 1000 / seconds;
    }
    next.push_back(std::move(s));
  }
  samples_ = std::move(next);
  sampledAt_ = now;
}

json BindingLoop::statusDocument() const {
  std::lock_guard lock(statusMutex_);
  auto countersOf = [&](const std::string& portId, dataplane::Direction d) -> json {
    for (const auto& s : samples_) {
      if (s.counters.portId != portId || s.counters.direction != d) continue;
      json c = {{"device", s.counters.device}, {"object", s.counters.object},
                {"bytes", s.counters.bytes},   {"packets", s.counters.packets},
                {"drops", s.counters.drops},   {"overlimits", s.counters.overlimits},
                {"rate_kbps", nullptr}};
      if (s.rateKbps >= 0) c["rate_kbps"] = static_cast<int64_t>(s.rateKbps + 0.5);
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
                        {"ingress", countersOf(b.portId, dataplane::Direction::kIngress)}});
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

std::vector<dataplane::QosCounters> BindingLoop::counters() {
  std::lock_guard lock(backendsMutex_);
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
