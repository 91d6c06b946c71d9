#pragma once
// Reads the Open_vSwitch database's bridges, ports and interfaces from ovsdb-server through
// libopenvswitch's OVSDB IDL (the C shim in ovsdb_idl_shim.c).
//
// libopenvswitch and the process (what an executable linking this must know):
// - Each readBridges() opens its own connection, waits for one consistent snapshot of the
//   Bridge/Port/Interface rows, copies it and disconnects: no state survives between calls, and a
//   restarted ovsdb-server needs no reconnect logic. Calls are serialized process-wide; the agent
//   should still make them from its one event-loop thread (readBridges() blocks up to the timeout).
// - No retry inside: a missing or refused socket fails at once with kUnavailable; the caller
//   retries with its own backoff (STYLE.md §4).
// - OVS's log (vlog) is set to WARN on first use; its messages go to stderr in OVS's format.
// - The first call initializes OVS's fatal-signal module (a self-pipe) but keeps the dispositions
//   of SIGTERM/SIGINT/SIGHUP/SIGALRM/SIGSEGV as they were; SIGPIPE is blocked in the calling thread
//   while a read runs, so a server closing the socket cannot kill the process.

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "dataplane/ovs/ovs_bridge.h"

namespace bwfloor::dataplane {

class OvsdbBridgeReader : public OvsBridgeSource {
 public:
  // Where Debian's openvswitch-switch serves the database.
  static constexpr const char* kDefaultRemote = "unix:/var/run/openvswitch/db.sock";
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  // `remote` is an active OVSDB remote: "unix:PATH" or "tcp:IP:PORT" (no SSL: libopenvswitch is
  // built without it). `timeout` bounds connecting plus receiving the contents.
  explicit OvsdbBridgeReader(std::string remote = kDefaultRemote,
                             std::chrono::milliseconds timeout = kDefaultTimeout);

  // Every bridge, sorted by name, with its ports and their interfaces sorted by name.
  // Errors: kUnavailable (cannot connect, connection closed, no Open_vSwitch database, timeout;
  // sysErrno() holds the socket errno when there is one), kInvalidArgument (not an active remote),
  // kUnsupported (built with BWFLOOR_WITH_OPENVSWITCH=OFF). Messages name the remote.
  Result<std::vector<OvsBridge>> readBridges() override;

  const std::string& remote() const { return remote_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  std::string remote_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bwfloor::dataplane
