#include "agent/binding/binding_loop.h"

#include <algorithm>
#include <set>
#include <thread>

#include "core/json_depth.h"
#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using nlohmann::json;

std::optional<Kbps> positiveKbps(const std::optional<uint64_t>& kbps) {
  if (!kbps || *kbps == 0) return std::nullopt;
  return Kbps(*kbps);
}

bool sameDirection(const std::optional<dataplane::AppliedDirection>& dir, Kbps min,
                   const std::optional<Kbps>& max) {
  if (min.isZero()) return !dir.has_value();
  // Nothing to program in a direction the backend cannot enforce here.
  if (dir && dir->enforcement.state() == dataplane::Enforcement::State::kPlacementOnly) {
    return true;
  }
  return dir && dir->minKbps == min && dir->maxKbps == max && dir->enforcement.isEnforced();
}

// Whether what the kernel holds is already exactly `spec` (then nothing is programmed).
bool holds(const dataplane::AppliedQos& applied, const dataplane::QosSpec& spec) {
  return applied.port.mac == spec.port.mac && applied.port.device == spec.port.device &&
         sameDirection(applied.egress, spec.minEgress, spec.maxEgress) &&
         sameDirection(applied.ingress, spec.minIngress, spec.maxIngress);
}

void setState(BindingStatus& status, const dataplane::Enforcement& e) {
  switch (e.state()) {
    case dataplane::Enforcement::State::kEnforced:
      status.state = "enforced";
      break;
    case dataplane::Enforcement::State::kPlacementOnly:
      status.state = "placement-only";
      break;
    case dataplane::Enforcement::State::kFailed:
      status.state = "failed";
      break;
  }
  status.detail = e.reason();
}

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
  applied_.clear();
  untagged_.clear();
  for (const auto& backend : backends_) {
    auto found = backend->observe();
    if (!found) {
      logger("agent")->warn("binding: observe {} failed: {}", backend->name(),
                            found.error().toString());
      continue;
    }
    for (auto& a : *found) {
      if (a.port.portId.empty()) {
        untagged_.push_back(std::move(a));
      } else {
        applied_[a.port.portId] = std::move(a);
      }
    }
  }
  observed_ = true;
  lastObserve_ = std::chrono::steady_clock::now();
}

