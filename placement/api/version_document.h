#pragma once

#include <string>

namespace bwfloor::placement {

inline constexpr int kMinMinor = 0;
inline constexpr int kMaxMinor = 39;

// Placement's version document, served at GET / without auth (handlers/root.py).
std::string versionDocumentJson();

}  // namespace bwfloor::placement
