// PortsService on a shared store (PostgreSQL): several bwfloor-servers follow each other's /v1
// writes through the change log (placement/store/pg_change_log.h), as the Placement model does.

#include <algorithm>
#include <ctime>
#include <iterator>
#include <set>

#include "core/logging.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {

void PortsService::WriteLock::unlock() {
  if (owner_ != nullptr) {
    if (owner_->writeOpen_) owner_->store_->abortWrite();
    owner_->writeOpen_ = false;
    owner_ = nullptr;
  }
  if (lock_.owns_lock()) lock_.unlock();
}

ApiResult<PortsService::WriteLock> PortsService::lockForWrite() {
  std::unique_lock lock(mutex_);
  if (!store_->shared()) return WriteLock(std::move(lock), nullptr);
  for (int attempt = 0;; ++attempt) {
    const auto asOf = std::chrono::steady_clock::now();
    auto others = store_->beginWrite(appliedSeq_);
    if (!others) {
      return placement::unavailable("store unavailable, nothing changed: " +
                                    others.error().message());
    }
    if (others->reloadNeeded && attempt < 2) {  // further behind than the log reaches
      store_->abortWrite();
      lock.unlock();
      if (Status st = reload(asOf); !st) {
        return placement::unavailable("store unavailable, nothing changed: " +
                                      st.error().message());
      }
      lock.lock();
      continue;
    }
    applyOthersLocked(*others);
    currentAsOf_.mark(asOf);
    writeOpen_ = true;
    return WriteLock(std::move(lock), this);
  }
}

void PortsService::applyOthersLocked(const OthersDocs& others) {
  for (const auto& [seq, docs] : others.changes) {
    if (seq <= appliedSeq_) continue;
    for (const auto& doc : docs) applyDocLocked(doc);
    appliedSeq_ = seq;
  }
}

namespace {

// The hosts whose bindings a port's change touches (none when nothing an agent reads changed).
std::vector<std::string> touchedHosts(const Port* before, const Port* after) {
  std::vector<std::string> hosts;
  const bool same = before && after && before->binding == after->binding &&
                    before->qosPolicyId == after->qosPolicyId &&
                    before->vnicType == after->vnicType &&
                    before->macAddress == after->macAddress && before->name == after->name;
  if (same) return hosts;
  if (before && !before->binding.host.empty()) hosts.push_back(before->binding.host);
  if (after && !after->binding.host.empty()) hosts.push_back(after->binding.host);
  return hosts;
}

}  // namespace

void PortsService::applyDocLocked(const JsonDocChange& doc) {
  const Kind* kind = std::find_if(std::begin(kAllKinds), std::end(kAllKinds),
                                  [&](Kind k) { return toString(k) == doc.kind; });
  if (kind == std::end(kAllKinds)) {
    logger("server")->error("v1 change log: unknown kind '{}' (id {}), skipped", doc.kind, doc.id);
    return;
  }
  // Another server wrote and validated it: a document that does not parse is a bug, logged.
  auto apply = [&](auto& objects, auto parse, auto&& onChange) {
    using T = typename std::decay_t<decltype(objects)>::mapped_type;
    std::optional<T> before;
    if (auto it = objects.find(doc.id); it != objects.end()) before = it->second;
    if (!doc.body) {
      objects.erase(doc.id);
      onChange(before ? &*before : nullptr, static_cast<const T*>(nullptr));
      return;
    }
    auto parsed = parse(*doc.body);
    if (!parsed) {
      logger("server")->error("v1 change log: {} {}: {}", doc.kind, doc.id,
                              parsed.error().message());
      return;
    }
    objects[doc.id] = std::move(*parsed);
    onChange(before ? &*before : nullptr, &objects[doc.id]);
  };
  auto none = [](const auto*, const auto*) {};
  switch (*kind) {
    case Kind::kNetwork:
      apply(networks_, &networkFromDocument, none);
      break;
    case Kind::kPolicy:
      apply(policies_, &policyFromDocument, [&](const QosPolicy*, const QosPolicy*) {
        std::set<std::string> hosts;
        for (const auto& [id, port] : ports_) {
          if (port.qosPolicyId == doc.id && !port.binding.host.empty()) {
            hosts.insert(port.binding.host);
          }
        }
        for (const auto& h : hosts) bumpHost(h);
      });
      break;
    case Kind::kPort:
      apply(ports_, &portFromDocument, [&](const Port* before, const Port* after) {
        for (const auto& h : touchedHosts(before, after)) bumpHost(h);
      });
      break;
    case Kind::kServer:
      apply(servers_, &serverFromDocument, none);
      break;
    case Kind::kAgent:
      apply(agents_, &agentFromDocument, [&](const Agent*, const Agent* after) {
        if (!after) return;
        // Its heartbeat as this server's clock sees it: wall-clock age, steady-clock point.
        const auto age = std::chrono::seconds(
            std::max<int64_t>(0, static_cast<int64_t>(std::time(nullptr)) - after->heartbeatAt));
        const auto seen = std::chrono::steady_clock::now() - age;
        auto& last = heartbeats_[after->id];
        last = std::max(last, seen);
        persistedHeartbeats_[after->id] = after->heartbeatAt;
      });
      break;
  }
}

Status PortsService::catchUp() {
  if (!store_->shared()) return Status::ok();
  const auto asOf = std::chrono::steady_clock::now();
  int64_t from = 0;
  {
    std::lock_guard lock(mutex_);
    from = appliedSeq_;
  }
  ASSIGN_OR_RETURN(OthersDocs others, store_->changesAfter(from));
  if (others.reloadNeeded) return reload(asOf);
  // The creates this server waits for are settled by expireWaiters(), under the write lock.
  std::lock_guard lock(mutex_);
  applyOthersLocked(others);
  currentAsOf_.mark(asOf);
  return Status::ok();
}

Status PortsService::reload(std::chrono::steady_clock::time_point asOf) {
  std::lock_guard lock(mutex_);
  logger("server")->warn("v1: this replica is too far behind the change log (at seq {}); reloading",
                         appliedSeq_);
  ASSIGN_OR_RETURN(int64_t head, store_->head());
  // Into fresh maps: a failed reload keeps what this replica had.
  ById<Network> networks;
  ById<QosPolicy> policies;
  ById<Port> ports;
  ById<Server> servers;
  ById<Agent> agents;
  RETURN_IF_ERROR(loadKind(Kind::kNetwork, &networkFromDocument, networks));
  RETURN_IF_ERROR(loadKind(Kind::kPolicy, &policyFromDocument, policies));
  RETURN_IF_ERROR(loadKind(Kind::kPort, &portFromDocument, ports));
  RETURN_IF_ERROR(loadKind(Kind::kServer, &serverFromDocument, servers));
  RETURN_IF_ERROR(loadKind(Kind::kAgent, &agentFromDocument, agents));
  std::set<std::string> hosts;
  for (const auto* all : {&ports_, &ports}) {
    for (const auto& [id, port] : *all) {
      if (!port.binding.host.empty()) hosts.insert(port.binding.host);
    }
  }
  networks_ = std::move(networks);
  policies_ = std::move(policies);
  ports_ = std::move(ports);
  servers_ = std::move(servers);
  agents_ = std::move(agents);
  appliedSeq_ = head;
  for (const auto& host : hosts) bumpHost(host);  // whatever changed, the agents re-read
  currentAsOf_.mark(asOf);
  return Status::ok();
}

std::chrono::steady_clock::time_point PortsService::currentAsOf() const {
  if (!store_->shared()) return std::chrono::steady_clock::now();
  return currentAsOf_.get();
}

}  // namespace bwfloor::ports
