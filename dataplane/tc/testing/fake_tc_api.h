#pragma once
// FakeTcApi: an in-memory model of the kernel objects TcApi manages (links, root and ingress
// qdiscs, an HTB class tree keyed by handle, u32 filters with hash tables), with the kernel's rules
// and errno values for the cases HtbBackend meets: a class needs its parent, a u32 node needs its
// table and bucket, "change" cannot change u32 keys, deleting a qdisc takes its classes and filters
// along, deleting a link takes everything on it. Tests only (target bwfloor_dataplane_tc_testing).
//
// Because the same fake outlives backend instances, a test can "restart" the agent by creating a
// new HtbBackend over it, and simulate drift by calling the TcApi methods itself (what an operator
// does with `tc class del`).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/tc/tc_api.h"

namespace bwfloor::dataplane::tc {

using EthernetHeader = std::array<uint8_t, 14>;  // dst MAC, src MAC, ethertype

class FakeTcApi : public TcApi {
 public:
  // A device that exists "in the kernel", with the default root qdisc (noqueue, handle 0).
  void addDeviceForTest(const std::string& name, uint32_t txQueueLen = 1000,
                        const std::string& kind = "veth");
  void removeDeviceForTest(const std::string& name);
  // The next call of `method` ("addClass", "addFilter", "addIfb", ...) fails with `error`.
  void failNextForTest(const std::string& method, Error error);
  // Successful calls that changed something, since construction.
  int mutationsForTest() const { return mutations_; }
  int callsForTest() const { return calls_; }
  void setClassStatsForTest(const std::string& dev, uint32_t handle, const TcStats& stats);
  // As the kernel (sch_htb: "HTB class in use"), refuse with EBUSY to delete a class that a
  // filter is bound to. The kernel binds a filter to the class of its flowid when that class
  // exists as the filter is added or changed (a filter made before its class stays unbound). Off
  // by default.
  void modelClassInUseForTest(bool on) { classInUse_ = on; }

  // What the kernel's u32 would do with a frame on `dev`: the flowid it picks on the root HTB
  // (0: none, the HTB default class takes it) and the ifindex the ingress qdisc redirects it to
  // (0: none). Walks the tables, links, buckets and keys exactly as u32_classify does.
  uint32_t classifyForTest(const std::string& dev, const EthernetHeader& frame) const;
  int ingressRedirectForTest(const std::string& dev, const EthernetHeader& frame) const;

  Result<std::optional<TcLink>> getLink(const std::string& name) override;
  Status addIfb(const std::string& name, uint32_t txQueueLen, const std::string& alias) override;
  Status setLinkUp(const std::string& name) override;
  Status deleteLink(const std::string& name) override;

  Result<std::vector<Qdisc>> listQdiscs(const std::string& dev) override;
  Status addQdisc(const std::string& dev, const Qdisc& qdisc) override;
  Status deleteQdisc(const std::string& dev, const Qdisc& qdisc) override;

  Result<std::vector<HtbClass>> listClasses(const std::string& dev) override;
  Status addClass(const std::string& dev, const HtbClass& cls) override;
  Status changeClass(const std::string& dev, const HtbClass& cls) override;
  Status deleteClass(const std::string& dev, uint32_t handle) override;

  Result<std::vector<U32Filter>> listFilters(const std::string& dev, uint32_t parent) override;
  Status addFilter(const std::string& dev, const U32Filter& filter) override;
  Status changeFilter(const std::string& dev, const U32Filter& filter) override;
  Status deleteFilter(const std::string& dev, const U32Filter& filter) override;

 private:
  struct Device {
    TcLink link;
    Qdisc root;  // kind "noqueue", handle 0 when nothing was added
    std::optional<Qdisc> ingress;
    std::map<uint32_t, HtbClass> classes;  // by handle
    std::map<uint32_t, Qdisc> leaves;      // leaf qdiscs added under a class, by class handle
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> bound;  // (parent, filter) -> its class
    // parent qdisc handle -> filter handle -> filter (u32 tables included, as the kernel dumps
    // them)
    std::map<uint32_t, std::map<uint32_t, U32Filter>> filters;
  };

  Status enter(const std::string& method);  // counts the call, applies an injected failure
  Result<Device*> device(const std::string& name);
  const Device* findDevice(const std::string& name) const;
  Status checkFilter(const Device& dev, const std::map<uint32_t, U32Filter>& table,
                     const U32Filter& filter) const;
  const U32Filter* match(const std::map<uint32_t, U32Filter>& filters, uint32_t htid,
                         uint32_t bucket, const EthernetHeader& frame, int depth) const;

  std::map<std::string, Device> devices_;
  std::map<std::string, Error> failures_;
  bool classInUse_ = false;
  int nextIfindex_ = 2;
  int mutations_ = 0;
  int calls_ = 0;
};

}  // namespace bwfloor::dataplane::tc
