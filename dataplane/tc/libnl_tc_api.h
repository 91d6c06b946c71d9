#pragma once
// TcApi over rtnetlink with libnl-3 / libnl-route-3 (no `tc` subprocess).
//
// Qdiscs, classes and links are built and parsed with libnl-route objects (rtnl_qdisc,
// rtnl_class + the HTB helpers, rtnl_link). u32 filters are built and parsed here with libnl-3's
// message API, because libnl-route's u32 object cannot express what HtbBackend needs: it masks
// every key value with the key mask (rtnl_u32_add_key stores val & mask), which would erase the
// port tag (mask-0 keys, see htb_layout.h).
//
// Every request asks for an acknowledgement with extended ack enabled, so an error carries the
// kernel's errno and its explanation ("Specified class not found"), and a success that came with a
// kernel warning ("quantum of class 10012 is big") is logged at warn on logger("tc").

#include <memory>
#include <string>
#include <vector>

#include "dataplane/tc/tc_api.h"

struct nl_sock;
struct nl_msg;

namespace bwfloor::dataplane::tc {

class LibnlTcApi : public TcApi {
 public:
  // Opens a NETLINK_ROUTE socket in the network namespace of the calling thread; the object works
  // on that namespace for its whole life.
  static Result<std::unique_ptr<LibnlTcApi>> open();
  ~LibnlTcApi() override;
  LibnlTcApi(const LibnlTcApi&) = delete;
  LibnlTcApi& operator=(const LibnlTcApi&) = delete;

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
  LibnlTcApi(nl_sock* sock, int ioctlFd) : sock_(sock), ioctlFd_(ioctlFd) {}

  // Name -> ifindex per call (SIOCGIFINDEX, in this object's namespace): never a stale index.
  Result<int> ifindexOf(const std::string& dev);

  // Sends `msg` (consumed) and waits for the kernel's acknowledgement.
  Status transact(nl_msg* msg, const std::string& what);
  // Sends a dump request (consumed) and hands every answer to `onMessage`.
  Status dump(nl_msg* msg, const std::string& what, void (*onMessage)(nl_msg*, void*), void* arg);
  Status putClass(const std::string& dev, const HtbClass& cls, bool create);
  Status putFilter(const std::string& dev, const U32Filter& filter, int flags, const char* verb);
  Status setLink(const std::string& name, const std::string& what, bool up,
                 const std::string* alias);

  nl_sock* sock_;
  int ioctlFd_;
};

}  // namespace bwfloor::dataplane::tc
