#include "dataplane/tc/libnl_tc_api.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/logging.h"
#include "dataplane/tc/u32_message.h"

namespace bwfloor::dataplane::tc {
namespace {

struct MsgFree {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

template <typename T, void (*Put)(T*)>
struct ObjPut {
  void operator()(T* obj) const { Put(obj); }
};
using QdiscPtr = std::unique_ptr<rtnl_qdisc, ObjPut<rtnl_qdisc, rtnl_qdisc_put>>;
using ClassPtr = std::unique_ptr<rtnl_class, ObjPut<rtnl_class, rtnl_class_put>>;
using LinkPtr = std::unique_ptr<rtnl_link, ObjPut<rtnl_link, rtnl_link_put>>;

ErrorCode codeForErrno(int err) {
  switch (err) {
    case EEXIST:
      return ErrorCode::kAlreadyExists;
    case ENOENT:
    case ENODEV:
      return ErrorCode::kNotFound;
    case EPERM:
    case EACCES:
      return ErrorCode::kPermissionDenied;
    case EOPNOTSUPP:
      return ErrorCode::kUnsupported;
    default:
      return ErrorCode::kKernel;
  }
}

Error nlError(const std::string& what, int nlErr) {
  return makeError(ErrorCode::kKernel, what + ": libnl: " + nl_geterror(nlErr));
}

// The kernel's answer to one request.
struct Ack {
  bool done = false;
  int errnum = 0;      // positive errno, 0 = success
  std::string extack;  // NLMSGERR_ATTR_MSG: an error's explanation, or a warning on success
};

std::string extackMessage(const nlmsghdr* hdr) {
  if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return "";
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  offset = NLMSG_ALIGN(offset);
  if (offset >= hdr->nlmsg_len) return "";
  nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
  auto* attrs =
      reinterpret_cast<nlattr*>(const_cast<char*>(reinterpret_cast<const char*>(hdr)) + offset);
  if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, static_cast<int>(hdr->nlmsg_len - offset), nullptr) <
          0 ||
      tb[NLMSGERR_ATTR_MSG] == nullptr) {
    return "";
  }
  return nla_get_string(tb[NLMSGERR_ATTR_MSG]);
}

int onError(sockaddr_nl* /*who*/, nlmsgerr* err, void* arg) {
  auto* ack = static_cast<Ack*>(arg);
  ack->done = true;
  ack->errnum = -err->error;
  const auto* hdr = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<char*>(err) - NLMSG_HDRLEN);
  ack->extack = extackMessage(hdr);
  return NL_STOP;
}

int onAck(nl_msg* msg, void* arg) {
  auto* ack = static_cast<Ack*>(arg);
  ack->done = true;
  ack->extack = extackMessage(nlmsg_hdr(msg));
  return NL_STOP;
}

int onFinish(nl_msg* /*msg*/, void* arg) {
  static_cast<Ack*>(arg)->done = true;
  return NL_STOP;
}

struct DumpContext {
  void (*onMessage)(nl_msg*, void*);
  void* arg;
};

int onValid(nl_msg* msg, void* arg) {
  auto* ctx = static_cast<DumpContext*>(arg);
  ctx->onMessage(msg, ctx->arg);
  return NL_OK;
}

nl_msg* tcRequest(int type, int flags, int ifindex, uint32_t handle = 0, uint32_t parent = 0) {
  nl_msg* msg = nlmsg_alloc_simple(type, flags);
  if (msg == nullptr) return nullptr;
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_handle = handle;
  tcm.tcm_parent = parent;
  if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0) {
    nlmsg_free(msg);
    return nullptr;
  }
  return msg;
}

std::string on(const std::string& dev) { return " on " + dev; }

}  // namespace

