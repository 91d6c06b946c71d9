#pragma once
// The one place a service error becomes an HTTP status (both APIs use it).

#include "placement/model/types.h"

namespace bwfloor::placement {

int httpStatus(Errc errc);

}  // namespace bwfloor::placement
