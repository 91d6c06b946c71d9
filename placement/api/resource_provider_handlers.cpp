// /resource_providers and /resource_providers/{uuid} (Placement's handlers/resource_provider.py).

#include <algorithm>

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"
#include "placement/api/query_parsing.h"

namespace bwfloor::placement::handlers {

using json_checks::json;

std::string providerPath(const std::string& uuid) { return "/resource_providers/" + uuid; }

json providerJson(const RequestContext& ctx, const Provider& p) {
  const std::string self = ctx.prefix + providerPath(p.uuid);
  json links = json::array({{{"rel", "self"}, {"href", self}},
                            {{"rel", "inventories"}, {"href", self + "/inventories"}},
                            {{"rel", "usages"}, {"href", self + "/usages"}}});
  if (ctx.version.atLeast(1))
    links.push_back({{"rel", "aggregates"}, {"href", self + "/aggregates"}});
  if (ctx.version.atLeast(6)) links.push_back({{"rel", "traits"}, {"href", self + "/traits"}});
  if (ctx.version.atLeast(11)) {
    links.push_back({{"rel", "allocations"}, {"href", self + "/allocations"}});
  }
  json out = {{"uuid", p.uuid}, {"name", p.name}, {"generation", p.generation}, {"links", links}};
  if (ctx.version.atLeast(14)) {
    out["parent_provider_uuid"] = p.parentUuid.empty() ? json(nullptr) : json(p.parentUuid);
    out["root_provider_uuid"] = p.rootUuid;
  }
  return out;
}

std::vector<std::string> queryValues(const RequestContext& ctx, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : ctx.query) {
    if (k == key) out.push_back(v);
  }
  return out;
}

ApiStatus checkQueryKeys(const RequestContext& ctx, std::initializer_list<const char*> allowed) {
  for (const auto& entry : ctx.query) {
    const std::string& k = entry.first;
    bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
    if (!ok) {
      return badRequest(
          "Invalid query string parameters: Additional properties are not allowed ('" + k +
          "' was unexpected)");
    }
  }
  return ApiStatus::ok();
}

ApiStatus checkAccept(const RequestContext& ctx) {
  const std::string* accept = ctx.req.headers.find("accept");
  if (!accept || accept->empty()) return ApiStatus::ok();
  if (accept->find("application/json") != std::string::npos ||
      accept->find("application/*") != std::string::npos ||
      accept->find("*/*") != std::string::npos) {
    return ApiStatus::ok();
  }
  return ApiError{Errc::kNotAcceptable, "Only application/json is provided",
                  "placement.undefined_code"};
}

namespace {

// The query parameters each microversion knows on GET /resource_providers.
ApiResult<ProviderFilter> parseProviderFilter(const RequestContext& ctx) {
  const Microversion& v = ctx.version;
  std::vector<const char*> allowed = {"name", "uuid"};
  if (v.atLeast(3)) allowed.push_back("member_of");
  if (v.atLeast(4)) allowed.push_back("resources");
  if (v.atLeast(14)) allowed.push_back("in_tree");
  if (v.atLeast(18)) allowed.push_back("required");
  ProviderFilter f;
  if (!v.atLeast(24) && queryValues(ctx, "member_of").size() > 1) {
    return badRequest("Multiple member_of parameters are not supported");
  }
  for (const auto& entry : ctx.query) {
    const auto& [k, value] = entry;
    if (std::find_if(allowed.begin(), allowed.end(),
                     [&](const char* a) { return entry.first == a; }) == allowed.end()) {
      return badRequest(
          "Invalid query string parameters: Additional properties are not allowed ('" + k +
          "' was unexpected)");
    }
    if (k == "name") {
      f.name = value;
    } else if (k == "uuid" || k == "in_tree") {
      auto uuid = json_checks::normalizeUuid(value);
      if (!uuid) {
        return badRequest("Invalid query string parameters: '" + value + "' is not a 'uuid'");
      }
      (k == "uuid" ? f.uuid : f.inTree) = *uuid;
    } else if (k == "member_of") {
      RETURN_IF_ERROR(query::parseMemberOf(value, v, f.memberOf));
    } else if (k == "resources") {
      ASSIGN_OR_RETURN(f.resources, query::parseResources(value));
    } else if (k == "required") {
      if (!v.atLeast(39)) f.traits.clear();  // before 1.39 only the last one counts
      RETURN_IF_ERROR(query::parseRequired(value, v, f.traits));
    }
  }
  return f;
}

int64_t maxUpdated(const std::vector<Provider>& ps) {
  int64_t t = 0;
  for (const auto& p : ps) t = std::max(t, p.updatedAt);
  return t;
}

}  // namespace

