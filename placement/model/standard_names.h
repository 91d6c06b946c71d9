#pragma once
// Standard trait and resource-class names (generated at build time from Debian's os-traits and
// os-resource-classes). A resource class's id is its index; custom classes start at 10000.

#include <string>
#include <vector>

namespace bwfloor::placement {

const std::vector<std::string>& standardTraits();
const std::vector<std::string>& standardResourceClasses();

}  // namespace bwfloor::placement
