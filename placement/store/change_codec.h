#pragma once
// StoreChanges as the JSON text of a change-log entry (placement/store/pg_change_log.h): what a
// replica applies to its model to follow another replica's write.

#include <string>

#include "core/result.h"
#include "placement/store/store.h"

namespace bwfloor::placement {

std::string encodeStoreChanges(const StoreChanges& changes);
// The error names the field that is missing or of the wrong type.
Result<StoreChanges> decodeStoreChanges(const std::string& text);

}  // namespace bwfloor::placement
