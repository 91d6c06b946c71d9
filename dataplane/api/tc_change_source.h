#pragma once
// Where the agent learns that someone changed traffic control on the host: a qdisc, class or
// filter added, changed or deleted (rtnetlink group RTNLGRP_TC). The agent does not trust the
// message's content (anyone may have sent the change, and it re-reads the kernel anyway); it
// uses the event only as the cue to compare the kernel with what it wants, at once instead of at
// the next resync. The netlink implementation is dataplane/netlink/tc_change_netlink.h.

#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::dataplane {

struct TcChange {
  enum class Type { kQdisc, kClass, kFilter, kOverflow };  // kOverflow: events were lost
  Type type = Type::kQdisc;
  bool deleted = false;  // RTM_DEL*: something went away (the usual drift)
  int ifindex = 0;
  uint32_t handle = 0;
  bool operator==(const TcChange&) const = default;
};

// "deleted class 1:12 on ifindex 4", for logs.
std::string describe(const TcChange& change);

class TcChangeSource {
 public:
  virtual ~TcChangeSource() = default;
  // A file descriptor to poll() for POLLIN.
  virtual int fd() const = 0;
  // Every change queued now (possibly none); an error when the socket failed.
  virtual Result<std::vector<TcChange>> read() = 0;
};

}  // namespace bwfloor::dataplane
