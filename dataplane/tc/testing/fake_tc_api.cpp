#include "dataplane/tc/testing/fake_tc_api.h"

#include <cerrno>

namespace bwfloor::dataplane::tc {
namespace {

constexpr size_t kIfNameMax = 15;
constexpr int kMaxLinkDepth = 7;  // TC_U32_MAXDEPTH - 1

Error kernelError(int errnum, const std::string& what) {
  ErrorCode code = ErrorCode::kKernel;
  if (errnum == EEXIST) code = ErrorCode::kAlreadyExists;
  if (errnum == ENOENT || errnum == ENODEV) code = ErrorCode::kNotFound;
  return makeError(code, what, errnum);
}

// The frame as the kernel sees it at an HTB or ingress qdisc: the network header at offset 14,
// some headroom before the Ethernet header (read as zeros), a minimum-size payload after it.
struct Packet {
  static constexpr int kHeadroom = 32;
  static constexpr int kNetwork = kHeadroom + 14;
  std::array<uint8_t, kHeadroom + 60> bytes{};
  explicit Packet(const EthernetHeader& eth) {
    for (size_t i = 0; i < eth.size(); ++i) bytes[kHeadroom + i] = eth[i];
  }
  // The big-endian word at `offset` from the network header; nullopt outside the buffer.
  std::optional<uint32_t> word(int offset) const {
    int at = kNetwork + offset;
    if (at < 0 || at + 4 > static_cast<int>(bytes.size())) return std::nullopt;
    return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) |
           (uint32_t{bytes[at + 2]} << 8) | uint32_t{bytes[at + 3]};
  }
};

int lowestSetBit(uint32_t mask) {
  for (int i = 0; i < 32; ++i) {
    if ((mask >> i) & 1u) return i;
  }
  return 0;
}

}  // namespace

void FakeTcApi::addDeviceForTest(const std::string& name, uint32_t txQueueLen,
                                 const std::string& kind) {
  Device dev;
  dev.link = TcLink{nextIfindex_++, name, kind, true, txQueueLen, ""};
  dev.root = Qdisc{0, kParentRoot, "noqueue"};
  devices_[name] = dev;
}

void FakeTcApi::removeDeviceForTest(const std::string& name) { devices_.erase(name); }

void FakeTcApi::failNextForTest(const std::string& method, Error error) {
  failures_.insert_or_assign(method, std::move(error));
}

void FakeTcApi::setClassStatsForTest(const std::string& dev, uint32_t handle,
                                     const TcStats& stats) {
  devices_.at(dev).classes.at(handle).stats = stats;
}

Status FakeTcApi::enter(const std::string& method) {
  ++calls_;
  auto it = failures_.find(method);
  if (it == failures_.end()) return Status::ok();
  Error error = it->second;
  failures_.erase(it);
  return error;
}

Result<FakeTcApi::Device*> FakeTcApi::device(const std::string& name) {
  auto it = devices_.find(name);
  if (it == devices_.end()) return kernelError(ENODEV, "device " + name + " not found");
  return &it->second;
}

const FakeTcApi::Device* FakeTcApi::findDevice(const std::string& name) const {
  auto it = devices_.find(name);
  return it == devices_.end() ? nullptr : &it->second;
}

// --- links ------------------------------------------------------------------------------------

Result<std::optional<TcLink>> FakeTcApi::getLink(const std::string& name) {
  RETURN_IF_ERROR(enter("getLink"));
  const Device* dev = findDevice(name);
  if (dev == nullptr) return std::optional<TcLink>();
  return std::optional<TcLink>(dev->link);
}

