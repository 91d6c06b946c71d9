#pragma once

#include "dataplane/api/link_source.h"

namespace bwfloor::dataplane {

// Reads links from the kernel with libnl-route-3 (RTM_GETLINK dump).
class NetlinkLinkSource : public LinkSource {
 public:
  Result<std::vector<LinkInfo>> listLinks() override;
};

}  // namespace bwfloor::dataplane