http::Response listProviders(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  const Microversion& v = ctx.version;
  if (auto st =
          json_checks::validateQuery(ctx, v.atLeast(18)   ? "resource_provider.GET_RPS_SCHEMA_1_18"
                                          : v.atLeast(14) ? "resource_provider.GET_RPS_SCHEMA_1_14"
                                          : v.atLeast(4)  ? "resource_provider.GET_RPS_SCHEMA_1_4"
                                          : v.atLeast(3)  ? "resource_provider.GET_RPS_SCHEMA_1_3"
                                                          : "resource_provider.GET_RPS_SCHEMA_1_0");
      !st) {
    return errorResponse(ctx, st.error());
  }
  auto filter = parseProviderFilter(ctx);
  if (!filter) return errorResponse(ctx, filter.error());
  if (auto st = model.validateFilter(*filter); !st) return errorResponse(ctx, st.error());
  auto providers = model.listProviders(*filter);
  json list = json::array();
  for (const auto& p : providers) list.push_back(providerJson(ctx, p));
  return jsonResponse(ctx, 200, {{"resource_providers", list}},
                      providers.empty() ? std::time(nullptr) : maxUpdated(providers));
}

http::Response getProvider(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p)
    return errorResponse(
        ctx, trappedNotFound("No resource provider with uuid " + ctx.param(0) + " found"));
  return jsonResponse(ctx, 200, providerJson(ctx, *p), p->updatedAt);
}

http::Response createProvider(PlacementModel& model, RequestContext& ctx) {
  auto body = json_checks::parseBody(ctx, ctx.version.atLeast(14)
                                              ? "resource_provider.POST_RP_SCHEMA_V1_14"
                                              : "resource_provider.POST_RESOURCE_PROVIDER_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  std::optional<ApiError> err;
  auto fail = [&](const ApiError& e) { return errorResponse(ctx, e); };
  if (auto st = json_checks::requireObject(b, "the request body"); !st) return fail(st.error());
  if (ctx.version.atLeast(14)) {
    if (auto st = json_checks::onlyKeys(b, {"name", "uuid", "parent_provider_uuid"}, "the body");
        !st) {
      return fail(st.error());
    }
  } else if (auto st = json_checks::onlyKeys(b, {"name", "uuid"}, "the body"); !st) {
    return fail(st.error());
  }
  auto name = json_checks::getString(b, "name", 1, 200);
  if (!name) return fail(name.error());
  std::optional<std::string> uuid;
  if (b.contains("uuid")) {
    auto u = json_checks::getUuid(b, "uuid");
    if (!u) return fail(u.error());
    uuid = *u;
  }
  std::optional<std::string> parent;
  if (b.contains("parent_provider_uuid") && !b["parent_provider_uuid"].is_null()) {
    auto u = json_checks::getUuid(b, "parent_provider_uuid");
    if (!u) return fail(u.error());
    parent = *u;
  }
  auto created = model.createProvider(*name, uuid, parent);
  if (!created) return fail(created.error());
  http::Response resp =
      ctx.version.atLeast(20)
          ? jsonResponse(ctx, 200, providerJson(ctx, *created), created->updatedAt)
          : emptyResponse(ctx, 201);
  resp.headers.set("location", absoluteUrl(ctx, ctx.prefix + providerPath(created->uuid)));
  return resp;
}

// Placement looks the provider up (404) before it reads the body (400).
http::Response updateProvider(PlacementModel& model, RequestContext& ctx) {
  if (auto st = json_checks::requireJsonContent(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.getProvider(ctx.param(0))) {
    return errorResponse(
        ctx, trappedNotFound("No resource provider with uuid " + ctx.param(0) + " found"));
  }
  auto body = json_checks::parseBody(ctx, ctx.version.atLeast(14)
                                              ? "resource_provider.PUT_RP_SCHEMA_V1_14"
                                              : "resource_provider.PUT_RESOURCE_PROVIDER_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  auto fail = [&](const ApiError& e) { return errorResponse(ctx, e); };
  if (auto st = json_checks::requireObject(b, "the request body"); !st) return fail(st.error());
  if (ctx.version.atLeast(14)) {
    if (auto st = json_checks::onlyKeys(b, {"name", "parent_provider_uuid"}, "the body"); !st) {
      return fail(st.error());
    }
  } else if (auto st = json_checks::onlyKeys(b, {"name"}, "the body"); !st) {
    return fail(st.error());
  }
  auto name = json_checks::getString(b, "name", 1, 200);
  if (!name) return fail(name.error());
  bool parentGiven = b.contains("parent_provider_uuid");
  std::optional<std::string> parent;
  if (parentGiven && !b["parent_provider_uuid"].is_null()) {
    auto u = json_checks::getUuid(b, "parent_provider_uuid");
    if (!u) return fail(u.error());
    parent = *u;
  }
  auto updated =
      model.updateProvider(ctx.param(0), *name, parent, parentGiven, ctx.version.atLeast(37));
  if (!updated) return fail(updated.error());
  return jsonResponse(ctx, 200, providerJson(ctx, *updated), updated->updatedAt);
}

http::Response deleteProvider(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteProvider(ctx.param(0)); !st) {
    if (st.error().errc == Errc::kNotFound) {  // handlers/resource_provider.py's own 404
      return errorResponse(
          ctx, notFound("No resource provider with uuid " + ctx.param(0) + " found for delete"));
    }
    return errorResponse(ctx, st.error());
  }
  return emptyResponse(ctx, 204);
}

}  // namespace bwfloor::placement::handlers
