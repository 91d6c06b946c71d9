#pragma once
// Query-string grammar shared by GET /resource_providers and GET /allocation_candidates:
// resources=RC:n,..., required=T,!T,in:A,B and member_of=uuid|in:a,b|!uuid|!in:a,b.

#include <string>
#include <vector>

#include "placement/api/request_context.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement::query {

ApiResult<ResourceAmounts> parseResources(const std::string& text);
// Appends AND-terms for one `required` value (forbidden from 1.22, in: from 1.39). A trait both
// required and forbidden is not an error here (GET /resource_providers then finds nothing;
// GET /allocation_candidates refuses it for the whole group).
ApiStatus parseRequired(const std::string& text, const Microversion& v, std::vector<SetTerm>& out);
// Appends the AND-term of one `member_of` value (forbidden from 1.32); `suffix` names the group
// in the error.
ApiStatus parseMemberOf(const std::string& text, const Microversion& v, std::vector<SetTerm>& out,
                        const std::string& suffix = "");

}  // namespace bwfloor::placement::query
