#include "dataplane/ovs/ovsdb_bridge_reader.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "core/logging.h"
#include "dataplane/ovs/ovsdb_idl_shim.h"

namespace bwfloor::dataplane {
namespace {

// Frees the C snapshot however readBridges() leaves.
class SnapshotGuard {
 public:
  explicit SnapshotGuard(bwfloor_ovsdb_bridges* snapshot) : snapshot_(snapshot) {}
  ~SnapshotGuard() { bwfloor_ovsdb_bridges_free(snapshot_); }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;

 private:
  bwfloor_ovsdb_bridges* snapshot_;
};

template <typename T>
void sortByName(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

OvsInterface toInterface(const bwfloor_ovsdb_interface& in) {
  OvsInterface iface{in.name, in.type, in.peer, std::nullopt};
  if (in.has_ofport != 0) iface.ofport = in.ofport;
  return iface;
}

OvsPort toPort(const bwfloor_ovsdb_port& in) {
  OvsPort port{in.name, {}};
  port.interfaces.reserve(in.n_interfaces);
  for (size_t i = 0; i < in.n_interfaces; ++i)
    port.interfaces.push_back(toInterface(in.interfaces[i]));
  sortByName(port.interfaces);
  return port;
}

std::vector<OvsBridge> toBridges(const bwfloor_ovsdb_bridges& snapshot) {
  std::vector<OvsBridge> bridges;
  bridges.reserve(snapshot.n_bridges);
  for (size_t b = 0; b < snapshot.n_bridges; ++b) {
    const bwfloor_ovsdb_bridge& in = snapshot.bridges[b];
    OvsBridge bridge{in.name, in.datapath_type, {}};
    bridge.ports.reserve(in.n_ports);
    for (size_t p = 0; p < in.n_ports; ++p) bridge.ports.push_back(toPort(in.ports[p]));
    sortByName(bridge.ports);
    bridges.push_back(std::move(bridge));
  }
  sortByName(bridges);
  return bridges;
}

ErrorCode toErrorCode(int status) {
  switch (status) {
    case BWFLOOR_OVSDB_BAD_REMOTE:
      return ErrorCode::kInvalidArgument;
    case BWFLOOR_OVSDB_UNSUPPORTED:
      return ErrorCode::kUnsupported;
    case BWFLOOR_OVSDB_UNAVAILABLE:
    case BWFLOOR_OVSDB_TIMEOUT:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

OvsdbBridgeReader::OvsdbBridgeReader(std::string remote, std::chrono::milliseconds timeout)
    : remote_(std::move(remote)), timeout_(timeout) {}

Result<std::vector<OvsBridge>> OvsdbBridgeReader::readBridges() {
  const auto timeoutMs =
      static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(timeout_.count(), 1, INT_MAX));
  bwfloor_ovsdb_bridges snapshot{};
  bwfloor_ovsdb_error error{};
  const int status = bwfloor_ovsdb_read_bridges(remote_.c_str(), timeoutMs, &snapshot, &error);
  SnapshotGuard guard(&snapshot);
  if (status != BWFLOOR_OVSDB_OK) {
    return makeError(toErrorCode(status), "ovsdb remote=" + remote_ + ": " + error.reason,
                     error.sys_errno);
  }
  std::vector<OvsBridge> bridges = toBridges(snapshot);
  logger("ovs")->debug("ovsdb read remote={} bridges={}", remote_, bridges.size());
  return bridges;
}

}  // namespace bwfloor::dataplane
