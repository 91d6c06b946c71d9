#pragma once
// How deeply a JSON text nests, measured before parsing. nlohmann's parser is iterative but its
// serializer and its users recurse, so a 140 KB body of '[' overflowed the stack when a 400 echoed
// it back. Every JSON from outside is checked against kMaxJsonDepth at the edge.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace bwfloor {

// Far above any Placement or /v1 document (the deepest, a reshaper body, nests 5).
inline constexpr size_t kMaxJsonDepth = 64;

// The deepest nesting of '[' and '{' outside strings. Invalid JSON is measured as far as it goes;
// the parser rejects it afterwards.
size_t jsonNestingDepth(std::string_view text);

inline bool jsonTooDeep(std::string_view text) { return jsonNestingDepth(text) > kMaxJsonDepth; }

// JSON from outside, parsed only within the depth limit: discarded when it is not JSON or nests
// deeper than kMaxJsonDepth. For readers that need no more precise reason.
inline nlohmann::json parseUntrustedJson(std::string_view text) {
  if (jsonTooDeep(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace bwfloor
