#pragma once
// Plain-text tables in the openstack CLI's style, for people; --json is for scripts.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bwfloor::cli {

// A JSON value as a cell: strings bare, null as "None", lists comma-separated, objects compact.
std::string cell(const nlohmann::json& value);
void printTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);
// Field | Value table of an object's members (in the given order, or all when empty).
void printObject(std::ostream& out, const nlohmann::json& object,
                 const std::vector<std::string>& fields = {});

}  // namespace bwfloor::cli
