#pragma once
// HtbBackend: guaranteed minimums with Linux tc HTB, egress on the uplink and ingress on an IFB
// device fed by the uplink's ingress qdisc (layout and the reasons for it: htb_layout.h).
//
// State: the kernel is the only store. The backend keeps a view of it (htb_state.h), loaded on
// first use and re-read by every observe(); program() and remove() change only what the view says
// differs and keep it up to date, so a binding costs a few netlink round trips, not a dump.
// Something changed by hand since the last observe() is repaired at the next one (the agent
// observes on every resync); a stale view can make an add fail with "exists" or a change with
// "not found", and both are handled by switching to the other operation.
//
// Crash safety: per port, the filter (which carries the port id) is created first and deleted
// last, so whatever a crash leaves behind is visible to observe() under its port id; classes that
// no filter references (deleted filters) are removed by the next program()/remove() on the device.
//
// Not thread-safe by itself; calls are serialised with a mutex.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/api/qos_backend.h"
#include "dataplane/tc/htb_state.h"
#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane::tc {

struct HtbBackendConfig {
  std::vector<HtbDeviceConfig> devices;
  // Rate of each tree's default class, the floor for unguaranteed traffic (ceil = device total).
  Kbps defaultClassRate{1000};
};

// Every problem at once, one per line: empty or duplicate devices, zero egress totals, names that
// do not fit IFNAMSIZ, a default rate of zero.
Status validateHtbConfig(const HtbBackendConfig& config);

class HtbBackend : public QosBackend {
 public:
  // `api` is shared so that tests can keep the fake kernel across backend instances ("restarts").
  HtbBackend(HtbBackendConfig config, std::shared_ptr<TcApi> api);

  std::string name() const override { return "htb"; }
  Result<std::vector<AppliedQos>> observe() override;
  Result<AppliedQos> program(const QosSpec& spec) override;
  Status remove(const std::string& portId) override;
  Result<std::vector<QosCounters>> counters() override;

 private:
  struct Request {  // a validated QosSpec
    Uuid id;
    std::string portId;  // canonical form
    MacAddress mac{};
    std::string device;
    Kbps min[2];   // [egress, ingress]
    Kbps ceil[2];  // max, or the device total
    static size_t index(Direction d) { return d == Direction::kEgress ? 0 : 1; }
    bool wants(Direction d) const { return !min[index(d)].isZero(); }
    Kbps minOf(Direction d) const { return min[index(d)]; }
    Kbps ceilOf(Direction d) const { return ceil[index(d)]; }
  };

  Result<Request> validate(const QosSpec& spec) const;
  Status loadAll();
  Status reload(DeviceState& device);
  AppliedQos applied(const DeviceState& device, const Uuid& port) const;

  Status programDirection(DeviceState& device, Direction direction, const Request& request);
  Status removeFromDevice(DeviceState& device, const Uuid& port);
  Status removeFromTree(DeviceState& device, Direction direction, const Uuid& port);
  Status teardownIfUnused(DeviceState& device, Direction direction);
  Status removeStrayClasses(TreeState& tree);

  Status ensureTree(DeviceState& device, Direction direction);
  Status ensureClass(TreeState& tree, const HtbClass& desired, const std::string& portTag);
  Status ensurePort(TreeState& tree, const Request& request, Direction direction, uint32_t minor);
  // The leaf class 1:<minor> must have (DeviceState::leafPackets); 0 packets: HTB's own.
  Status ensureLeaf(TreeState& tree, uint32_t minor, uint32_t packets, const std::string& subject);
  Status putFilter(const std::string& dev, const U32Filter* current, const U32Filter& desired);
  Status ensureIfb(DeviceState& device);
  Status ensureRedirect(DeviceState& device);
  void warnIfLeavesOverfillBuffer(const DeviceState& device, Direction direction) const;
  Result<uint32_t> chooseMinor(const DeviceState& device, Direction direction,
                               const Uuid& port) const;

  HtbBackendConfig config_;
  std::shared_ptr<TcApi> api_;
  std::mutex mutex_;
  std::map<std::string, DeviceState> devices_;  // by uplink name
  bool loaded_ = false;
};

}  // namespace bwfloor::dataplane::tc
