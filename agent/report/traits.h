#pragma once
// Trait names as Neutron derives them (os_traits.normalize_name):
//   "CUSTOM_" + re.sub("[^0-9A-Za-z]+", "_", name).upper()
// A run of other characters becomes one '_': physnet "physnet-0.a" -> CUSTOM_PHYSNET_PHYSNET_0_A.

#include <string>
#include <string_view>

namespace bwfloor::agent {

std::string normalizeTraitName(std::string_view name);
// CUSTOM_PHYSNET_<physnet>
std::string physnetTrait(std::string_view physnet);
// CUSTOM_VNIC_TYPE_<vnic type>, e.g. "direct-physical" -> CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL
std::string vnicTypeTrait(std::string_view vnicType);

}  // namespace bwfloor::agent
