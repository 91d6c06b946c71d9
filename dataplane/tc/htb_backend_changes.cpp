// HtbBackend, the half that changes the kernel: every function compares the view with what is
// wanted, calls TcApi only for the difference, logs each change once at info (key=value) and
// updates the view.
#include <utility>

#include "core/logging.h"
#include "dataplane/tc/htb_backend.h"

namespace bwfloor::dataplane::tc {
namespace {

std::shared_ptr<spdlog::logger> tcLog() { return logger("tc"); }

// Deleting something that is already gone is a success.
Status ignoreNotFound(Status status) {
  if (!status && status.error().code() == ErrorCode::kNotFound) return Status::ok();
  return status;
}

uint64_t kbpsOf(uint64_t bytesPerSec) { return Kbps::fromBytesPerSec(bytesPerSec).kbps(); }

HtbClass* findClass(TreeState& tree, uint32_t minor) {
  if (minor == kRootClassMinor) return tree.rootClass ? &*tree.rootClass : nullptr;
  if (minor == kDefaultClassMinor) return tree.defaultClass ? &*tree.defaultClass : nullptr;
  auto it = tree.classes.find(minor);
  return it == tree.classes.end() ? nullptr : &it->second;
}

void storeClass(TreeState& tree, const HtbClass& cls) {
  const uint32_t minor = handleMinor(cls.handle);
  if (minor == kRootClassMinor) {
    tree.rootClass = cls;
  } else if (minor == kDefaultClassMinor) {
    tree.defaultClass = cls;
  } else {
    tree.classes[minor] = cls;
  }
}

void resetTree(TreeState& tree) {
  TreeState fresh;
  fresh.dev = tree.dev;
  fresh.field = tree.field;
  tree = std::move(fresh);
}

// Add, or change when it turns out to exist (the view was stale); and the other way round.
template <typename Add, typename Change>
Status addOrChange(bool exists, Add add, Change change) {
  Status status = exists ? change() : add();
  if (!status && exists && status.error().code() == ErrorCode::kNotFound) return add();
  if (!status && !exists && status.error().code() == ErrorCode::kAlreadyExists) return change();
  return status;
}

std::string classId(uint32_t minor) { return formatHandle(makeHandle(kHtbMajor, minor)); }

}  // namespace

Status HtbBackend::ensureTree(DeviceState& device, Direction direction) {
  TreeState& tree = device.tree(direction);
  const Kbps total = device.total(direction);
  if (!tree.qdisc) {
    // Replaces the device's default root qdisc (or anyone else's: the device is ours by config).
    RETURN_IF_ERROR(api_->addQdisc(tree.dev, htbQdisc()));
    tcLog()->info("op=add-qdisc dev={} direction={} handle=1: kind=htb default=1:2 r2q=10",
                  tree.dev, directionName(direction));
    resetTree(tree);
    tree.qdisc = true;
  }
  RETURN_IF_ERROR(ensureClass(tree, rootClass(total), "role=root"));
  const HtbClass deflt = defaultClass(config_.defaultClassRate, total);
  RETURN_IF_ERROR(ensureClass(tree, deflt, "role=default"));
  RETURN_IF_ERROR(ensureLeaf(tree, kDefaultClassMinor,
                             device.leafPackets(direction, kDefaultClassMinor,
                                                Kbps::fromBytesPerSec(deflt.rateBytesPerSec)),
                             "role=default"));
  if (!tree.hashTable) {
    Status st = api_->addFilter(tree.dev, portHashTable());
    if (!st && st.error().code() != ErrorCode::kAlreadyExists) return st;
    tcLog()->info("op=add-filter dev={} direction={} handle=10: kind=u32-hash-table divisor={}",
                  tree.dev, directionName(direction), kPortBuckets);
    tree.hashTable = true;
  }
  const U32Filter link = macLinkFilter(tree.field);
  if (!tree.linkFilter || *tree.linkFilter != link) {
    RETURN_IF_ERROR(putFilter(tree.dev, tree.linkFilter ? &*tree.linkFilter : nullptr, link));
    tcLog()->info("op={}-filter dev={} direction={} handle=800::800 link=10: hash_offset={}",
                  tree.linkFilter ? "replace" : "add", tree.dev, directionName(direction),
                  link.hashOffset);
    tree.linkFilter = link;
  }
  return Status::ok();
}

// u32 cannot change the keys of a node in place (the kernel keeps the old selector on "change"),
// so a filter whose keys differ is replaced: a new handle is added before the old one goes, the
// same handle is deleted and re-added. An add that finds an unknown node at the handle (a stale
// view) deletes that node and adds again.
Status HtbBackend::putFilter(const std::string& dev, const U32Filter* current,
                             const U32Filter& desired) {
  if (current != nullptr && current->handle == desired.handle) {
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteFilter(dev, *current)));
  }
  Status st = api_->addFilter(dev, desired);
  if (!st && st.error().code() == ErrorCode::kAlreadyExists) {
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteFilter(dev, desired)));
    st = api_->addFilter(dev, desired);
  }
  if (!st) return st;
  if (current != nullptr && current->handle != desired.handle) {
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteFilter(dev, *current)));
  }
  return Status::ok();
}

