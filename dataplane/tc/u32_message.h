#pragma once
// Building and parsing u32 filter messages (RTM_NEWTFILTER / RTM_DELTFILTER / dump answers) with
// libnl-3's message API. Free functions, so they are unit-tested on in-memory messages.

#include <optional>

#include "dataplane/tc/tc_api.h"

struct nl_msg;

namespace bwfloor::dataplane::tc {

// A request for `filter` on device `ifindex`: type RTM_NEWTFILTER (with options) or RTM_DELTFILTER
// (kind and handle only). nullptr when out of memory. The caller owns the message (nlmsg_free).
nl_msg* buildU32Message(int type, int flags, int ifindex, const U32Filter& filter);

// A filter from a dump answer or a request; nullopt for the per-priority header the kernel sends
// before the nodes. Filters of other kinds come back with only their address and kind.
std::optional<U32Filter> parseU32Message(nl_msg* msg);

}  // namespace bwfloor::dataplane::tc
