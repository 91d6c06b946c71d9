#include "dataplane/tc/tc_api.h"

#include <algorithm>
#include <cstdio>

namespace bwfloor::dataplane::tc {
namespace {

// Bucket sizes come back from the kernel as a transmit time at the class's rate and are converted
// back to bytes, which loses a little; 1 % (at least 64 bytes) is "the same bucket".
bool sameBucket(uint32_t a, uint32_t b) {
  uint32_t diff = a > b ? a - b : b - a;
  uint32_t tolerance = std::max<uint32_t>(64, std::max(a, b) / 100);
  return diff <= tolerance;
}

}  // namespace

std::string formatHandle(uint32_t handle) {
  if (handle == kParentRoot) return "root";
  if (handle == kParentIngress) return "ingress";
  char buf[24];
  if (handleMinor(handle) == 0) {
    std::snprintf(buf, sizeof(buf), "%x:", handleMajor(handle));
  } else {
    std::snprintf(buf, sizeof(buf), "%x:%x", handleMajor(handle), handleMinor(handle));
  }
  return buf;
}

std::string formatU32Handle(uint32_t handle) {
  // As tc prints them: "800::800", "10:a:12", "10:".
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%x:", u32Htid(handle));
  if (u32Bucket(handle) != 0) n += std::snprintf(buf + n, sizeof(buf) - n, "%x", u32Bucket(handle));
  if (u32Node(handle) != 0) std::snprintf(buf + n, sizeof(buf) - n, ":%x", u32Node(handle));
  return buf;
}

bool HtbClass::sameConfig(const HtbClass& other) const {
  return handle == other.handle && parent == other.parent &&
         rateBytesPerSec == other.rateBytesPerSec && ceilBytesPerSec == other.ceilBytesPerSec &&
         quantumBytes == other.quantumBytes && sameBucket(burstBytes, other.burstBytes) &&
         sameBucket(cburstBytes, other.cburstBytes);
}

}  // namespace bwfloor::dataplane::tc
