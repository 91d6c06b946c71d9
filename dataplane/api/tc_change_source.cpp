#include "dataplane/api/tc_change_source.h"

#include <cstdio>

namespace bwfloor::dataplane {

std::string describe(const TcChange& change) {
  if (change.type == TcChange::Type::kOverflow) return "tc events lost (socket overrun)";
  const char* what = change.type == TcChange::Type::kQdisc   ? "qdisc"
                     : change.type == TcChange::Type::kClass ? "class"
                                                             : "filter";
  char handle[16];
  std::snprintf(handle, sizeof(handle), "%x:%x", change.handle >> 16, change.handle & 0xffff);
  return std::string(change.deleted ? "deleted " : "new/changed ") + what + " " + handle +
         " on ifindex " + std::to_string(change.ifindex);
}

}  // namespace bwfloor::dataplane
