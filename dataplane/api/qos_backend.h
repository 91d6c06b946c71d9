#pragma once
// QosBackend: the seam between the agent's reconcile loop and whatever enforces a guaranteed
// minimum on the wire (tc HTB, Open vSwitch queues, SR-IOV VF rates). STYLE.md §1: the agent keeps
// the desired state (QosSpec per port), a backend reports the applied state it reads back from the
// kernel / OVSDB / NIC, and the agent hands it only the difference.
//
// Contract, for every implementation:
// - observe() reads back everything this backend has programmed, tagged with port ids, so that
// after
//   a restart the agent can adopt what matches its desired state and remove the rest. It does not
//   change anything.
// - program() is idempotent: programming the same spec twice changes nothing the second time;
//   programming a changed spec changes only what differs. It returns what is applied afterwards.
//   An error means the change could not be completed (the object is named, with the errno where the
//   kernel said no); the agent retries with backoff, and program() continues where it stopped.
// - remove() takes away everything programmed for the port; removing an unknown port is a success.
// - counters() reads the live per-port statistics (the agent derives rates from two readings).
// Header-only on purpose: agent logic links just dataplane/api.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "dataplane/api/qos_spec.h"

namespace bwfloor::dataplane {

enum class Direction { kEgress, kIngress };  // from the VM's point of view, as in QosSpec

inline const char* directionName(Direction direction) {
  return direction == Direction::kEgress ? "egress" : "ingress";
}

// What an operator reads per binding: "enforced", "placement-only (why)" or "failed (why)".
class Enforcement {
 public:
  enum class State { kEnforced, kPlacementOnly, kFailed };

  static Enforcement enforced() { return Enforcement(State::kEnforced, ""); }
  // The backend cannot enforce this (e.g. an ingress minimum on a VF): Placement still counts the
  // bandwidth, nothing on the host makes it true.
  static Enforcement placementOnly(std::string why) {
    return Enforcement(State::kPlacementOnly, std::move(why));
  }
  // Should be enforced and is not (kernel refusal, object missing or changed by hand).
  static Enforcement failed(std::string why) { return Enforcement(State::kFailed, std::move(why)); }

  State state() const { return state_; }
  const std::string& reason() const { return reason_; }
  bool isEnforced() const { return state_ == State::kEnforced; }
  bool isFailed() const { return state_ == State::kFailed; }

  std::string toString() const {
    switch (state_) {
      case State::kEnforced:
        return "enforced";
      case State::kPlacementOnly:
        return "placement-only (" + reason_ + ")";
      case State::kFailed:
        return "failed (" + reason_ + ")";
    }
    return "failed (unknown state)";
  }

  bool operator==(const Enforcement&) const = default;

 private:
  Enforcement(State state, std::string reason) : state_(state), reason_(std::move(reason)) {}

  State state_;
  std::string reason_;
};

// One direction of one port as the backend found it (rates read back, not echoed from the spec).
struct AppliedDirection {
  Kbps minKbps{0};  // the guaranteed rate the kernel holds (HTB class rate, OVS min-rate, ...)
  // A per-port ceiling the kernel holds; nullopt when the port may use the whole device.
  std::optional<Kbps> maxKbps;
  Enforcement enforcement = Enforcement::enforced();
  // Where it lives, for operators and logs: "dev=eth0 classid=1:12".
  std::string location;

  bool operator==(const AppliedDirection&) const = default;
};

struct AppliedQos {
  PortIdentity port;    // as found: port id and MAC from the kernel tags, device = uplink
  std::string backend;  // QosBackend::name()
  std::optional<AppliedDirection> egress;  // nullopt: no guarantee in this direction
  std::optional<AppliedDirection> ingress;

  // The binding's status: failed if a direction failed, else placement-only if one is, else
  // enforced. A port with no direction at all is "placement-only (nothing to enforce)".
  Enforcement overall() const {
    const AppliedDirection* dirs[] = {egress ? &*egress : nullptr, ingress ? &*ingress : nullptr};
    const Enforcement* placementOnly = nullptr;
    bool any = false;
    for (const AppliedDirection* dir : dirs) {
      if (dir == nullptr) continue;
      any = true;
      if (dir->enforcement.isFailed()) return dir->enforcement;
      if (dir->enforcement.state() == Enforcement::State::kPlacementOnly) {
        placementOnly = &dir->enforcement;
      }
    }
    if (!any) return Enforcement::placementOnly("nothing to enforce");
    return placementOnly != nullptr ? *placementOnly : Enforcement::enforced();
  }

  bool operator==(const AppliedQos&) const = default;
};

// Live statistics of one port's queue/class in one direction, read from the kernel.
struct QosCounters {
  std::string portId;  // empty: the device's default class (all unguaranteed traffic)
  Direction direction = Direction::kEgress;
  std::string device;  // where it is counted: the uplink, or its IFB for ingress
  std::string object;  // "classid 1:12"
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint64_t drops = 0;
  uint64_t overlimits = 0;
  // Bytes waiting in the queue when read (0 where the backend cannot tell, e.g. a VF): with
  // drops and overlimits, how the agent sees that a port wanted more than it got.
  uint64_t backlogBytes = 0;

  bool operator==(const QosCounters&) const = default;
};

class QosBackend {
 public:
  virtual ~QosBackend() = default;

  // "htb", "ovs", "sriov": names the backend in status output and logs.
  virtual std::string name() const = 0;
  // Everything this backend has programmed, read back, one entry per port.
  virtual Result<std::vector<AppliedQos>> observe() = 0;
  // Makes the kernel hold `spec` (idempotent) and returns what it holds afterwards.
  virtual Result<AppliedQos> program(const QosSpec& spec) = 0;
  // Removes everything programmed for the port; an unknown port is not an error.
  virtual Status remove(const std::string& portId) = 0;
  // Per-port statistics of every programmed port (and of each device's default class).
  virtual Result<std::vector<QosCounters>> counters() = 0;
};

}  // namespace bwfloor::dataplane
