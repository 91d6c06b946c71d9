#pragma once
// How one bwfloor-server replica follows the others on a shared PostgreSQL database: a thread
// that LISTENs on the change channel and, on each NOTIFY and at least every poll interval,
// applies what the other replicas committed (PlacementModel::catchUp, PortsService::catchUp).
// Reads are refused (503) while the replica cannot show it is within max_replica_lag of the
// database: a lost connection, a stuck follower. See placement/store/pg_change_log.h.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "placement/model/placement_model.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::placement {

struct FollowerOptions {
  std::chrono::milliseconds maxLag{5000};        // [placement_database] max_replica_lag
  std::chrono::milliseconds pollInterval{1000};  // without a NOTIFY
  std::chrono::seconds reconcileInterval{10};    // creates abandoned by a dead replica
};

class ReplicaFollower {
 public:
  ReplicaFollower(std::string conninfo, PlacementModel& model, ports::PortsService& ports,
                  FollowerOptions options);
  ~ReplicaFollower();
  ReplicaFollower(const ReplicaFollower&) = delete;
  ReplicaFollower& operator=(const ReplicaFollower&) = delete;

  // Why this replica must not answer reads now (nullopt: it may).
  std::optional<std::string> staleness() const;

 private:
  void run();

  std::string conninfo_;
  PlacementModel& model_;
  ports::PortsService& ports_;
  FollowerOptions options_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace bwfloor::placement
