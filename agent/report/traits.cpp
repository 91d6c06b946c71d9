#include "agent/report/traits.h"

namespace bwfloor::agent {

std::string normalizeTraitName(std::string_view name) {
  std::string out = "CUSTOM_";
  bool inRun = false;
  for (const char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (alnum) {
      out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
      inRun = false;
    } else if (!inRun) {
      out += '_';
      inRun = true;
    }
  }
  return out;
}

std::string physnetTrait(std::string_view physnet) {
  return normalizeTraitName("PHYSNET_" + std::string(physnet));
}

std::string vnicTypeTrait(std::string_view vnicType) {
  return normalizeTraitName("VNIC_TYPE_" + std::string(vnicType));
}

}  // namespace bwfloor::agent
