#include "placement/api/version_document.h"

#include <nlohmann/json.hpp>

namespace bwfloor::placement {

std::string versionDocumentJson() {
  nlohmann::json doc = {{"versions",
                         {{{"id", "v1.0"},
                           {"min_version", "1." + std::to_string(kMinMinor)},
                           {"max_version", "1." + std::to_string(kMaxMinor)},
                           {"status", "CURRENT"},
                           {"links", {{{"rel", "self"}, {"href", ""}}}}}}}};
  return doc.dump();
}

}  // namespace bwfloor::placement
