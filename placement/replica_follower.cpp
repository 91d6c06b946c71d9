#include "placement/replica_follower.h"

#include <poll.h>

#include <algorithm>

#include "core/logging.h"
#include "placement/store/pg_change_log.h"
#include "placement/store/pg_connection.h"

namespace bwfloor::placement {

ReplicaFollower::ReplicaFollower(std::string conninfo, PlacementModel& model,
                                 ports::PortsService& ports, FollowerOptions options)
    : conninfo_(std::move(conninfo)), model_(model), ports_(ports), options_(options) {
  thread_ = std::thread([this] { run(); });
}

ReplicaFollower::~ReplicaFollower() {
  stopping_ = true;
  thread_.join();
}

std::optional<std::string> ReplicaFollower::staleness() const {
  const auto asOf = std::min(model_.currentAsOf(), ports_.currentAsOf());
  const auto behind = std::chrono::steady_clock::now() - asOf;
  if (behind <= options_.maxLag) return std::nullopt;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(behind).count();
  return "this bwfloor-server replica has not been able to confirm it is current with the "
         "database for " +
         std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) +
         " s (max_replica_lag is " + std::to_string(options_.maxLag.count() / 1000.0).substr(0, 4) +
         " s); it answers no reads until it is, try another replica";
}

void ReplicaFollower::run() {
  auto log = logger("replica");
  std::unique_ptr<PgConnection> listener;
  auto lastReconcile = std::chrono::steady_clock::now();
  bool failing = false;
  while (!stopping_) {
    if (!listener || !listener->alive()) {
      listener.reset();
      auto opened = PgConnection::open(conninfo_, "replica follower");
      if (opened && (*opened)->run(std::string("LISTEN ") + kChangeChannel)) {
        listener = std::move(*opened);
      } else if (!failing) {
        log->error("cannot listen for other replicas' changes: {}; polling meanwhile",
                   opened ? "LISTEN failed" : opened.error().message());
      }
    }
    // Wait for a NOTIFY, at most one poll interval (short slices, to stop promptly).
    const auto until = std::chrono::steady_clock::now() + options_.pollInterval;
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      if (!listener) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      pollfd fd{listener->socket(), POLLIN, 0};
      if (::poll(&fd, 1, 100) > 0 && listener->takeNotifications()) break;
      if (!listener->alive()) break;
    }
    if (stopping_) break;
    Status placement = model_.catchUp();
    Status v1 = ports_.catchUp();
    if (!placement || !v1) {
      if (!failing) {
        log->error("catching up with the other replicas failed: {}",
                   (!placement ? placement : v1).error().message());
      }
      failing = true;
      continue;
    }
    if (failing) log->info("caught up with the other replicas again");
    failing = false;
    if (std::chrono::steady_clock::now() - lastReconcile >= options_.reconcileInterval) {
      lastReconcile = std::chrono::steady_clock::now();
      ports_.reconcileAbandoned();
    }
  }
}

}  // namespace bwfloor::placement