Status HtbBackend::ensureClass(TreeState& tree, const HtbClass& desired,
                               const std::string& subject) {
  const uint32_t minor = handleMinor(desired.handle);
  const HtbClass* current = findClass(tree, minor);
  if (current != nullptr && current->sameConfig(desired)) return Status::ok();
  if (current != nullptr && current->parent != desired.parent) {
    // HTB cannot move a class (a change keeps the old parent): a class that ended up elsewhere,
    // e.g. at the top level because its parent was missing when it was made, is made again.
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteClass(tree.dev, desired.handle)));
    tcLog()->info("op=delete-class {} dev={} classid={} reason=wrong-parent parent={}", subject,
                  tree.dev, classId(minor), formatHandle(current->parent));
    tree.classes.erase(minor);
    tree.leaves.erase(minor);
    if (minor == kRootClassMinor) tree.rootClass.reset();
    if (minor == kDefaultClassMinor) tree.defaultClass.reset();
    current = nullptr;
  }
  RETURN_IF_ERROR(addOrChange(
      current != nullptr, [&] { return api_->addClass(tree.dev, desired); },
      [&] { return api_->changeClass(tree.dev, desired); }));
  const bool port = isPortMinor(minor);
  tcLog()->info("op={}-class {} dev={} classid={} {}={} {}={} burst_bytes={} quantum_bytes={}",
                current != nullptr ? "change" : "add", subject, tree.dev, classId(minor),
                port ? "min_kbps" : "rate_kbps", kbpsOf(desired.rateBytesPerSec),
                port ? "max_kbps" : "ceil_kbps", kbpsOf(desired.ceilBytesPerSec),
                desired.burstBytes, desired.quantumBytes);
  storeClass(tree, desired);
  return Status::ok();
}

Status HtbBackend::ensurePort(TreeState& tree, const Request& request, Direction direction,
                              uint32_t minor) {
  const std::string subject = "port=" + request.portId + " direction=" + directionName(direction);
  const U32Filter desired = portFilter(request.id, request.mac, tree.field, minor);
  auto it = tree.ports.find(request.id);
  const U32Filter* current = it == tree.ports.end() ? nullptr : &it->second.filter;
  if (current == nullptr || *current != desired) {
    // The filter first: it carries the port id, so a crash after this line leaves a port that
    // observe() can name (and the agent can remove), never an anonymous class.
    RETURN_IF_ERROR(putFilter(tree.dev, current, desired));
    tcLog()->info("op={}-filter {} dev={} handle={} mac={} classid={}",
                  current != nullptr ? "replace" : "add", subject, tree.dev,
                  formatU32Handle(desired.handle), formatMac(request.mac), classId(minor));
    tree.putPort(PortEntry{request.id, request.mac, minor, desired});
  }
  RETURN_IF_ERROR(ensureClass(
      tree, htbClass(minor, kRootClassMinor, request.minOf(direction), request.ceilOf(direction)),
      subject));
  const DeviceState& device = devices_.at(request.device);
  return ensureLeaf(tree, minor, device.leafPackets(direction, minor, request.minOf(direction)),
                    subject);
}