Result<std::unique_ptr<LibnlTcApi>> LibnlTcApi::open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return makeError(ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sock);
    return nlError("connect NETLINK_ROUTE", err);
  }
  // Errors and warnings with the kernel's text; acks without a copy of the request.
  const int one = 1;
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  nl_socket_enable_msg_peek(sock);  // dumps of thousands of filters come in large messages
  // For SIOCGIFINDEX: an ioctl answers for the namespace its socket was created in, like sock.
  int ioctlFd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ioctlFd < 0) {
    int err = errno;
    nl_socket_free(sock);
    return makeError(ErrorCode::kInternal, "socket(AF_UNIX) for interface lookups", err);
  }
  return std::unique_ptr<LibnlTcApi>(new LibnlTcApi(sock, ioctlFd));
}

LibnlTcApi::~LibnlTcApi() {
  nl_socket_free(sock_);
  close(ioctlFd_);
}

Result<int> LibnlTcApi::ifindexOf(const std::string& dev) {
  ifreq req{};
  if (dev.empty() || dev.size() >= sizeof(req.ifr_name)) {
    return makeError(ErrorCode::kInvalidArgument, "bad device name \"" + dev + "\"");
  }
  std::memcpy(req.ifr_name, dev.c_str(), dev.size() + 1);
  if (ioctl(ioctlFd_, SIOCGIFINDEX, &req) < 0) {
    int err = errno;
    return makeError(codeForErrno(err), "device " + dev + " not found", err);
  }
  return req.ifr_ifindex;
}

Status LibnlTcApi::transact(nl_msg* raw, const std::string& what) {
  MsgPtr msg(raw);
  if (!msg) return makeError(ErrorCode::kInternal, what + ": out of memory building the request");
  if (int err = nl_send_auto(sock_, msg.get()); err < 0) return nlError(what, err);
  Ack ack;
  nl_cb* cb = nl_cb_clone(nl_socket_get_cb(sock_));
  nl_cb_err(cb, NL_CB_CUSTOM, onError, &ack);
  nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, onAck, &ack);
  int err = 0;
  while (!ack.done && err >= 0) err = nl_recvmsgs(sock_, cb);
  nl_cb_put(cb);
  if (!ack.done) return nlError(what, err);
  if (ack.errnum != 0) {
    std::string text = what + (ack.extack.empty() ? "" : ": " + ack.extack);
    return makeError(codeForErrno(ack.errnum), text, ack.errnum);
  }
  if (!ack.extack.empty()) logger("tc")->warn("kernel warning: {}: {}", what, ack.extack);
  return Status::ok();
}

Status LibnlTcApi::dump(nl_msg* raw, const std::string& what, void (*onMessage)(nl_msg*, void*),
                        void* arg) {
  MsgPtr msg(raw);
  if (!msg) return makeError(ErrorCode::kInternal, what + ": out of memory building the request");
  if (int err = nl_send_auto(sock_, msg.get()); err < 0) return nlError(what, err);
  Ack ack;
  DumpContext ctx{onMessage, arg};
  nl_cb* cb = nl_cb_clone(nl_socket_get_cb(sock_));
  nl_cb_err(cb, NL_CB_CUSTOM, onError, &ack);
  nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, onFinish, &ack);
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, onValid, &ctx);
  int err = 0;
  while (!ack.done && err >= 0) err = nl_recvmsgs(sock_, cb);
  nl_cb_put(cb);
  if (!ack.done) return nlError(what, err);
  if (ack.errnum != 0) {
    return makeError(codeForErrno(ack.errnum), what + (ack.extack.empty() ? "" : ": " + ack.extack),
                     ack.errnum);
  }
  return Status::ok();
}

// --- links ------------------------------------------------------------------------------------

Result<std::optional<TcLink>> LibnlTcApi::getLink(const std::string& name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return std::optional<TcLink>();
  if (err < 0) return nlError("get link " + name, err);
  LinkPtr link(raw);
  TcLink out;
  out.ifindex = rtnl_link_get_ifindex(link.get());
  out.name = rtnl_link_get_name(link.get());
  if (const char* type = rtnl_link_get_type(link.get())) out.kind = type;
  out.up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;
  out.txQueueLen = rtnl_link_get_txqlen(link.get());
  out.mtu = rtnl_link_get_mtu(link.get());
  if (const char* alias = rtnl_link_get_ifalias(link.get())) out.alias = alias;
  return std::optional<TcLink>(out);
}

