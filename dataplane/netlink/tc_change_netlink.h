#pragma once
// TcChangeSource on a NETLINK_ROUTE socket subscribed to RTNLGRP_TC (non-blocking). Messages
// are parsed by parseTcChanges, which trusts no length in them (it is fuzzed).

#include <cstddef>
#include <memory>

#include "dataplane/api/tc_change_source.h"

namespace bwfloor::dataplane {

class NetlinkTcChangeSource : public TcChangeSource {
 public:
  // Opens and binds the socket in the caller's network namespace.
  static Result<std::unique_ptr<NetlinkTcChangeSource>> open();
  ~NetlinkTcChangeSource() override;
  NetlinkTcChangeSource(const NetlinkTcChangeSource&) = delete;
  NetlinkTcChangeSource& operator=(const NetlinkTcChangeSource&) = delete;

  int fd() const override { return fd_; }
  Result<std::vector<TcChange>> read() override;

 private:
  explicit NetlinkTcChangeSource(int fd) : fd_(fd) {}
  int fd_;
};

// The tc changes in one datagram of netlink messages; other message types are skipped, and a
// truncated message ends the parse.
std::vector<TcChange> parseTcChanges(const void* data, size_t length);

}  // namespace bwfloor::dataplane