BindingStatus BindingLoop::enforce(const bindings::Binding& binding) {
  BindingStatus status;
  status.portId = binding.portId;
  status.portName = binding.portName;
  status.serverId = binding.serverId;
  status.agentType = binding.agentType;
  status.device = binding.device;
  const auto minEgress = positiveKbps(binding.minEgressKbps);
  const auto minIngress = positiveKbps(binding.minIngressKbps);
  status.minEgress = minEgress.value_or(Kbps(0));
  status.minIngress = minIngress.value_or(Kbps(0));
  if (!minEgress && !minIngress) {
    setState(status, dataplane::Enforcement::placementOnly("no minimum requested"));
    return status;
  }
  const auto point = points_.find({status.agentType, status.device});
  if (point == points_.end()) {
    setState(status, dataplane::Enforcement::failed("device " + status.device + " of " +
                                                    status.agentType + " is not configured here"));
    return status;
  }
  dataplane::QosBackend* backend = backendNamed(point->second.backend);
  if (backend == nullptr) {
    setState(status, dataplane::Enforcement::placementOnly(point->second.whyNot));
    return status;
  }
  dataplane::QosSpec spec;
  spec.port.portId = status.portId;
  spec.port.mac = binding.macAddress;
  spec.port.device = point->second.uplink;
  spec.minEgress = status.minEgress;
  spec.minIngress = status.minIngress;
  spec.maxEgress = positiveKbps(binding.maxEgressKbps);
  spec.maxIngress = positiveKbps(binding.maxIngressKbps);
  status.uplink = spec.port.device;
  status.backend = backend->name();
  wantedTargets_.insert(backend->name() + "|" + spec.port.device + "|" + spec.port.mac);

  const auto applied = applied_.find(spec.port.portId);
  if (applied != applied_.end() && holds(applied->second, spec) &&
      applied->second.backend == backend->name()) {
    setState(status, applied->second.overall());
    return status;
  }
  // Moved (another uplink or backend): take it away from where it was first.
  if (applied != applied_.end() && (applied->second.backend != backend->name() ||
                                    applied->second.port.device != spec.port.device)) {
    if (auto* previous = backendNamed(applied->second.backend)) {
      if (auto st = previous->remove(spec.port.portId); !st) {
        logger("agent")->warn("binding: removing port={} from {} failed: {}", spec.port.portId,
                              applied->second.port.device, st.error().toString());
      }
    }
    applied_.erase(applied);
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = backend->program(spec);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  // A direct port's VF gets its MAC when the VM is plugged, which may come after the binding:
  // until then the guarantee waits (the next passes retry), it has not failed.
  if (!result && result.error().code() == ErrorCode::kNotFound && backend->name() == "sriov") {
    setState(status, dataplane::Enforcement::placementOnly(
                         "waiting for a VF of " + spec.port.device + " with MAC " + spec.port.mac +
                         " (" + result.error().message() + ")"));
    return status;
  }
  if (!result) {
    logger("agent")->warn("binding: program failed {}: {}", dataplane::describe(spec),
                          result.error().toString());
    // The errno goes into the status: operators read it from `port show` and `server create`.
    setState(status, dataplane::Enforcement::failed(result.error().toString()));
    return status;
  }
  setState(status, result->overall());
  logger("agent")->debug("binding: programmed {} backend={} status={} in {} us",
                         dataplane::describe(spec), backend->name(), result->overall().toString(),
                         micros);
  applied_[spec.port.portId] = std::move(*result);
  return status;
}

void BindingLoop::removeUnwanted(const std::map<std::string, BindingStatus>& kept) {
  for (auto it = applied_.begin(); it != applied_.end();) {
    const auto want = kept.find(it->first);
    if (want != kept.end() && want->second.backend == it->second.backend) {
      ++it;
      continue;
    }
    dataplane::QosBackend* backend = backendNamed(it->second.backend);
    if (backend == nullptr) {
      ++it;
      continue;
    }
    if (auto st = backend->remove(it->first); !st) {
      logger("agent")->warn("binding: remove port={} failed: {}; retried next pass", it->first,
                            st.error().toString());
      ++it;
      continue;
    }
    logger("agent")->info("binding: removed port={} from {} ({})", it->first,
                          it->second.port.device, backend->name());
    it = applied_.erase(it);
  }
}

// A desired binding on the same device and MAC adopted the entry when it was programmed this pass
// (the backend then learnt its port id); any other is left over: program it with no minimum.
void BindingLoop::clearStaleUntagged() {
  for (auto it = untagged_.begin(); it != untagged_.end();) {
    dataplane::QosBackend* backend = backendNamed(it->backend);
    const std::string target = it->backend + "|" + it->port.device + "|" + it->port.mac;
    if (backend == nullptr || wantedTargets_.count(target) != 0) {
      it = untagged_.erase(it);
      continue;
    }
    dataplane::QosSpec clear;
    clear.port = it->port;  // device, VF index, MAC as found; no port id, no minimum
    if (auto result = backend->program(clear); !result) {
      logger("agent")->warn("binding: clearing the stale {} entry on {} failed: {}; retried",
                            backend->name(), it->port.device, result.error().toString());
      ++it;
      continue;
    }
    logger("agent")->info(
        "binding: cleared a stale {} guarantee on {} (mac {}): no binding wants it",
        backend->name(), it->port.device, it->port.mac);
    it = untagged_.erase(it);
  }
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
  wantedTargets_.clear();
  std::map<std::string, BindingStatus> kept;
  std::vector<BindingStatus> all;
  for (const auto& binding : desired.bindings) {
    BindingStatus status = enforce(binding);
    if (!status.backend.empty() && status.state != "failed") kept[status.portId] = status;
    reportIfChanged(binding, status);
    all.push_back(std::move(status));
  }
  removeUnwanted(kept);
  clearStaleUntagged();
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
  const json doc = jsonTooDeep(resp.body) ? json(json::value_t::discarded)
                                          : json::parse(resp.body, nullptr, false);
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
  constexpr auto kFirstBackoff = std::chrono::milliseconds(500);
  auto backoff = kFirstBackoff;
  // Enforcing before the first discovery would call every binding "not configured here".
  while (!stop && !board_.waitPublished(std::chrono::milliseconds(200))) {
  }
  while (!stop) {
    if (auto st = step(); !st) {
      logger("agent")->warn("binding: {}; retry in {} ms", st.error().message(), backoff.count());
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(options_.longPollWait));
      continue;
    }
    backoff = kFirstBackoff;
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