Status LibnlTcApi::addIfb(const std::string& name, uint32_t txQueueLen, const std::string& alias) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return makeError(ErrorCode::kInternal, "rtnl_link_alloc failed");
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_set_type(link.get(), "ifb"); err < 0) {
    return nlError("add link " + name + " type ifb", err);
  }
  rtnl_link_set_txqlen(link.get(), txQueueLen);
  rtnl_link_set_flags(link.get(), IFF_UP);
  nl_msg* msg = nullptr;
  if (int err = rtnl_link_build_add_request(link.get(), NLM_F_CREATE | NLM_F_EXCL, &msg); err < 0) {
    return nlError("add link " + name, err);
  }
  RETURN_IF_ERROR(transact(msg, "add link " + name + " type ifb"));
  // The alias is not applied when a link is created, only when it is changed.
  return setLink(name, "set alias of " + name, true, &alias);
}

Status LibnlTcApi::setLinkUp(const std::string& name) {
  return setLink(name, "set link " + name + " up", true, nullptr);
}

Status LibnlTcApi::setLink(const std::string& name, const std::string& what, bool up,
                           const std::string* alias) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return makeError(ErrorCode::kInternal, "rtnl_link_alloc failed");
  rtnl_link_set_name(link.get(), name.c_str());
  if (up) rtnl_link_set_flags(link.get(), IFF_UP);
  if (alias != nullptr) rtnl_link_set_ifalias(link.get(), alias->c_str());
  nl_msg* msg = nullptr;
  if (int err = rtnl_link_build_add_request(link.get(), 0, &msg); err < 0)
    return nlError(what, err);
  return transact(msg, what);
}

Status LibnlTcApi::deleteLink(const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return makeError(ErrorCode::kInternal, "rtnl_link_alloc failed");
  rtnl_link_set_name(link.get(), name.c_str());
  nl_msg* msg = nullptr;
  if (int err = rtnl_link_build_delete_request(link.get(), &msg); err < 0) {
    return nlError("delete link " + name, err);
  }
  return transact(msg, "delete link " + name);
}

// --- qdiscs -----------------------------------------------------------------------------------

Result<std::vector<Qdisc>> LibnlTcApi::listQdiscs(const std::string& dev) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  struct Ctx {
    int ifindex;
    std::vector<Qdisc> out;
  } ctx{ifindex, {}};
  auto onMessage = [](nl_msg* msg, void* arg) {
    nl_msg_parse(
        msg,
        [](nl_object* obj, void* a) {
          auto* c = static_cast<Ctx*>(a);
          auto* q = reinterpret_cast<rtnl_qdisc*>(obj);
          if (rtnl_tc_get_ifindex(TC_CAST(q)) != c->ifindex) return;
          Qdisc out;
          out.handle = rtnl_tc_get_handle(TC_CAST(q));
          out.parent = rtnl_tc_get_parent(TC_CAST(q));
          if (const char* kind = rtnl_tc_get_kind(TC_CAST(q))) out.kind = kind;
          if (out.kind == "htb") {
            out.htbDefaultMinor = rtnl_htb_get_defcls(q);
            out.htbRate2Quantum = rtnl_htb_get_rate2quantum(q);
          } else if (out.kind == "pfifo") {
            const int limit = rtnl_qdisc_fifo_get_limit(q);
            out.fifoLimitPackets = limit > 0 ? static_cast<uint32_t>(limit) : 0;
          }
          c->out.push_back(out);
        },
        arg);
  };
  RETURN_IF_ERROR(
      dump(tcRequest(RTM_GETQDISC, NLM_F_DUMP, ifindex), "list qdiscs" + on(dev), onMessage, &ctx));
  return std::move(ctx.out);
}

