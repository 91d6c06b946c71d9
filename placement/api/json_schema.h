#pragma once
// Request validation against OpenStack Placement 8.0's own JSON schemas (schemas/*.inc, generated
// from Debian's python3-placement), reporting what Python's jsonschema 4.10 (Draft 2020-12, with
// a format checker) reports: the best-matching error (jsonschema.exceptions.best_match) as
// str(ValidationError) - the message, the failing keyword with its schema fragment, and the
// instance. Clients match on these texts, so they are reproduced, not paraphrased.
//
// Keywords: the ones Placement's schemas use (type, properties, patternProperties,
// additionalProperties, required, minimum, maximum, minLength, maxLength, pattern, enum, items,
// minItems, uniqueItems, minProperties, format "uuid", anyOf). A schema using any other keyword
// is a programmer error (std::logic_error).

#include <optional>
#include <string>
#include <string_view>

#include "placement/api/python_text.h"

namespace bwfloor::placement::schema {

// Placement's schema by "module.NAME", e.g. "inventory.POST_INVENTORY_SCHEMA". Throws
// std::out_of_range for an unknown name (a programmer error).
const python::Value& named(std::string_view name);

// str() of the error jsonschema.validate() raises for `instance`; nullopt when it is valid.
std::optional<std::string> validate(const python::Value& instance, const python::Value& schema);

}  // namespace bwfloor::placement::schema
