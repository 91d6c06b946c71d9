#include "dataplane/ovs/ovs_queue_tc.h"

#include <algorithm>

#include "core/logging.h"

namespace bwfloor::dataplane {
namespace {

using namespace tc;

std::shared_ptr<spdlog::logger> ovsLog() { return logger("ovs"); }

Status ignoreNotFound(Status status) {
  if (!status && status.error().code() == ErrorCode::kNotFound) return Status::ok();
  return status;
}

std::string classId(uint32_t minor) { return formatHandle(makeHandle(kHtbMajor, minor)); }

void readFilters(const std::vector<U32Filter>& filters, UplinkTcState& state) {
  for (const U32Filter& f : filters) {
    if (f.kind != "u32" || f.prio != kFilterPrio) continue;
    if (f.handle == makeU32Handle(kPortHtid, 0, 0) && f.divisor == kPortBuckets) {
      state.hashTable = true;
    } else if (f.handle == kLinkFilterHandle && f.linkHtid != 0) {
      state.linkFilter = f;
    } else if (u32Htid(f.handle) == kPortHtid && u32Node(f.handle) != 0) {
      if (std::optional<Uuid> id = portFromTag(f.keys)) {
        state.portFilters.emplace(id->toString(), f);
      }
    }
  }
}

// Adds `desired`; a node already at its handle (a stale view, or another port's old filter) is
// replaced: u32 cannot change a node's keys in place.
Status addFilter(TcApi& api, const std::string& dev, const U32Filter& desired) {
  Status st = api.addFilter(dev, desired);
  if (!st && st.error().code() == ErrorCode::kAlreadyExists) {
    RETURN_IF_ERROR(ignoreNotFound(api.deleteFilter(dev, desired)));
    st = api.addFilter(dev, desired);
  }
  return st;
}

}  // namespace

Result<UplinkTcState> readUplink(TcApi& api, const std::string& dev) {
  UplinkTcState state;
  state.dev = dev;
  Result<std::vector<Qdisc>> qdiscs = api.listQdiscs(dev);
  if (!qdiscs && qdiscs.error().code() == ErrorCode::kNotFound) return state;
  if (!qdiscs) return qdiscs.error();
  state.present = true;
  for (const Qdisc& q : *qdiscs) {
    if (q.parent == kParentRoot && q.kind == "htb" && q.handle == kHtbQdiscHandle) state.htb = true;
  }
  if (!state.htb) return state;  // filters under another root are not ours
  for (const Qdisc& q : *qdiscs) {
    if (handleMajor(q.parent) == kHtbMajor && q.parent != kParentRoot) {
      state.leaves[handleMinor(q.parent)] = q;
    }
  }
  ASSIGN_OR_RETURN(std::vector<HtbClass> classes, api.listClasses(dev));
  for (const HtbClass& c : classes) {
    if (handleMajor(c.handle) == kHtbMajor) state.classes[handleMinor(c.handle)] = c;
  }
  ASSIGN_OR_RETURN(std::vector<U32Filter> filters, api.listFilters(dev, kHtbQdiscHandle));
  readFilters(filters, state);
  return state;
}

std::optional<std::string> classificationProblem(const UplinkTcState& state,
                                                 const std::string& portId, const MacAddress& mac,
                                                 uint32_t minor, LeafPackets leaves) {
  const std::string on = " on " + state.dev;
  if (!state.present) return "device " + state.dev + " missing";
  if (!state.htb) return "no htb qdisc 1:" + on + " (ovs-vswitchd has not applied the QoS)";
  if (state.classes.count(minor) == 0) {
    return "class " + classId(minor) + " missing" + on +
           " (ovs-vswitchd has not applied the queue)";
  }
  // Without class 1:1 HTB sends unclassified frames directly, around the root's rate.
  if (state.classes.count(1) == 0) return "default class 1:1 (queue 0) missing" + on;
  if (!state.hashTable) return "u32 hash table 10: missing" + on;
  if (!state.linkFilter || *state.linkFilter != macLinkFilter(MacField::kSource)) {
    return "u32 link filter 800::800 missing" + on;
  }
  Result<Uuid> id = Uuid::parse(portId);
  const U32Filter desired = portFilter(id.value_or(Uuid()), mac, MacField::kSource, minor);
  auto [first, last] = state.portFilters.equal_range(portId);
  if (std::none_of(first, last, [&](const auto& entry) { return entry.second == desired; })) {
    return "u32 filter for " + formatMac(mac) + " -> " + classId(minor) + " missing" + on;
  }
  for (const auto& [m, packets] :
       {std::pair{minor, leaves.port}, std::pair{1u, leaves.defaultQueue}}) {
    if (packets == 0) continue;
    auto leaf = state.leaves.find(m);
    if (leaf == state.leaves.end() || leaf->second.kind != "pfifo" ||
        leaf->second.fifoLimitPackets != packets) {
      return "pfifo leaf of " + std::to_string(packets) + " packets missing under class " +
             classId(m) + on;
    }
  }
  return std::nullopt;
}

Status ensurePortClassified(TcApi& api, UplinkTcState& state, const std::string& portId,
                            const MacAddress& mac, uint32_t minor) {
  const std::string& dev = state.dev;
  if (!state.present) return makeError(ErrorCode::kNotFound, "device " + dev + " not found");
  if (!state.htb || state.classes.count(minor) == 0) {
    return makeError(ErrorCode::kUnavailable,
                     "class " + classId(minor) + " missing on " + dev +
                         ": ovs-vswitchd has not applied the QoS (is it running?)");
  }
  if (!state.hashTable) {
    Status st = api.addFilter(dev, portHashTable());
    if (!st && st.error().code() != ErrorCode::kAlreadyExists) return st;
    ovsLog()->info("op=add-filter dev={} handle=10: kind=u32-hash-table divisor={}", dev,
                   kPortBuckets);
    state.hashTable = true;
  }
  const U32Filter link = macLinkFilter(MacField::kSource);
  if (!state.linkFilter || *state.linkFilter != link) {
    if (state.linkFilter) RETURN_IF_ERROR(ignoreNotFound(api.deleteFilter(dev, *state.linkFilter)));
    RETURN_IF_ERROR(addFilter(api, dev, link));
    ovsLog()->info("op=add-filter dev={} handle=800::800 link=10: hash=src-mac-last-byte", dev);
    state.linkFilter = link;
  }
  ASSIGN_OR_RETURN(Uuid id, Uuid::parse(portId));
  const U32Filter desired = portFilter(id, mac, MacField::kSource, minor);
  auto [first, last] = state.portFilters.equal_range(portId);
  bool present = false;
  for (auto it = first; it != last;) {  // other filters of the port (old MAC or class) go
    if (it->second == desired && !present) {
      present = true;
      ++it;
      continue;
    }
    if (it->second.handle != desired.handle) {
      RETURN_IF_ERROR(ignoreNotFound(api.deleteFilter(dev, it->second)));
      ovsLog()->info("op=delete-filter port={} dev={} handle={} reason=replaced", portId, dev,
                     formatU32Handle(it->second.handle));
    }
    it = state.portFilters.erase(it);
  }
  if (!present) {
    RETURN_IF_ERROR(addFilter(api, dev, desired));
    ovsLog()->info("op=add-filter port={} dev={} handle={} mac={} classid={}", portId, dev,
                   formatU32Handle(desired.handle), formatMac(mac), classId(minor));
    state.portFilters.emplace(portId, desired);
  }
  return Status::ok();
}

Status ensureLeaf(TcApi& api, UplinkTcState& state, uint32_t minor, uint32_t packets) {
  auto it = state.leaves.find(minor);
  if (it != state.leaves.end() && it->second.kind == "pfifo" &&
      it->second.fifoLimitPackets == packets && it->second.handle == ovsLeafHandle(minor)) {
    return Status::ok();
  }
  if (state.classes.count(minor) == 0) {
    return makeError(ErrorCode::kUnavailable,
                     "class " + classId(minor) + " missing on " + state.dev +
                         ": ovs-vswitchd has not applied the QoS (is it running?)");
  }
  Qdisc leaf{ovsLeafHandle(minor), makeHandle(kHtbMajor, minor), "pfifo"};
  leaf.fifoLimitPackets = packets;
  if (it != state.leaves.end() && it->second.handle != leaf.handle) {  // someone else's leaf
    RETURN_IF_ERROR(ignoreNotFound(api.deleteQdisc(state.dev, it->second)));
  }
  RETURN_IF_ERROR(api.addQdisc(state.dev, leaf));
  ovsLog()->info("op=add-qdisc dev={} parent={} handle={} kind=pfifo limit_packets={}", state.dev,
                 classId(minor), formatHandle(leaf.handle), packets);
  state.leaves[minor] = leaf;
  return Status::ok();
}

Status removePortFilters(TcApi& api, UplinkTcState& state, const std::string& portId) {
  auto [first, last] = state.portFilters.equal_range(portId);
  for (auto it = first; it != last;) {
    RETURN_IF_ERROR(ignoreNotFound(api.deleteFilter(state.dev, it->second)));
    ovsLog()->info("op=delete-filter port={} dev={} handle={}", portId, state.dev,
                   formatU32Handle(it->second.handle));
    it = state.portFilters.erase(it);
  }
  return Status::ok();
}

Status removeStrayFilters(TcApi& api, UplinkTcState& state,
                          const std::map<std::string, uint32_t>& wanted) {
  for (auto it = state.portFilters.begin(); it != state.portFilters.end();) {
    auto want = wanted.find(it->first);
    if (want != wanted.end() && handleMinor(it->second.classId) == want->second) {
      ++it;
      continue;
    }
    RETURN_IF_ERROR(ignoreNotFound(api.deleteFilter(state.dev, it->second)));
    ovsLog()->info("op=delete-filter port={} dev={} handle={} reason=no-queue", it->first,
                   state.dev, formatU32Handle(it->second.handle));
    it = state.portFilters.erase(it);
  }
  return Status::ok();
}

}  // namespace bwfloor::dataplane