Status FakeTcApi::addIfb(const std::string& name, uint32_t txQueueLen, const std::string& alias) {
  RETURN_IF_ERROR(enter("addIfb"));
  if (name.empty() || name.size() > kIfNameMax) return kernelError(EINVAL, "bad name " + name);
  if (findDevice(name) != nullptr) return kernelError(EEXIST, "add link " + name);
  addDeviceForTest(name, txQueueLen, "ifb");
  devices_[name].link.alias = alias;
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::setLinkUp(const std::string& name) {
  RETURN_IF_ERROR(enter("setLinkUp"));
  ASSIGN_OR_RETURN(Device * dev, device(name));
  dev->link.up = true;
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::deleteLink(const std::string& name) {
  RETURN_IF_ERROR(enter("deleteLink"));
  ASSIGN_OR_RETURN(Device * dev, device(name));
  (void)dev;
  devices_.erase(name);
  ++mutations_;
  return Status::ok();
}

// --- qdiscs -----------------------------------------------------------------------------------

Result<std::vector<Qdisc>> FakeTcApi::listQdiscs(const std::string& dev) {
  RETURN_IF_ERROR(enter("listQdiscs"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  std::vector<Qdisc> out{d->root};
  if (d->ingress) out.push_back(*d->ingress);
  for (const auto& [cls, leaf] : d->leaves) out.push_back(leaf);
  return out;
}

Status FakeTcApi::addQdisc(const std::string& dev, const Qdisc& qdisc) {
  RETURN_IF_ERROR(enter("addQdisc"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const std::string what = "add qdisc " + formatHandle(qdisc.handle) + " on " + dev;
  if (qdisc.parent == kParentIngress) {
    if (d->ingress) return kernelError(EEXIST, what);
    d->ingress = qdisc;
  } else if (qdisc.parent == kParentRoot) {
    d->filters.erase(d->root.handle);  // the old root and everything under it go
    d->classes.clear();
    d->leaves.clear();
    d->bound.clear();
    d->root = qdisc;
  } else if (d->classes.count(qdisc.parent) != 0) {
    for (const auto& [cls, leaf] : d->leaves) {
      if (cls != qdisc.parent && leaf.handle == qdisc.handle) return kernelError(EEXIST, what);
    }
    if (qdisc.kind != "pfifo")
      return kernelError(EINVAL, what + ": only pfifo leaves are modelled");
    d->leaves[qdisc.parent] = qdisc;
  } else {
    return kernelError(ENOENT, what + ": Failed to find specified class");
  }
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::deleteQdisc(const std::string& dev, const Qdisc& qdisc) {
  RETURN_IF_ERROR(enter("deleteQdisc"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const std::string what = "delete qdisc " + formatHandle(qdisc.handle) + " on " + dev;
  if (qdisc.parent == kParentIngress) {
    if (!d->ingress) return kernelError(ENOENT, what);
    d->filters.erase(kIngressHandle);
    d->ingress.reset();
  } else if (qdisc.parent != kParentRoot) {
    auto leaf = d->leaves.find(qdisc.parent);
    if (leaf == d->leaves.end() || leaf->second.handle != qdisc.handle) {
      return kernelError(ENOENT, what);
    }
    d->leaves.erase(leaf);
  } else {
    if (d->root.handle == 0 || d->root.handle != qdisc.handle) return kernelError(ENOENT, what);
    d->filters.erase(d->root.handle);
    d->classes.clear();
    d->leaves.clear();
    d->bound.clear();
    d->root = Qdisc{0, kParentRoot, "noqueue"};
  }
  ++mutations_;
  return Status::ok();
}

// --- classes ----------------------------------------------------------------------------------

Result<std::vector<HtbClass>> FakeTcApi::listClasses(const std::string& dev) {
  RETURN_IF_ERROR(enter("listClasses"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  std::vector<HtbClass> out;
  for (const auto& [handle, cls] : d->classes) out.push_back(cls);
  return out;
}

Status FakeTcApi::addClass(const std::string& dev, const HtbClass& cls) {
  RETURN_IF_ERROR(enter("addClass"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const std::string what = "add class " + formatHandle(cls.handle) + " on " + dev;
  if (d->root.kind != "htb" || handleMajor(cls.handle) != handleMajor(d->root.handle)) {
    return kernelError(ENOENT, what + ": no htb qdisc with that major");
  }
  if (d->classes.count(cls.handle) != 0) return kernelError(EEXIST, what);
  if (cls.rateBytesPerSec == 0 || cls.ceilBytesPerSec == 0) return kernelError(EINVAL, what);
  HtbClass stored = cls;
  stored.stats = TcStats{};
  // As sch_htb: a parent that is not an existing class makes it a top-level class, which the
  // kernel reports with parent TC_H_ROOT.
  if (d->classes.count(cls.parent) == 0) stored.parent = kParentRoot;
  d->classes[cls.handle] = stored;
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::changeClass(const std::string& dev, const HtbClass& cls) {
  RETURN_IF_ERROR(enter("changeClass"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const std::string what = "change class " + formatHandle(cls.handle) + " on " + dev;
  auto it = d->classes.find(cls.handle);
  if (it == d->classes.end()) return kernelError(ENOENT, what);
  // As the kernel: a class keeps its place in the tree, whatever parent the change names.
  const uint32_t parent = it->second.parent;
  TcStats stats = it->second.stats;
  it->second = cls;
  it->second.parent = parent;
  it->second.stats = stats;
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::deleteClass(const std::string& dev, uint32_t handle) {
  RETURN_IF_ERROR(enter("deleteClass"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const std::string what = "delete class " + formatHandle(handle) + " on " + dev;
  if (d->classes.count(handle) == 0) return kernelError(ENOENT, what);
  for (const auto& [h, cls] : d->classes) {
    if (cls.parent == handle) return kernelError(EBUSY, what + ": class has children");
  }
  if (classInUse_) {
    for (const auto& [filter, cls] : d->bound) {
      if (cls == handle) return kernelError(EBUSY, what + ": HTB class in use");
    }
  }
  d->classes.erase(handle);
  d->leaves.erase(handle);
  ++mutations_;
  return Status::ok();
}

// --- filters ----------------------------------------------------------------------------------

Result<std::vector<U32Filter>> FakeTcApi::listFilters(const std::string& dev, uint32_t parent) {
  RETURN_IF_ERROR(enter("listFilters"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  std::vector<U32Filter> out;
  auto it = d->filters.find(parent);
  if (it != d->filters.end()) {
    for (const auto& [handle, f] : it->second) out.push_back(f);
  }
  return out;
}

Status FakeTcApi::checkFilter(const Device& d, const std::map<uint32_t, U32Filter>& table,
                              const U32Filter& f) const {
  const std::string what = "add u32 filter " + formatU32Handle(f.handle) + " on " + d.link.name;
  for (const auto& [handle, other] : table) {
    if (other.prio == f.prio && other.protocol != f.protocol) {
      return kernelError(EINVAL, what + ": another protocol at this priority");
    }
  }
  if (f.divisor != 0) {
    if (u32Node(f.handle) != 0 || u32Bucket(f.handle) != 0 || f.divisor > 256) {
      return kernelError(EINVAL, what + ": bad hash table");
    }
    return Status::ok();
  }
  if (u32Node(f.handle) == 0) return kernelError(EINVAL, what + ": node id 0");
  auto ht = table.find(makeU32Handle(u32Htid(f.handle), 0, 0));
  if (ht == table.end()) return kernelError(EINVAL, what + ": Specified hash table not found");
  if (u32Bucket(f.handle) >= ht->second.divisor) {
    return kernelError(EINVAL, what + ": bucket beyond the table's divisor");
  }
  if (f.linkHtid != 0 && table.count(makeU32Handle(f.linkHtid, 0, 0)) == 0) {
    return kernelError(EINVAL, what + ": link to a table that does not exist");
  }
  return Status::ok();
}

Status FakeTcApi::addFilter(const std::string& dev, const U32Filter& filter) {
  RETURN_IF_ERROR(enter("addFilter"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  const bool parentOk = (filter.parent == kIngressHandle && d->ingress) ||
                        (d->root.kind == "htb" && filter.parent == d->root.handle);
  if (!parentOk) return kernelError(EINVAL, "add u32 filter on " + dev + ": no such parent qdisc");
  auto& table = d->filters[filter.parent];
  // The kernel creates the root table 800: with the first u32 filter at a priority.
  const uint32_t rootTable = makeU32Handle(kU32RootHtid, 0, 0);
  if (table.count(rootTable) == 0) {
    U32Filter root;
    root.parent = filter.parent;
    root.prio = filter.prio;
    root.protocol = filter.protocol;
    root.handle = rootTable;
    root.divisor = 1;
    table[rootTable] = root;
  }
  if (table.count(filter.handle) != 0) {
    return kernelError(EEXIST, "add u32 filter " + formatU32Handle(filter.handle) + " on " + dev);
  }
  RETURN_IF_ERROR(checkFilter(*d, table, filter));
  table[filter.handle] = filter;
  if (filter.classId != 0 && d->classes.count(filter.classId) != 0) {
    d->bound[{filter.parent, filter.handle}] = filter.classId;
  }
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::changeFilter(const std::string& dev, const U32Filter& filter) {
  RETURN_IF_ERROR(enter("changeFilter"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  auto& table = d->filters[filter.parent];
  auto it = table.find(filter.handle);
  if (it == table.end()) {
    return kernelError(ENOENT,
                       "change u32 filter " + formatU32Handle(filter.handle) + " on " + dev);
  }
  // As u32_change: the selector (keys, hash offset and mask) of an existing node stays.
  it->second.classId = filter.classId;
  it->second.linkHtid = filter.linkHtid;
  it->second.redirectIfindex = filter.redirectIfindex;
  d->bound.erase({filter.parent, filter.handle});
  if (filter.classId != 0 && d->classes.count(filter.classId) != 0) {
    d->bound[{filter.parent, filter.handle}] = filter.classId;
  }
  ++mutations_;
  return Status::ok();
}

Status FakeTcApi::deleteFilter(const std::string& dev, const U32Filter& filter) {
  RETURN_IF_ERROR(enter("deleteFilter"));
  ASSIGN_OR_RETURN(Device * d, device(dev));
  auto& table = d->filters[filter.parent];
  const std::string what = "delete u32 filter " + formatU32Handle(filter.handle) + " on " + dev;
  auto it = table.find(filter.handle);
  if (it == table.end() || it->second.prio != filter.prio) return kernelError(ENOENT, what);
  if (it->second.divisor != 0) {
    for (const auto& [handle, other] : table) {
      if (other.divisor == 0 && u32Htid(handle) == u32Htid(filter.handle)) {
        return kernelError(EBUSY, what + ": hash table not empty");
      }
    }
  }
  table.erase(it);
  d->bound.erase({filter.parent, filter.handle});
  ++mutations_;
  return Status::ok();
}

// --- classification ---------------------------------------------------------------------------

const U32Filter* FakeTcApi::match(const std::map<uint32_t, U32Filter>& filters, uint32_t htid,
                                  uint32_t bucket, const EthernetHeader& frame, int depth) const {
  if (depth > kMaxLinkDepth) return nullptr;
  const Packet packet(frame);
  for (const auto& [handle, f] : filters) {  // std::map order = node order within a bucket
    if (f.divisor != 0 || u32Htid(handle) != htid || u32Bucket(handle) != bucket) continue;
    bool matched = true;
    for (const U32Key& key : f.keys) {
      std::optional<uint32_t> word = packet.word(key.offset);
      if (!word) return nullptr;  // the kernel gives up on the whole lookup
      if (((*word ^ key.value) & key.mask) != 0) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    if (f.linkHtid != 0) {
      std::optional<uint32_t> word = packet.word(f.hashOffset);
      if (!word) return nullptr;
      const uint32_t next = ((*word & f.hashMask) >> lowestSetBit(f.hashMask)) & 0xffu;
      auto table = filters.find(makeU32Handle(f.linkHtid, 0, 0));
      const uint32_t divisor = table == filters.end() ? 1 : table->second.divisor;
      if (const U32Filter* hit =
              match(filters, f.linkHtid, next & (divisor - 1), frame, depth + 1)) {
        return hit;
      }
      continue;  // nothing in the linked table: back to the next node here
    }
    if (f.classId != 0 || f.redirectIfindex != 0) return &f;
  }
  return nullptr;
}

uint32_t FakeTcApi::classifyForTest(const std::string& dev, const EthernetHeader& frame) const {
  const Device* d = findDevice(dev);
  if (d == nullptr || d->root.kind != "htb") return 0;
  auto it = d->filters.find(d->root.handle);
  if (it == d->filters.end()) return 0;
  const U32Filter* hit = match(it->second, kU32RootHtid, 0, frame, 0);
  return hit == nullptr ? 0 : hit->classId;
}

int FakeTcApi::ingressRedirectForTest(const std::string& dev, const EthernetHeader& frame) const {
  const Device* d = findDevice(dev);
  if (d == nullptr || !d->ingress) return 0;
  auto it = d->filters.find(kIngressHandle);
  if (it == d->filters.end()) return 0;
  const U32Filter* hit = match(it->second, kU32RootHtid, 0, frame, 0);
  return hit == nullptr ? 0 : hit->redirectIfindex;
}

}  // namespace bwfloor::dataplane::tc