Status HtbBackend::ensureLeaf(TreeState& tree, uint32_t minor, uint32_t packets,
                              const std::string& subject) {
  auto it = tree.leaves.find(minor);
  if (packets == 0) {  // HTB's own leaf is right here: take ours away, if there is one
    if (it == tree.leaves.end() || it->second.handle != leafQdiscHandle(minor)) return Status::ok();
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteQdisc(tree.dev, it->second)));
    tcLog()->info("op=delete-qdisc {} dev={} parent={} reason=not-needed", subject, tree.dev,
                  classId(minor));
    tree.leaves.erase(it);
    return Status::ok();
  }
  const Qdisc desired = leafQdisc(minor, packets);
  if (it != tree.leaves.end() && it->second == desired) return Status::ok();
  // Creates the leaf, or replaces whatever qdisc the class has.
  RETURN_IF_ERROR(api_->addQdisc(tree.dev, desired));
  tcLog()->info("op={}-qdisc {} dev={} parent={} handle={} kind=pfifo limit_packets={}",
                it != tree.leaves.end() ? "replace" : "add", subject, tree.dev, classId(minor),
                formatHandle(desired.handle), packets);
  tree.leaves[minor] = desired;
  return Status::ok();
}

Status HtbBackend::ensureIfb(DeviceState& device) {
  const std::string& name = device.ifbName;
  if (!device.ifb) {
    ASSIGN_OR_RETURN(std::optional<TcLink> link, api_->getLink(name));
    if (link && link->kind != "ifb") {
      return makeError(ErrorCode::kConflict, "device " + name + " exists and is a " +
                                                 (link->kind.empty() ? "plain" : link->kind) +
                                                 " device, not an IFB");
    }
    if (link) {  // there, but not in the view: read what it holds
      RETURN_IF_ERROR(readTree(*api_, name, MacField::kDestination, device.ingress));
    } else {
      // The IFB stands in for the uplink's queue, so it gets the uplink's queue length (the
      // kernel's IFB default of 32 packets is far below a NIC's).
      const uint32_t qlen = device.uplinkTxQueueLen > 0 ? device.uplinkTxQueueLen : 1000;
      Status st = api_->addIfb(name, qlen, "bwfloor ingress of " + device.config.device);
      if (!st && st.error().code() != ErrorCode::kAlreadyExists) return st;
      tcLog()->info("op=add-link dev={} kind=ifb uplink={} txqueuelen={}", name,
                    device.config.device, qlen);
      resetTree(device.ingress);
      ASSIGN_OR_RETURN(link, api_->getLink(name));
      if (!link) return makeError(ErrorCode::kInternal, "IFB " + name + " vanished after creation");
    }
    device.ifb = link;
  }
  if (!device.ifb->up) {
    RETURN_IF_ERROR(api_->setLinkUp(name));
    tcLog()->info("op=set-link-up dev={}", name);
    device.ifb->up = true;
  }
  return Status::ok();
}

Status HtbBackend::ensureRedirect(DeviceState& device) {
  const std::string& uplink = device.config.device;
  const U32Filter desired = redirectFilter(device.ifb->ifindex);
  if (device.redirect && *device.redirect == desired) return Status::ok();
  if (!device.ingressQdisc) {
    Status st = api_->addQdisc(uplink, Qdisc{kIngressHandle, kParentIngress, "ingress"});
    if (!st && st.error().code() != ErrorCode::kAlreadyExists) return st;
    tcLog()->info("op=add-qdisc dev={} handle=ffff: kind=ingress", uplink);
    device.ingressQdisc = true;
  }
  RETURN_IF_ERROR(addOrChange(
      device.redirect.has_value(), [&] { return api_->addFilter(uplink, desired); },
      [&] { return api_->changeFilter(uplink, desired); }));
  tcLog()->info("op={}-filter dev={} parent=ffff: handle=800::800 action=mirred-redirect to={}",
                device.redirect ? "change" : "add", uplink, device.ifbName);
  device.redirect = desired;
  return Status::ok();
}

