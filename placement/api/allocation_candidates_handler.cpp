// GET /allocation_candidates: query grammar per microversion (placement-api.md §1.5) and the
// response shapes; the search itself is placement/candidates.

#include <regex>

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"
#include "placement/api/query_parsing.h"
#include "placement/candidates/candidates.h"

namespace bwfloor::placement::handlers {

using json_checks::json;

namespace {

struct ParsedQuery {
  CandidateRequest request;
  std::set<std::string> requestedClasses;
};

ApiError invalidQuery(const std::string& why) {
  return badRequest("Invalid query string parameters: " + why);
}

// Splits "resources_NIC1" into ("resources", "_NIC1"); suffix grammar depends on the version.
bool splitKey(const std::string& key, const Microversion& v, std::string& base,
              std::string& suffix) {
  static const std::regex kNumbered(R"(^(resources|required|member_of|in_tree)([1-9][0-9]*)$)");
  static const std::regex kString(
      R"(^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})$)");
  std::smatch m;
  if (std::regex_match(key, m, v.atLeast(33) ? kString : kNumbered)) {
    base = m[1];
    suffix = m[2];
    return true;
  }
  return false;
}

ApiResult<ParsedQuery> parseQuery(const PlacementModel& model, const RequestContext& ctx,
                                  bool randomize) {
  const Microversion& v = ctx.version;
  ParsedQuery out;
  std::map<std::string, RequestGroup> groups;
  std::map<std::string, bool> hasResources;
  bool groupPolicySet = false;
  int rootRequiredCount = 0;
  for (const auto& [key, value] : ctx.query) {
    std::string base = key;
    std::string suffix;
    bool granular = v.atLeast(25) && splitKey(key, v, base, suffix);
    bool known =
        base == "resources" || (base == "limit" && v.atLeast(16)) ||
        (base == "required" && v.atLeast(17)) || (base == "member_of" && v.atLeast(21)) ||
        (base == "group_policy" && v.atLeast(25)) || (base == "in_tree" && v.atLeast(31)) ||
        (base == "root_required" && v.atLeast(35)) || (base == "same_subtree" && v.atLeast(36));
    if (!known && !granular) {
      return invalidQuery("Additional properties are not allowed ('" + key + "' was unexpected)");
    }
    if (base == "limit") {
      static const std::regex kLimit("^[1-9][0-9]{0,8}$");
      if (!std::regex_match(value, kLimit)) {
        return invalidQuery("'" + value + "' does not match '^[1-9][0-9]*$' for limit");
      }
      out.request.limit = std::stoul(value);
    } else if (base == "group_policy") {
      if (value != "none" && value != "isolate") {
        return invalidQuery("'" + value + "' is not one of ['none', 'isolate'] for group_policy");
      }
      out.request.isolate = value == "isolate";
      groupPolicySet = true;
    } else if (base == "root_required") {
      if (++rootRequiredCount > 1) {
        return ApiError{400, "Query parameter 'root_required' may be specified only once.",
                        "placement.query.duplicate_key"};
      }
      if (value.rfind("in:", 0) == 0) {
        return ApiError{400,
                        "Invalid query string parameters: root_required does not support "
                        "the in: prefix. Got: " +
                            value,
                        "placement.query.bad_value"};
      }
      RETURN_IF_ERROR(query::parseRequired(value, v, out.request.rootRequired));
    } else if (base == "same_subtree") {
      std::vector<std::string> set;
      size_t start = 0;
      while (true) {
        size_t c = value.find(',', start);
        set.push_back(value.substr(start, c == std::string::npos ? std::string::npos : c - start));
        if (c == std::string::npos) break;
        start = c + 1;
      }
      for (const auto& s : set) {
        if (s.empty()) {
          return ApiError{400,
                          "Empty string (unsuffixed group) can not be specified in "
                          "`same_subtree` ",
                          "placement.query.bad_value"};
        }
      }
      out.request.sameSubtree.push_back(std::move(set));
    } else {
      RequestGroup& g = groups[suffix];
      g.suffix = suffix;
      if (base == "resources") {
        ASSIGN_OR_RETURN(g.resources, query::parseResources(value));
        hasResources[suffix] = true;
      } else if (base == "required") {
        if (!v.atLeast(39)) g.traits.clear();
        RETURN_IF_ERROR(query::parseRequired(value, v, g.traits));
      } else if (base == "member_of") {
        if (!v.atLeast(24)) g.memberOf.clear();
        RETURN_IF_ERROR(query::parseMemberOf(value, v, g.memberOf));
      } else if (base == "in_tree") {
        auto uuid = json_checks::normalizeUuid(value);
        if (!uuid) return invalidQuery("'" + value + "' is not a 'uuid' for " + key);
        g.inTree = *uuid;
      }
    }
  }
  if (!v.atLeast(25) && !hasResources[""]) {
    return badRequest("Invalid query string parameters: 'resources' is a required property");
  }
  size_t suffixed = 0;
  bool anyResources = false;
  for (auto& [suffix, g] : groups) {
    if (!suffix.empty()) ++suffixed;
    anyResources |= !g.resources.empty();
    if (g.resources.empty() && !suffix.empty()) {
      bool inSubtree = false;
      for (const auto& set : out.request.sameSubtree) {
        inSubtree |= std::find(set.begin(), set.end(), suffix) != set.end();
      }
      if (!v.atLeast(36) || !inSubtree) {
        return ApiError{400,
                        "Resourceless suffixed group request should be specified in "
                        "`same_subtree` query param: bad group(s) - ['" +
                            suffix + "'].",
                        "placement.query.bad_value"};
      }
    }
  }
  if (!anyResources) {
    return ApiError{400, "At least one request group (`resources` or `resources{N}`) is required.",
                    "placement.query.missing_value"};
  }
  if (suffixed > 1 && !groupPolicySet) {
    return badRequest(
        "The \"group_policy\" parameter is required when specifying more than one "
        "\"resources{N}\" parameter.");
  }
  for (const auto& set : out.request.sameSubtree) {
    for (const auto& s : set) {
      if (!groups.count(s)) {
        return ApiError{
            400,
            "Real suffixes should be specified in `same_subtree`: " + s + " not found in request.",
            "placement.query.bad_value"};
      }
    }
  }
  // Unknown classes and traits are client errors.
  for (auto& [suffix, g] : groups) {
    if (suffix.empty() && g.resources.empty()) continue;  // only filters: ignored, as Placement
    for (const auto& [rc, n] : g.resources) {
      if (!model.resourceClassExists(rc)) {
        return badRequest(
            "Invalid resource class in resources parameter: No such resource "
            "class " +
            rc + ".");
      }
      out.requestedClasses.insert(rc);
    }
    for (const auto& term : g.traits) {
      for (const auto& t : term.anyOf) {
        if (!model.traitExists(t))
          return badRequest("Invalid query string parameters: No such trait(s): " + t);
      }
    }
    out.request.groups.push_back(std::move(g));
  }
  for (const auto& term : out.request.rootRequired) {
    for (const auto& t : term.anyOf) {
      if (!model.traitExists(t)) return badRequest("No such trait(s): " + t);
    }
  }
  out.request.nestedAware = v.atLeast(29);
  out.request.randomize = randomize;
  return out;
}

json summaries(const PlacementModel& model, const RequestContext& ctx, const CandidateResult& r,
               const std::set<std::string>& requested) {
  json out = json::object();
  const auto& providers = model.providersUnlocked();
  const auto& usage = model.usageUnlocked();
  for (const auto& uuid : r.summaryProviders) {
    const Provider& p = providers.at(uuid);
    json resources = json::object();
    auto used = usage.find(uuid);
    for (const auto& [rc, inv] : p.inventories) {
      if (!ctx.version.atLeast(27) && !requested.count(rc)) continue;
      int64_t u = 0;
      if (used != usage.end()) {
        if (auto it = used->second.find(rc); it != used->second.end()) u = it->second;
      }
      resources[rc] = {{"capacity", inv.capacity()}, {"used", u}};
    }
    json s = {{"resources", resources}};
    if (ctx.version.atLeast(17)) s["traits"] = p.traits;
    if (ctx.version.atLeast(29)) {
      s["parent_provider_uuid"] = p.parentUuid.empty() ? json(nullptr) : json(p.parentUuid);
      s["root_provider_uuid"] = p.rootUuid;
    }
    out[uuid] = std::move(s);
  }
  return out;
}

json requestJson(const RequestContext& ctx, const AllocationRequest& req) {
  if (!ctx.version.atLeast(12)) {
    json list = json::array();
    for (const auto& [uuid, amounts] : req.allocations) {
      list.push_back({{"resource_provider", {{"uuid", uuid}}}, {"resources", amounts}});
    }
    return {{"allocations", list}};
  }
  json allocs = json::object();
  for (const auto& [uuid, amounts] : req.allocations) allocs[uuid] = {{"resources", amounts}};
  json out = {{"allocations", allocs}};
  if (ctx.version.atLeast(34)) out["mappings"] = req.mappings;
  return out;
}

}  // namespace

http::Response allocationCandidates(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto parsed = parseQuery(model, ctx, ctx.randomizeCandidates);
  if (!parsed) return errorResponse(ctx, parsed.error());
  json body;
  model.withReadLock([&](const PlacementModel& m) {
    CandidateResult result = findCandidates(m, parsed->request);
    json requests = json::array();
    for (const auto& req : result.requests) requests.push_back(requestJson(ctx, req));
    body = {{"allocation_requests", std::move(requests)},
            {"provider_summaries", summaries(m, ctx, result, parsed->requestedClasses)}};
  });
  return jsonResponse(ctx, 200, body, std::time(nullptr));
}

}  // namespace bwfloor::placement::handlers
