#include "dataplane/tc/htb_state.h"

namespace bwfloor::dataplane::tc {
namespace {

void readClasses(const std::vector<HtbClass>& classes, TreeState& tree) {
  for (const HtbClass& cls : classes) {
    if (handleMajor(cls.handle) != kHtbMajor) continue;
    const uint32_t minor = handleMinor(cls.handle);
    if (minor == kRootClassMinor) {
      tree.rootClass = cls;
    } else if (minor == kDefaultClassMinor) {
      tree.defaultClass = cls;
    } else if (isPortMinor(minor)) {
      tree.classes[minor] = cls;
    }
  }
}

void readFilters(const std::vector<U32Filter>& filters, TreeState& tree) {
  for (const U32Filter& f : filters) {
    if (f.kind != "u32" || f.prio != kFilterPrio) continue;
    if (f.handle == makeU32Handle(kPortHtid, 0, 0) && f.divisor == kPortBuckets) {
      tree.hashTable = true;
    } else if (f.handle == kLinkFilterHandle && f.linkHtid != 0) {
      tree.linkFilter = f;
    } else if (u32Htid(f.handle) == kPortHtid && u32Node(f.handle) != 0) {
      std::optional<Uuid> id = portFromTag(f.keys);
      std::optional<MacAddress> mac = macFromKeys(f.keys, tree.field);
      const uint32_t minor = handleMinor(f.classId);
      if (!id || !mac || handleMajor(f.classId) != kHtbMajor || !isPortMinor(minor)) continue;
      tree.putPort(PortEntry{*id, *mac, minor, f});
    }
  }
}

std::string location(const TreeState& tree, uint32_t minor) {
  return "dev=" + tree.dev + " classid=" + formatHandle(makeHandle(kHtbMajor, minor));
}

}  // namespace

const HtbClass* TreeState::classFor(const PortEntry& port) const {
  auto it = classes.find(port.minor);
  return it == classes.end() ? nullptr : &it->second;
}

void TreeState::putPort(const PortEntry& entry) {
  erasePort(entry.id);
  ports[entry.id] = entry;
  ++minorRefs[entry.minor];
}

void TreeState::erasePort(const Uuid& id) {
  auto it = ports.find(id);
  if (it == ports.end()) return;
  auto ref = minorRefs.find(it->second.minor);
  if (ref != minorRefs.end() && --ref->second <= 0) {
    minorRefs.erase(ref);
    mayHaveStrays = true;  // its class, if still there, is one now
  }
  ports.erase(it);
}

std::optional<std::string> TreeState::treeProblem(Kbps total) const {
  const std::string on = " on " + dev;
  if (!qdisc) return "htb qdisc 1: missing" + on;
  if (!rootClass) return "root class 1:1 missing" + on;
  if (Kbps::fromBytesPerSec(rootClass->rateBytesPerSec) != total) {
    return "root class 1:1" + on + " has rate " +
           Kbps::fromBytesPerSec(rootClass->rateBytesPerSec).toString() + ", want " +
           total.toString();
  }
  // Without the default class HTB sends unclassified traffic directly, around the root's cap.
  if (!defaultClass) return "default class 1:2 missing" + on;
  if (!hashTable) return "u32 hash table 10: missing" + on;
  if (!linkFilter || *linkFilter != macLinkFilter(field))
    return "u32 link filter 800::800 missing" + on;
  return std::nullopt;
}

uint32_t DeviceState::leafPackets(Direction direction, uint32_t minor, Kbps rate) const {
  if (direction != Direction::kEgress || config.senderBufferBytes == 0) return 0;
  const uint32_t frames = framesInBuffer(config.senderBufferBytes, uplinkMtu);
  if (minor == kDefaultClassMinor) return defaultLeafPackets(frames);
  return portLeafPackets(frames, rate, config.egressTotal);
}

std::optional<std::string> DeviceState::leafProblem(Direction direction, uint32_t minor,
                                                    Kbps rate) const {
  const uint32_t want = leafPackets(direction, minor, rate);
  if (want == 0) return std::nullopt;
  const TreeState& t = tree(direction);
  auto it = t.leaves.find(minor);
  if (it != t.leaves.end() && it->second == leafQdisc(minor, want)) return std::nullopt;
  return "pfifo leaf of " + std::to_string(want) + " packets missing under class " +
         formatHandle(makeHandle(kHtbMajor, minor)) + " on " + t.dev +
         " (OVS userspace datapath: without it a backlog fills ovs-vswitchd's send buffer and "
         "frames of every class are refused)";
}

std::optional<std::string> DeviceState::ingressPathProblem() const {
  if (!ifb) return ifbName + " missing";
  if (!ifb->up) return ifbName + " is down";
  if (!ingressQdisc) return "ingress qdisc missing on " + config.device;
  if (!redirect || redirect->redirectIfindex != ifb->ifindex) {
    return "redirect from " + config.device + " to " + ifbName + " missing";
  }
  return std::nullopt;
}

Status readTree(TcApi& api, const std::string& dev, MacField field, TreeState& tree) {
  tree = TreeState{};
  tree.dev = dev;
  tree.field = field;
  ASSIGN_OR_RETURN(std::vector<Qdisc> qdiscs, api.listQdiscs(dev));
  for (const Qdisc& q : qdiscs) {
    if (q.parent == kParentRoot && q.kind == "htb" && q.handle == kHtbQdiscHandle)
      tree.qdisc = true;
    if (handleMajor(q.parent) == kHtbMajor && handleMinor(q.parent) != 0) {
      tree.leaves[handleMinor(q.parent)] = q;
    }
  }
  if (!tree.qdisc) return Status::ok();  // classes and filters under another root are not ours
  ASSIGN_OR_RETURN(std::vector<HtbClass> classes, api.listClasses(dev));
  readClasses(classes, tree);
  ASSIGN_OR_RETURN(std::vector<U32Filter> filters, api.listFilters(dev, kHtbQdiscHandle));
  readFilters(filters, tree);
  for (const auto& [minor, cls] : tree.classes) {
    if (!tree.minorInUse(minor)) tree.mayHaveStrays = true;
  }
  return Status::ok();
}

Status readDevice(TcApi& api, const HtbDeviceConfig& configRef, DeviceState& state) {
  const HtbDeviceConfig config = configRef;  // may be state.config itself
  state = DeviceState{};
  state.config = config;
  state.ifbName = ifbNameFor(config.device);
  state.loaded = true;
  state.egress.dev = config.device;
  state.ingress.dev = state.ifbName;
  state.ingress.field = MacField::kDestination;
  ASSIGN_OR_RETURN(std::optional<TcLink> uplink, api.getLink(config.device));
  if (!uplink) return Status::ok();
  state.uplinkPresent = true;
  state.uplinkTxQueueLen = uplink->txQueueLen;
  state.uplinkMtu = uplink->mtu;
  RETURN_IF_ERROR(readTree(api, config.device, MacField::kSource, state.egress));

  ASSIGN_OR_RETURN(std::vector<Qdisc> qdiscs, api.listQdiscs(config.device));
  for (const Qdisc& q : qdiscs) {
    if (q.parent == kParentIngress) state.ingressQdisc = true;
  }
  if (state.ingressQdisc) {
    ASSIGN_OR_RETURN(std::vector<U32Filter> filters,
                     api.listFilters(config.device, kIngressHandle));
    for (const U32Filter& f : filters) {
      if (f.kind == "u32" && f.prio == kFilterPrio && f.handle == kRedirectFilterHandle &&
          hasRedirectTag(f.keys)) {
        state.redirect = f;
      } else if (f.kind != "u32" || f.divisor == 0) {  // u32 tables come and go with their nodes
        ++state.foreignIngressFilters;
      }
    }
  }
  ASSIGN_OR_RETURN(std::optional<TcLink> ifb, api.getLink(state.ifbName));
  if (ifb && ifb->kind == "ifb") {
    state.ifb = ifb;
    RETURN_IF_ERROR(readTree(api, state.ifbName, MacField::kDestination, state.ingress));
  }
  return Status::ok();
}

std::optional<AppliedDirection> appliedDirection(const DeviceState& device, Direction direction,
                                                 const Uuid& port) {
  const TreeState& tree = device.tree(direction);
  auto it = tree.ports.find(port);
  if (it == tree.ports.end()) return std::nullopt;
  const PortEntry& entry = it->second;
  AppliedDirection applied;
  applied.location = location(tree, entry.minor);
  const HtbClass* cls = tree.classFor(entry);
  if (cls == nullptr) {
    applied.enforcement = Enforcement::failed(
        "class " + formatHandle(makeHandle(kHtbMajor, entry.minor)) + " missing on " + tree.dev);
    return applied;
  }
  const Kbps total = device.total(direction);
  if (cls->parent != makeHandle(kHtbMajor, kRootClassMinor)) {
    applied.enforcement = Enforcement::failed("class " + formatHandle(cls->handle) +
                                              " is not under 1:1 on " + tree.dev);
  }
  applied.minKbps = Kbps::fromBytesPerSec(cls->rateBytesPerSec);
  const Kbps ceil = Kbps::fromBytesPerSec(cls->ceilBytesPerSec);
  if (ceil < total) applied.maxKbps = ceil;
  std::optional<std::string> problem = tree.treeProblem(total);
  if (!problem) problem = device.leafProblem(direction, entry.minor, applied.minKbps);
  if (!problem && tree.defaultClass) {
    problem = device.leafProblem(direction, kDefaultClassMinor,
                                 Kbps::fromBytesPerSec(tree.defaultClass->rateBytesPerSec));
  }
  if (!problem && direction == Direction::kIngress) problem = device.ingressPathProblem();
  if (problem && !applied.enforcement.isFailed())
    applied.enforcement = Enforcement::failed(*problem);
  return applied;
}

}  // namespace bwfloor::dataplane::tc