Status LibnlTcApi::addQdisc(const std::string& dev, const Qdisc& qdisc) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  QdiscPtr q(rtnl_qdisc_alloc());
  if (!q) return makeError(ErrorCode::kInternal, "rtnl_qdisc_alloc failed");
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_handle(TC_CAST(q.get()), qdisc.handle);
  rtnl_tc_set_parent(TC_CAST(q.get()), qdisc.parent);
  const std::string what = "add qdisc " + qdisc.kind + " " + formatHandle(qdisc.handle) + on(dev);
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), qdisc.kind.c_str()); err < 0) {
    return nlError(what, err);
  }
  if (qdisc.kind == "htb") {
    rtnl_htb_set_defcls(q.get(), qdisc.htbDefaultMinor);
    rtnl_htb_set_rate2quantum(q.get(), qdisc.htbRate2Quantum);
  } else if (qdisc.kind == "pfifo" && qdisc.fifoLimitPackets > 0) {
    if (int err = rtnl_qdisc_fifo_set_limit(q.get(), static_cast<int>(qdisc.fifoLimitPackets));
        err < 0) {
      return nlError(what, err);
    }
  }
  const int flags = NLM_F_CREATE | (qdisc.parent == kParentIngress ? NLM_F_EXCL : NLM_F_REPLACE);
  nl_msg* msg = nullptr;
  if (int err = rtnl_qdisc_build_add_request(q.get(), flags, &msg); err < 0) {
    return nlError(what, err);
  }
  return transact(msg, what);
}

Status LibnlTcApi::deleteQdisc(const std::string& dev, const Qdisc& qdisc) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  return transact(tcRequest(RTM_DELQDISC, 0, ifindex, qdisc.handle, qdisc.parent),
                  "delete qdisc " + formatHandle(qdisc.handle) + on(dev));
}

// --- classes ----------------------------------------------------------------------------------

Result<std::vector<HtbClass>> LibnlTcApi::listClasses(const std::string& dev) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  std::vector<HtbClass> out;
  auto onMessage = [](nl_msg* msg, void* arg) {
    nl_msg_parse(
        msg,
        [](nl_object* obj, void* a) {
          auto* cls = reinterpret_cast<rtnl_class*>(obj);
          const char* kind = rtnl_tc_get_kind(TC_CAST(cls));
          if (kind == nullptr || std::string_view(kind) != "htb") return;
          HtbClass c;
          c.handle = rtnl_tc_get_handle(TC_CAST(cls));
          c.parent = rtnl_tc_get_parent(TC_CAST(cls));
          rtnl_htb_get_rate64(cls, &c.rateBytesPerSec);
          rtnl_htb_get_ceil64(cls, &c.ceilBytesPerSec);
          c.burstBytes = rtnl_htb_get_rbuffer(cls);
          c.cburstBytes = rtnl_htb_get_cbuffer(cls);
          c.quantumBytes = rtnl_htb_get_quantum(cls);
          c.stats.bytes = rtnl_tc_get_stat(TC_CAST(cls), RTNL_TC_BYTES);
          c.stats.packets = rtnl_tc_get_stat(TC_CAST(cls), RTNL_TC_PACKETS);
          c.stats.drops = rtnl_tc_get_stat(TC_CAST(cls), RTNL_TC_DROPS);
          c.stats.overlimits = rtnl_tc_get_stat(TC_CAST(cls), RTNL_TC_OVERLIMITS);
          c.stats.backlogBytes = rtnl_tc_get_stat(TC_CAST(cls), RTNL_TC_BACKLOG);
          static_cast<std::vector<HtbClass>*>(a)->push_back(c);
        },
        arg);
  };
  RETURN_IF_ERROR(dump(tcRequest(RTM_GETTCLASS, NLM_F_DUMP, ifindex), "list classes" + on(dev),
                       onMessage, &out));
  return out;
}

