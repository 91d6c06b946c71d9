#pragma once
// Python's text forms of JSON values, for error messages that must read exactly as Placement's
// (which come from Python): repr(), pprint.pformat() and int(). Objects are nlohmann's
// ordered_json so that repr() keeps the request's key order, as a Python dict does.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace bwfloor::placement::python {

using Value = nlohmann::ordered_json;

// repr(value): dicts in their own order ("{'b': 1, 'a': 2}").
std::string repr(const Value& value);
// repr(str) for UTF-8 text.
std::string reprString(std::string_view text);
// pprint.pformat(value, width=width): dict keys sorted, long containers one item per line.
std::string pformat(const Value& value, int width = 72);
// len(str): code points of UTF-8 text.
size_t length(std::string_view text);
// int(text) for base 10 as Python 3 parses it: surrounding whitespace, a sign, digits with
// single underscores between them. nullopt when Python raises ValueError (or the number does
// not fit in 64 bits, which no Placement field accepts anyway).
std::optional<int64_t> parseInt(std::string_view text);
// Whether int(text) parses it at all (whatever its size).
bool intSyntax(std::string_view text);
// The ValueError text int() gives for `text`: "invalid literal for int() with base 10: 'x'".
std::string intError(std::string_view text);

}  // namespace bwfloor::placement::python