Status HtbBackend::removeFromDevice(DeviceState& device, const Uuid& port) {
  for (Direction d : {Direction::kEgress, Direction::kIngress}) {
    if (device.tree(d).ports.count(port) == 0) continue;
    RETURN_IF_ERROR(removeFromTree(device, d, port));
    RETURN_IF_ERROR(teardownIfUnused(device, d));
    if (!device.tree(d).empty()) RETURN_IF_ERROR(removeStrayClasses(device.tree(d)));
  }
  return Status::ok();
}

Status HtbBackend::removeFromTree(DeviceState& device, Direction direction, const Uuid& port) {
  TreeState& tree = device.tree(direction);
  auto it = tree.ports.find(port);
  if (it == tree.ports.end()) return Status::ok();
  const PortEntry entry = it->second;
  const std::string subject = "port=" + port.toString() + " direction=" + directionName(direction);
  if (tree.classes.count(entry.minor) != 0) {  // the class first, the filter (the anchor) last
    RETURN_IF_ERROR(
        ignoreNotFound(api_->deleteClass(tree.dev, makeHandle(kHtbMajor, entry.minor))));
    tcLog()->info("op=delete-class {} dev={} classid={}", subject, tree.dev, classId(entry.minor));
    tree.classes.erase(entry.minor);
    tree.leaves.erase(entry.minor);  // went with its class
  }
  RETURN_IF_ERROR(ignoreNotFound(api_->deleteFilter(tree.dev, entry.filter)));
  tcLog()->info("op=delete-filter {} dev={} handle={}", subject, tree.dev,
                formatU32Handle(entry.filter.handle));
  const bool strays = tree.mayHaveStrays;
  tree.erasePort(port);
  tree.mayHaveStrays = strays;  // its class went first: no new stray
  return Status::ok();
}

Status HtbBackend::teardownIfUnused(DeviceState& device, Direction direction) {
  TreeState& tree = device.tree(direction);
  if (!tree.ports.empty()) return Status::ok();
  if (direction == Direction::kEgress) {
    if (tree.qdisc) {  // takes its classes and filters with it
      RETURN_IF_ERROR(ignoreNotFound(api_->deleteQdisc(tree.dev, htbQdisc())));
      tcLog()->info("op=delete-qdisc dev={} direction=egress handle=1: reason=no-guarantees-left",
                    tree.dev);
    }
    resetTree(tree);
    return Status::ok();
  }
  if (!device.redirect && !device.ifb) return Status::ok();  // never set up (or someone else's)
  const std::string& uplink = device.config.device;
  if (device.redirect) {  // stop feeding the IFB before it goes
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteFilter(uplink, *device.redirect)));
    tcLog()->info("op=delete-filter dev={} parent=ffff: handle=800::800 action=mirred-redirect",
                  uplink);
    device.redirect.reset();
  }
  if (device.ingressQdisc && device.foreignIngressFilters == 0) {
    RETURN_IF_ERROR(ignoreNotFound(
        api_->deleteQdisc(uplink, Qdisc{kIngressHandle, kParentIngress, "ingress"})));
    tcLog()->info("op=delete-qdisc dev={} handle=ffff: kind=ingress reason=no-guarantees-left",
                  uplink);
    device.ingressQdisc = false;
  }
  if (device.ifb) {  // its qdisc, classes and filters go with it
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteLink(device.ifbName)));
    tcLog()->info("op=delete-link dev={} kind=ifb reason=no-guarantees-left", device.ifbName);
    device.ifb.reset();
  }
  resetTree(tree);
  return Status::ok();
}

Status HtbBackend::removeStrayClasses(TreeState& tree) {
  if (!tree.mayHaveStrays) return Status::ok();
  for (auto it = tree.classes.begin(); it != tree.classes.end();) {
    if (tree.minorInUse(it->first)) {
      ++it;
      continue;
    }
    RETURN_IF_ERROR(ignoreNotFound(api_->deleteClass(tree.dev, it->second.handle)));
    tcLog()->info("op=delete-class dev={} classid={} reason=no-filter-references-it", tree.dev,
                  classId(it->first));
    tree.leaves.erase(it->first);
    it = tree.classes.erase(it);
  }
  tree.mayHaveStrays = false;
  return Status::ok();
}

}  // namespace bwfloor::dataplane::tc