Status LibnlTcApi::putClass(const std::string& dev, const HtbClass& cls, bool create) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  const std::string what =
      std::string(create ? "add" : "change") + " class " + formatHandle(cls.handle) + on(dev);
  ClassPtr c(rtnl_class_alloc());
  if (!c) return makeError(ErrorCode::kInternal, "rtnl_class_alloc failed");
  rtnl_tc_set_ifindex(TC_CAST(c.get()), ifindex);
  rtnl_tc_set_handle(TC_CAST(c.get()), cls.handle);
  // A top-level class is asked for with the qdisc as parent (libnl insists on equal majors) and
  // reported by the kernel with parent TC_H_ROOT.
  const uint32_t parent =
      cls.parent == kParentRoot ? makeHandle(handleMajor(cls.handle), 0) : cls.parent;
  rtnl_tc_set_parent(TC_CAST(c.get()), parent);
  if (int err = rtnl_tc_set_kind(TC_CAST(c.get()), "htb"); err < 0) return nlError(what, err);
  rtnl_htb_set_rate64(c.get(), cls.rateBytesPerSec);
  rtnl_htb_set_ceil64(c.get(), cls.ceilBytesPerSec);
  rtnl_htb_set_rbuffer(c.get(), cls.burstBytes);
  rtnl_htb_set_cbuffer(c.get(), cls.cburstBytes);
  rtnl_htb_set_quantum(c.get(), cls.quantumBytes);
  nl_msg* msg = nullptr;
  const int flags = create ? NLM_F_CREATE | NLM_F_EXCL : 0;
  if (int err = rtnl_class_build_add_request(c.get(), flags, &msg); err < 0) {
    return nlError(what, err);
  }
  // Some libnl versions add NLM_F_CREATE; a change must not create a class that is not there.
  if (!create) nlmsg_hdr(msg)->nlmsg_flags &= ~static_cast<uint16_t>(NLM_F_CREATE);
  return transact(msg, what);
}

Status LibnlTcApi::addClass(const std::string& dev, const HtbClass& cls) {
  return putClass(dev, cls, true);
}

Status LibnlTcApi::changeClass(const std::string& dev, const HtbClass& cls) {
  return putClass(dev, cls, false);
}

Status LibnlTcApi::deleteClass(const std::string& dev, uint32_t handle) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  return transact(tcRequest(RTM_DELTCLASS, 0, ifindex, handle, 0),
                  "delete class " + formatHandle(handle) + on(dev));
}

// --- filters ----------------------------------------------------------------------------------

Result<std::vector<U32Filter>> LibnlTcApi::listFilters(const std::string& dev, uint32_t parent) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  std::vector<U32Filter> out;
  auto onMessage = [](nl_msg* msg, void* arg) {
    if (std::optional<U32Filter> f = parseU32Message(msg)) {
      static_cast<std::vector<U32Filter>*>(arg)->push_back(std::move(*f));
    }
  };
  RETURN_IF_ERROR(dump(tcRequest(RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, parent),
                       "list filters of " + formatHandle(parent) + on(dev), onMessage, &out));
  return out;
}

Status LibnlTcApi::putFilter(const std::string& dev, const U32Filter& filter, int flags,
                             const char* verb) {
  ASSIGN_OR_RETURN(int ifindex, ifindexOf(dev));
  const int type = std::string_view(verb) == "delete" ? RTM_DELTFILTER : RTM_NEWTFILTER;
  return transact(buildU32Message(type, flags, ifindex, filter),
                  std::string(verb) + " u32 filter " + formatU32Handle(filter.handle) + " prio " +
                      std::to_string(filter.prio) + " parent " + formatHandle(filter.parent) +
                      on(dev));
}

Status LibnlTcApi::addFilter(const std::string& dev, const U32Filter& filter) {
  return putFilter(dev, filter, NLM_F_CREATE | NLM_F_EXCL, "add");
}

Status LibnlTcApi::changeFilter(const std::string& dev, const U32Filter& filter) {
  return putFilter(dev, filter, 0, "change");
}

Status LibnlTcApi::deleteFilter(const std::string& dev, const U32Filter& filter) {
  return putFilter(dev, filter, 0, "delete");
}

}  // namespace bwfloor::dataplane::tc
