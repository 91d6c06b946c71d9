#pragma once
// VfApi over rtnetlink with libmnl (no `ip` subprocess): RTM_GETLINK with RTEXT_FILTER_VF to read,
// RTM_SETLINK with IFLA_VF_RATE to write (messages: vf_message.h).
//
// listVfs(kConfig) asks without VF statistics (RTEXT_FILTER_SKIP_STATS): the VF list is one
// attribute of at most 64 kB (see vf_message.h), ~330 VFs without statistics, ~220 with them.
// listVfs(kWithStats) asks with them and, when the list comes back cut short, again without them
// (stats then nullopt). A list that is still short is an error (kUnsupported), never a PF that
// seems to have fewer VFs.
//
// Every request asks for an acknowledgement with extended ack enabled, so an error carries the
// kernel's errno and its explanation when it gives one, and a success that came with a kernel
// warning is logged at warn on logger("sriov"). Answers are received into a buffer sized from the
// kernel's datagram (MSG_PEEK | MSG_TRUNC): a PF with hundreds of VFs answers with tens of kB.
// A request the kernel does not answer within 5 s fails with kUnavailable.
//
// Not thread-safe: VfRateBackend serialises its calls.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/sriov/vf_api.h"

struct mnl_socket;
struct nlmsghdr;

namespace bwfloor::dataplane::sriov {

struct LinkVfs;

class MnlVfApi : public VfApi {
 public:
  // Opens a NETLINK_ROUTE socket in the network namespace of the calling thread; the object works
  // on that namespace for its whole life.
  static Result<std::unique_ptr<MnlVfApi>> open();
  ~MnlVfApi() override;
  MnlVfApi(const MnlVfApi&) = delete;
  MnlVfApi& operator=(const MnlVfApi&) = delete;

  Result<std::vector<VfState>> listVfs(const std::string& pf, VfRead read) override;
  Status setVfRate(const std::string& pf, uint32_t vf, uint32_t minTxRateMbps,
                   uint32_t maxTxRateMbps) override;

 private:
  MnlVfApi(mnl_socket* sock, uint32_t portId) : sock_(sock), portId_(portId) {}

  // Sends `request` (whose sequence number is seq) and reads the answers up to the kernel's
  // acknowledgement; every other message of this request goes to `onMessage`. Messages of earlier
  // requests (answered after a timeout) are skipped.
  Result<LinkVfs> getLink(const std::string& pf, bool withStats);
  Status transact(const std::vector<uint8_t>& request, uint32_t seq, const std::string& what,
                  const std::function<Status(const nlmsghdr*)>& onMessage);

  mnl_socket* sock_;
  uint32_t portId_;
  uint32_t seq_ = 0;
};

}  // namespace bwfloor::dataplane::sriov
